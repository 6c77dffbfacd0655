"""How fast is `difygen validate`? Public tools only; run as `python bench/bench.py`.

Measurements, one function each:
  generate_manifests  a file of a few thousand realistic objects (Deployments, Services,
                      ConfigMaps with distinct names)
  bench_inprocess     difygen in-process: load + schema layer, load + all rules
  bench_kubernetes_validate
                      the same file through `kubernetes-validate --strict -k <version>`
                      (slow: timed once)
  bench_render        hook: `difygen render --all` and `kubectl kustomize` + validation of
                      the three overlays (to be filled in by the render owner)
  bench_fleet         hook: fleet timings

`--quick` uses fewer objects and one repetition.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from generator.manifests import load_paths
from generator.profiles import DEFAULT_KUBERNETES_VERSION
from generator.validate import select_rules, validate_objects

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: dify-api-{i}
  namespace: bench-{ns}
  labels: {{app.kubernetes.io/name: dify-api-{i}, app.kubernetes.io/part-of: dify}}
spec:
  replicas: 2
  strategy: {{type: RollingUpdate, rollingUpdate: {{maxSurge: 1, maxUnavailable: 0}}}}
  selector:
    matchLabels: {{app.kubernetes.io/name: dify-api-{i}}}
  template:
    metadata:
      labels: {{app.kubernetes.io/name: dify-api-{i}}}
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 1001
        fsGroup: 1001
        seccompProfile: {{type: RuntimeDefault}}
      containers:
      - name: api
        image: langgenius/dify-api:1.16.1
        env:
        - {{name: MODE, value: api}}
        - {{name: SERVER_WORKER_AMOUNT, value: "1"}}
        - name: DB_PASSWORD
          valueFrom: {{secretKeyRef: {{name: dify-credentials, key: db-password}}}}
        envFrom:
        - configMapRef: {{name: dify-config-{i}}}
        ports:
        - {{name: http, containerPort: 5001}}
        resources:
          requests: {{cpu: 250m, memory: 1Gi}}
          limits: {{cpu: "1", memory: 2Gi}}
        livenessProbe:
          httpGet: {{path: /health, port: http}}
          periodSeconds: 15
        readinessProbe:
          httpGet: {{path: /health, port: http}}
          periodSeconds: 10
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities: {{drop: [ALL]}}
        volumeMounts:
        - {{name: tmp, mountPath: /tmp}}
      volumes:
      - name: tmp
        emptyDir: {{sizeLimit: 1Gi}}
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: dify-api-{i}
  namespace: bench-{ns}
spec:
  selector: {{app.kubernetes.io/name: dify-api-{i}}}
  ports:
  - {{name: http, port: 5001, targetPort: http}}
"""
CONFIGMAP = """apiVersion: v1
kind: ConfigMap
metadata:
  name: dify-config-{i}
  namespace: bench-{ns}
data:
  SQLALCHEMY_POOL_SIZE: "8"
  SQLALCHEMY_MAX_OVERFLOW: "2"
  LOG_LEVEL: INFO
"""


