"""`difygen explain`: a profile's sizing as a table a person can check at a glance."""

from __future__ import annotations

from fractions import Fraction

from generator.catalog import VECTOR_STORES
from generator.plan import Plan
from generator.quantity import format_cpu, format_memory, mebibytes
from generator.tunables import (
    API_POOL_MARGIN,
    CONNECTION_BUDGET,
    DIFY_DEFAULT_MAX_OVERFLOW,
    DIFY_DEFAULT_POOL_SIZE,
    MAX_CONNECTIONS_PER_POOL,
    SERVER_WORKER_CONNECTIONS,
)

# docs.k3s.io/reference/resource-profiling: "K3s server with a workload", minimum RAM
# with the embedded SQLite datastore (1606 M with etcd).
K3S_SERVER_WITH_WORKLOAD_MB = 1596


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
    outside = {"postgres": p.external_postgres is not None,
               "redis": p.external_redis is not None,
               p.vector_database: p.external_vector_store is not None}
    # In-cluster vector stores the profile does not choose are not "turned off".
    unchosen = {s.component for s in VECTOR_STORES if s.kind != p.vector_database}
    off = [c.name for c in p.components.values()
           if not c.enabled and not outside.get(c.name) and c.name not in unchosen]
    if off:
        lines.append(f"turned off: {', '.join(off)}")
    external = [name for name, out in outside.items() if out]
    if external:
        lines.append(f"outside the cluster (not deployed): {', '.join(external)}")
    if p.ingress.enabled and p.public_origin:
        lines.append(f"ingress: {', '.join(p.ingress.hosts)} (public origin "
                     f"{p.public_origin})")
    b = plan.budget
    declared = ("" if p.external_postgres is None else
                " declared for the external database" if p.external_postgres.max_connections
                else ", the declared PgBouncer pool size")
    lines += ["", f"database connections at maximum scale plus rollout surge: {b.used} of "
                  f"{b.allowed} allowed ({int(CONNECTION_BUDGET * 100)}% of max_connections "
                  f"{b.max_connections}{declared})"]
    for use in b.uses:
        pods = (f"({use.max_replicas} + {use.surge_replicas} surge)" if use.surge_replicas
                else str(use.max_replicas))
        lines.append(f"  {use.component}: {pods} pods x {use.pools_per_replica} "
                     f"process(es) x {use.connections_per_pool} = {use.total}")
    tun = plan.tunables
    per_process = tun.sqlalchemy_pool_size + tun.sqlalchemy_max_overflow
    lines.append(f"  each api process: pool {tun.sqlalchemy_pool_size} + overflow "
                 f"{tun.sqlalchemy_max_overflow} = {per_process} connections for "
                 f"{tun.server_worker_connections} requests at once "
                 f"(SERVER_WORKER_CONNECTIONS) + {API_POOL_MARGIN} for its own greenlets")
    if per_process < MAX_CONNECTIONS_PER_POOL:
        lines.append(f"  note: pools are below Dify's default ({DIFY_DEFAULT_POOL_SIZE} + "
                     f"{DIFY_DEFAULT_MAX_OVERFLOW}) so that every pool fits the budget at "
                     "maximum scale")
    if tun.server_worker_connections < SERVER_WORKER_CONNECTIONS:
        lines.append(f"  note: SERVER_WORKER_CONNECTIONS lowered from Dify's "
                     f"{SERVER_WORKER_CONNECTIONS} to {tun.server_worker_connections} to "
                     "match the pool; raise the Postgres memory limit or lower maxReplicas "
                     "to serve more requests per process")
    if p.worker_pools is not None:
        wp = p.worker_pools
        lines += ["", f"worker pools (KEDA ScaledObjects on the Redis list length of each queue "
                      f"in broker db {p.broker_database}, polled every "
                      f"{wp.polling_interval_seconds}s; the worker HPA is replaced):"]
        for pool in wp.pools:
            per = pool.tasks_per_replica or plan.tunables.celery_worker_amount
            zero = (f", scales to zero after {wp.cooldown_period_seconds}s idle"
                    if pool.min_replicas == 0 else "")
            lines.append(f"  {pool.name}: {pool.min_replicas}-{pool.max_replicas} replicas, "
                         f"one per {per} queued tasks{zero}: {', '.join(pool.queues)}")
    if p.monitoring.enabled:
        from generator.targets.monitoring import alerts

        lines += ["", "monitoring (Prometheus Operator): exporters postgres-exporter, "
                      "redis-exporter; PodMonitor for weaviate; alerts:"]
        for rule in alerts(plan):
            lines.append(f"  {rule['alert']} (for {rule['for']}): {rule['expr']}")
    lines += ["", "derived settings:"]
    # Server settings only for servers difygen runs.
    server_env = {**(tun.postgres_env() if p.components["postgres"].enabled else {}),
                  **(tun.redis_env() if p.components["redis"].enabled else {})}
    for key, value in {**tun.api_env(), **tun.plugin_env(), **server_env,
                       **tun.derived_env()}.items():
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
        reserve_mb = p.node.memory * p.node.reserved_percent / 100 / 10**6
        if reserve_mb < K3S_SERVER_WITH_WORKLOAD_MB:
            lines.append(f"  note: the reserve ({int(reserve_mb)} MB) is below the "
                         f"{K3S_SERVER_WITH_WORKLOAD_MB} MB k3s documents for a server that "
                         "also runs workloads; raise node.reservedPercent")
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

