"""`difygen explain`: a profile's sizing as a table a person can check at a glance."""

from __future__ import annotations

from fractions import Fraction

from generator.plan import Plan
from generator.quantity import format_cpu, format_memory, mebibytes
from generator.tunables import CONNECTION_BUDGET


def _mem(value: Fraction) -> str:
    return format_memory(value) if value else "-"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def explain(plan: Plan, helm_gaps: tuple[str, ...] = ()) -> str:
    p = plan.profile
    lines = [
        f"profile {p.name}: {p.description}".rstrip(": "),
        f"chain: {' -> '.join(p.chain)}",
        f"kubernetes {p.kubernetes_version}, namespace {p.namespace}, files in "
        f"{p.file_storage.backend} storage, vector database {p.vector_database}",
        f"public URL: {p.public_url}" if p.public_url else
        "public URL: none (same origin: the browser calls the host it loaded Dify from)",
        "",
    ]
    rows = [["component", "replicas", "hpa target", "requests", "limits", "storage"]]
    for comp, s in plan.components():
        sc = s.scaling
        replicas = f"{sc.min_replicas}-{sc.max_replicas}" if sc.autoscale else str(
            sc.min_replicas)
        targets = []
        if sc.target_cpu_percent:
            targets.append(f"cpu {sc.target_cpu_percent}%")
        if sc.target_memory_percent:
            targets.append(f"mem {sc.target_memory_percent}%")
        storage = "-"
        if s.persistence is not None and (comp.stateful or plan.shared_volume_for(
                comp.name) == comp.name):
            storage = (f"{format_memory(s.persistence.size)} {s.persistence.storage_class} "
                       f"{s.persistence.access_mode}")
        r = s.resources
        rows.append([
            comp.name, replicas, ", ".join(targets) or "-",
            f"{format_cpu(r.requests.cpu)} / {format_memory(r.requests.memory)}",
            f"{format_cpu(r.limits.cpu)} / {format_memory(r.limits.memory)}",
            storage,
        ])
    for label, t in (("total at minimum", plan.at_min), ("total at maximum", plan.at_max)):
        rows.append([label, f"{t.pods} pods", "",
                     f"{format_cpu(t.requests.cpu)} / {format_memory(t.requests.memory)}",
                     f"{format_cpu(t.limits.cpu)} / {format_memory(t.limits.memory)}",
                     _mem(plan.storage)])
    lines += _table(rows)
    off = [c.name for c in p.components.values() if not c.enabled]
    if off:
        lines.append(f"turned off: {', '.join(off)}")
    b = plan.budget
    lines += ["", f"database connections at maximum scale: {b.used} of {b.allowed} allowed "
                  f"({int(CONNECTION_BUDGET * 100)}% of max_connections {b.max_connections})"]
    for use in b.uses:
        lines.append(f"  {use.component}: {use.max_replicas} replicas x "
                     f"{use.pools_per_replica} process(es) x {use.connections_per_pool} "
                     f"= {use.total}")
    tun = plan.tunables
    lines += ["", "derived settings:"]
    for key, value in {**tun.api_env(), **tun.plugin_env(), **tun.postgres_env(),
                       **tun.redis_env(), **tun.derived_env()}.items():
        lines.append(f"  {key}={value}")
    lines.append(f"  postgres /dev/shm: {tun.postgres_shm_mb}Mi (memory-backed)")
    lines += ["", "shutdown (terminationGracePeriodSeconds, preStop):"]
    for comp, _ in plan.components():
        sd = comp.shutdown
        grace = tun.grace_seconds(sd.drain, sd.pre_stop_seconds, sd.seconds)
        if grace != 30 or sd.pre_stop_seconds:
            stop = f", preStop sleep {sd.pre_stop_seconds}s" if sd.pre_stop_seconds else ""
            lines.append(f"  {comp.name}: {grace}s{stop}")
    lines += ["", "migrations: one Job per release (MODE=migration) before the rollout; "
                  "migrations are off in the api (docs/migrations.md)"]
    if plan.quota is not None:
        q = plan.quota
        lines += ["", f"resource quota (maximum scale + one surge pod per rolling update + the "
                      f"migration Job + "
                      f"{p.quota.headroom_percent}%): requests {format_cpu(q.requests_cpu)} / "
                      f"{format_memory(q.requests_memory)}, limits {format_cpu(q.limits_cpu)} "
                      f"/ {format_memory(q.limits_memory)}, {q.pods} pods, "
                      f"{q.persistentvolumeclaims} volume claims, "
                      f"{format_memory(q.requests_storage)} storage"]
    if p.node is not None:
        usable = p.node.cpu * (100 - p.node.reserved_percent) / 100
        usable_mem = p.node.memory * (100 - p.node.reserved_percent) / 100
        lines += ["", f"node: {format_cpu(p.node.cpu)} CPU / {format_memory(p.node.memory)}, "
                      f"{p.node.reserved_percent}% reserved: requests at maximum scale use "
                      f"{format_cpu(plan.at_max.requests.cpu)} of {format_cpu(usable)} CPU and "
                      f"{format_memory(plan.at_max.requests.memory)} of "
                      f"{mebibytes(usable_mem)}Mi"]
    exceptions = [(c.name, c.security.exception.reason) for c, _ in plan.components()
                  if c.security.exception is not None]
    if exceptions:
        lines += ["", "security exceptions (Pod Security Standards 'restricted'):"]
        lines += [f"  {name}: {reason}" for name, reason in exceptions]
    writable = [(c.name, c.security.writable_root_reason) for c, _ in plan.components()
                if not c.security.read_only_root and c.security.exception is None]
    if writable:
        lines += ["", "writable root filesystems (allowed by 'restricted', noted as a gap):"]
        lines += [f"  {name}: {reason}" for name, reason in writable]
    if helm_gaps:
        lines += ["", "what the Helm values cannot carry (use the Kustomize overlay for it):"]
        lines += [f"  - {gap}" for gap in helm_gaps]
    return "\n".join(lines) + "\n"