def generate_manifests(path: Path, objects: int) -> int:
    """Write `objects` objects (a third each of Deployments, Services, ConfigMaps)."""
    docs = []
    for i in range(objects // 3):
        ns = i // 50  # 50 apps per namespace keeps per-namespace rules realistic
        docs.extend(t.format(i=i, ns=ns) for t in (CONFIGMAP, DEPLOYMENT, SERVICE))
    path.write_text("---\n".join(docs), encoding="utf-8")
    return len(docs)


def _best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_inprocess(path: Path, objects: int, version: str, repeat: int) -> dict[str, float]:
    """Objects per second through difygen in-process (load included)."""
    schema_only = select_rules(["schema"])
    validate_objects(load_paths([path])[:10], version, rules=schema_only)  # compile once
    load = _best(lambda: load_paths([path]), repeat)
    schema = _best(lambda: validate_objects(load_paths([path]), version, rules=schema_only),
                   repeat)
    full = _best(lambda: validate_objects(load_paths([path]), version), repeat)
    return {"load": objects / load, "schema": objects / schema, "all_rules": objects / full,
            "schema_seconds": schema, "all_rules_seconds": full}


def bench_kubernetes_validate(path: Path, objects: int, version: str) -> float | None:
    """Seconds for `kubernetes-validate --strict -k <version> file`, run once."""
    exe = shutil.which("kubernetes-validate") or str(
        Path(sys.executable).parent / "kubernetes-validate")
    if not Path(exe).exists():
        return None
    start = time.perf_counter()
    subprocess.run([exe, "--strict", "-k", f"{version}.0", "--quiet", str(path)],
                   check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _tool(name: str) -> str | None:
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which(name, path=search)


def bench_render(quick: bool) -> dict[str, float]:
    """Whole-process `difygen render --all` (which validates everything before writing)
    against the usual hand-rolled gate: `kubectl kustomize` on the three overlays, then
    `kubernetes-validate --strict` on each build. Both start from a fresh process."""
    difygen, kubectl, kv = _tool("difygen"), _tool("kubectl"), _tool("kubernetes-validate")
    if not (difygen and kubectl and kv):
        return {}
    repeat = 1 if quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "output"

        def ours() -> None:
            shutil.rmtree(out, ignore_errors=True)
            subprocess.run([difygen, "render", "--all", "--out", str(out)], check=True,
                           capture_output=True)

        ours_seconds = _best(ours, repeat)

        def theirs() -> None:
            for name in ("edge", "small", "production"):
                built = subprocess.run(
                    [kubectl, "kustomize", str(out / "kustomize" / "overlays" / name)],
                    check=True, capture_output=True, text=True).stdout
                path = Path(tmp) / f"{name}.yaml"
                path.write_text(built)
                # kubernetes-validate exits 1 on a finding; either way it validated.
                subprocess.run([kv, "--strict", "-k", DEFAULT_KUBERNETES_VERSION + ".0",
                                "--quiet", str(path)], check=False, capture_output=True)

        theirs_seconds = _best(theirs, 1)
    return {"render --all (difygen, whole process)": ours_seconds,
            "kustomize + kubernetes-validate (3 overlays)": theirs_seconds,
            "speed-up (x)": theirs_seconds / ours_seconds}


def write_bench_fleet(root: Path, environments: int, distinct: bool) -> Path:
    """A fleet file of `environments` environments over the built-in profiles and a custom
    one. Typical: a handful of sizings shared by many environments (names, namespaces,
    hosts and clusters differ). Distinct: every environment has its own storage class, so
    nothing is shared (the worst case: every overlay rendered and validated)."""
    profiles_d = root / "profiles.d"
    profiles_d.mkdir(parents=True, exist_ok=True)
    (profiles_d / "team.yaml").write_text(
        "description: bench team profile\nextends: small\ncomponents:\n  worker:\n"
        "    autoscaling: {minReplicas: 1, maxReplicas: 3, "
        "targetCPUUtilizationPercentage: 70}\n", encoding="utf-8")
    lines = ["profilesDir: profiles.d", "repoURL: https://git.example.com/gitops.git",
             "argocd: {}", "flux: {sourceRef: {name: gitops}}", "environments:"]
    profiles = ("edge", "small", "production", "team")
    for i in range(environments):
        profile = profiles[i % 4]
        lines += [f"  - name: env-{i:04d}", f"    profile: {profile}",
                  f"    namespace: dify-{i:04d}", f"    hosts: [env-{i:04d}.example.com]"]
        if distinct:
            lines.append(f"    storageClass: sc-{i:04d}")
        elif (i // 4) % 2:
            lines.append("    storageClass: fast-ssd")
        if i % 3 == 0:
            lines.append(f"    cluster: {{server: 'https://c{i % 5}.example.com'}}")
    path = root / "fleet.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def fleet_render_timings(sizes: tuple[int, ...], distinct: bool,
                         repeat: int) -> dict[int, float]:
    """Milliseconds per environment of an in-process fleet render (load, plan, render,
    validate, Argo CD and Flux objects; nothing written), after start-up."""
    from generator.fleet import render_fleet

    per_env: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        render_fleet(write_bench_fleet(Path(tmp) / "warm", 8, distinct))  # start-up
        for size in sizes:
            path = write_bench_fleet(Path(tmp) / str(size), size, distinct)
            seconds = _best(lambda path=path: render_fleet(path), repeat)  # type: ignore[misc]
            per_env[size] = seconds * 1000 / size
    return per_env


def bench_fleet(quick: bool) -> dict[str, float]:
    """Fleet render time per environment for 10, 100 and 500 environments (typical fleet:
    shared sizings) and for fleets where every environment's sizing differs."""
    sizes = (10, 100) if quick else (10, 100, 500)
    out: dict[str, float] = {}
    for label, distinct in (("typical", False), ("all distinct", True)):
        timings = fleet_render_timings(sizes, distinct, 1 if quick or distinct else 3)
        print(f"fleet render, {label}: " + ", ".join(
            f"{n} envs {ms:.1f} ms/env" for n, ms in timings.items()))
        for n, ms in timings.items():
            out[f"{label}, {n} environments"] = ms * n / 1000
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer objects, one repetition")
    parser.add_argument("--objects", type=int, default=None)
    parser.add_argument("--kube-version", default=DEFAULT_KUBERNETES_VERSION)
    parser.add_argument("--skip-kubernetes-validate", action="store_true")
    args = parser.parse_args(argv)
    objects = args.objects or (600 if args.quick else 3000)
    repeat = 1 if args.quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        count = generate_manifests(path, objects)
        size = path.stat().st_size
        print(f"{count} objects, {size / 1e6:.1f} MB, Kubernetes {args.kube_version}")
        rates = bench_inprocess(path, count, args.kube_version, repeat)
        print(f"load only:                 {rates['load']:8.0f} objects/s")
        print(f"load + schema:             {rates['schema']:8.0f} objects/s "
              f"({rates['schema_seconds']:.2f} s)")
        print(f"load + all rules:          {rates['all_rules']:8.0f} objects/s "
              f"({rates['all_rules_seconds']:.2f} s)")
        if not args.skip_kubernetes_validate:
            seconds = bench_kubernetes_validate(path, count, args.kube_version)
            if seconds is None:
                print("kubernetes-validate: not installed")
            else:
                print(f"kubernetes-validate:       {count / seconds:8.0f} objects/s "
                      f"({seconds:.2f} s)")
                print(f"speed-up, schema layer:    {seconds / rates['schema_seconds']:8.1f}x")
                print(f"speed-up, all rules:       "
                      f"{seconds / rates['all_rules_seconds']:8.1f}x")
    for name, figures in (("render", bench_render(args.quick)),
                          ("fleet", bench_fleet(args.quick))):
        for key, value in figures.items():
            unit = "" if key.endswith("(x)") else " s"
            print(f"{name} {key}: {value:.2f}{unit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
