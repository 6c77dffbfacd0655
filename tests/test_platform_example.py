"""docs/examples/profiles/platform.yaml: production with KEDA worker pools and monitoring.

Rendered, written, built with the real kustomize, and checked on the built objects.
"""

from __future__ import annotations

import re
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import crd_schemas
from generator.k8s_schemas import schema_set
from generator.profile_load import find
from generator.queues import DEFAULT_QUEUES
from generator.render import RenderResult, render
from generator.writer import write_tree
from tests.k8s import key

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples" / "profiles"
Obj = dict[str, Any]


@pytest.fixture(scope="module")
def platform() -> RenderResult:
    return render([find("platform", EXAMPLES)])


@pytest.fixture(scope="module")
def built(platform: RenderResult, kubectl: str,
          tmp_path_factory: pytest.TempPathFactory) -> list[Obj]:
    out = tmp_path_factory.mktemp("platform") / "output"
    write_tree(out, platform.files, platform.managed)
    proc = subprocess.run([kubectl, "kustomize", str(out / "kustomize/overlays/platform")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def of(objs: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objs if o["kind"] == kind]


def named(objs: list[Obj], kind: str, name: str) -> Obj:
    return next(o for o in of(objs, kind) if o["metadata"]["name"] == name)


@pytest.mark.kustomize
def test_build_equals_in_memory_and_passes_strict_schemas(
        built: list[Obj], platform: RenderResult) -> None:
    assert sorted(built, key=key) == sorted(platform.profiles[0].overlay.objects, key=key)
    schemas = schema_set("1.35")
    for obj in built:
        if schemas.knows(obj["apiVersion"], obj["kind"]):
            assert schemas.validate(obj) == [], key(obj)
        else:
            crd = crd_schemas.schema_name(obj["apiVersion"], obj["kind"])
            assert crd is not None, key(obj)
            assert crd_schemas.errors(crd, obj) == [], key(obj)


@pytest.mark.kustomize
def test_worker_pools_are_scaled_by_redis_list_length(built: list[Obj]) -> None:
    scaled = of(built, "ScaledObject")
    assert {s["metadata"]["name"] for s in scaled} == {
        "dify-worker-dataset", "dify-worker-workflow", "dify-worker-background"}
    assert not any(d["metadata"]["name"] == "dify-worker" for d in of(built, "Deployment"))
    assert not any(h["metadata"]["name"] == "dify-worker"
                   for h in of(built, "HorizontalPodAutoscaler"))
    auth = named(built, "TriggerAuthentication", "dify-redis-broker")
    assert auth["spec"]["secretTargetRef"] == [
        {"parameter": "password", "name": "dify-secrets", "key": "REDIS_PASSWORD"}]
    consumed: list[str] = []
    for so in scaled:
        target = named(built, "Deployment", so["spec"]["scaleTargetRef"]["name"])
        env = {e["name"]: e.get("value") for e in target["spec"]["template"]["spec"][
            "containers"][0]["env"]}
        queues = env["CELERY_WORKER_QUEUES"].split(",")
        consumed += queues
        triggers = so["spec"]["triggers"]
        assert triggers and all(t["type"] == "redis" for t in triggers)
        # one trigger per queue the Deployment consumes, on the broker database (db 1)
        assert sorted(t["metadata"]["listName"] for t in triggers) == sorted(queues)
        assert all(t["metadata"]["databaseIndex"] == "1" for t in triggers)
        assert all(t["metadata"]["address"] == "dify-redis:6379" for t in triggers)
        assert all(t["authenticationRef"]["name"] == "dify-redis-broker" for t in triggers)
        assert "replicas" not in target["spec"]
        assert so["spec"]["maxReplicaCount"] >= max(1, so["spec"]["minReplicaCount"])
        behavior = so["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
        assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= 300
        if so["spec"]["minReplicaCount"] == 0:
            assert set(queues) <= {"ops_trace", "app_deletion", "retention"}
    assert sorted(consumed) == sorted(DEFAULT_QUEUES)


def _max_pods(built: list[Obj], workload: Obj) -> int:
    name = workload["metadata"]["name"]
    for so in of(built, "ScaledObject"):
        if so["spec"]["scaleTargetRef"]["name"] == name:
            return int(so["spec"]["maxReplicaCount"])
    for hpa in of(built, "HorizontalPodAutoscaler"):
        if hpa["spec"]["scaleTargetRef"]["name"] == name:
            return int(hpa["spec"]["maxReplicas"])
    return int(workload["spec"].get("replicas", 1))


@pytest.mark.kustomize
def test_connections_at_maximum_plus_surge_fit_80_percent(built: list[Obj]) -> None:
    cfg = named(built, "ConfigMap", "dify-config")["data"]
    per_pool = int(cfg["SQLALCHEMY_POOL_SIZE"]) + int(cfg["SQLALCHEMY_MAX_OVERFLOW"])
    plugin = int(named(built, "ConfigMap", "dify-plugin-daemon-config")["data"][
        "DB_MAX_OPEN_CONNS"])
    total = 0
    for d in of(built, "Deployment"):
        c = d["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        top = _max_pods(built, d)
        rolling = d["spec"]["strategy"]["type"] == "RollingUpdate"
        pods = top + (int(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"]) if rolling else 0)
        if c["image"].startswith("langgenius/dify-api:"):
            processes = int(cfg["SERVER_WORKER_AMOUNT"]) if env.get("MODE") == "api" and (
                "SERVER_WORKER_AMOUNT" not in env) else 1
            total += pods * processes * per_pool
        elif c["image"].startswith("langgenius/dify-plugin-daemon:"):
            total += pods * plugin
    max_connections = int(named(built, "ConfigMap", "dify-postgres-config")["data"][
        "POSTGRES_MAX_CONNECTIONS"])
    assert 0 < total <= Fraction(8, 10) * max_connections, (total, max_connections)
    assert per_pool >= int(cfg["SERVER_WORKER_CONNECTIONS"]) + 2


@pytest.mark.kustomize
def test_monitoring_objects(built: list[Obj]) -> None:
    monitors = of(built, "ServiceMonitor") + of(built, "PodMonitor")
    assert {m["metadata"]["name"] for m in of(built, "ServiceMonitor")} == {
        "dify-postgres-exporter", "dify-redis-exporter"}
    assert [m["metadata"]["name"] for m in of(built, "PodMonitor")] == ["dify-weaviate"]
    for mon in monitors:
        assert mon["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert mon["spec"]["namespaceSelector"] == {"matchNames": ["dify"]}
    for svc_mon in of(built, "ServiceMonitor"):
        svc = named(built, "Service", svc_mon["metadata"]["name"])
        assert svc["spec"]["selector"].items() >= svc_mon["spec"]["selector"][
            "matchLabels"].items()
        assert "metrics" in [p["name"] for p in svc["spec"]["ports"]]
    weaviate = named(built, "StatefulSet", "dify-weaviate")["spec"]["template"]["spec"][
        "containers"][0]
    assert {"name": "PROMETHEUS_MONITORING_ENABLED", "value": "true"} in weaviate["env"]
    assert "metrics" in [p["name"] for p in weaviate["ports"]]
    rules = of(built, "PrometheusRule")
    assert len(rules) == 1
    alerts = {r["alert"]: r for g in rules[0]["spec"]["groups"] for r in g["rules"]}
    assert len(alerts) >= 5
    # thresholds follow the plan, recomputed here from the built ConfigMaps
    max_connections = int(named(built, "ConfigMap", "dify-postgres-config")["data"][
        "POSTGRES_MAX_CONNECTIONS"])
    pg = alerts["DifyPostgresConnectionsHigh"]
    assert int(re.findall(r"> (\d+)$", pg["expr"])[0]) == -(-9 * max_connections // 10)
    maxmemory = int(named(built, "ConfigMap", "dify-redis-config")["data"][
        "REDIS_MAXMEMORY"].removesuffix("mb")) * 2**20
    redis = alerts["DifyRedisMemoryNearMaxmemory"]
    assert int(re.findall(r"> (\d+)$", redis["expr"])[0]) == -(-9 * maxmemory // 10)
    assert alerts["DifyApi5xxRateHigh"]["for"] == "5m" and "> 0.01" in alerts[
        "DifyApi5xxRateHigh"]["expr"]
    at_max = alerts["DifyAutoscalerAtMaximum"]
    assert at_max["for"] == "15m"
    for name in ("dify-api", "dify-worker-dataset", "dify-worker-background"):
        assert name in at_max["expr"]
    assert "OOMKilled" in alerts["DifyContainerOOMKilled"]["expr"]
    assert any(a.startswith("DifyCeleryBacklogGrowing") for a in alerts)
    assert "> 0.85" in alerts["DifyVolumeAlmostFull"]["expr"]
    dashboard = named(built, "ConfigMap", "dify-grafana-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"


@pytest.mark.kustomize
def test_exporters_are_hardened(built: list[Obj]) -> None:
    for name in ("dify-postgres-exporter", "dify-redis-exporter"):
        pod = named(built, "Deployment", name)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        c = pod["containers"][0]
        sec = c["securityContext"]
        assert sec["readOnlyRootFilesystem"] is True
        assert sec["allowPrivilegeEscalation"] is False
        assert sec["capabilities"] == {"drop": ["ALL"]}
        assert c["resources"]["requests"] and c["resources"]["limits"]
        assert "livenessProbe" in c and "readinessProbe" in c
        assert all("value" not in e or "PASS" not in e["name"] for e in c["env"])


@pytest.mark.kustomize
def test_kubeconform_accepts_the_platform_overlay_with_exported_schemas(
        platform: RenderResult, kubectl: str, kubeconform: Path, tmp_path: Path) -> None:
    """The documented kubeconform command, CRDs included (docs/validate.md); kubeconform
    is the pinned one the engine tooling builds (tests/engines/tools.py)."""
    from generator.schemas_export import export_schemas

    tool = str(kubeconform)
    out = tmp_path / "output"
    write_tree(out, platform.files, platform.managed)
    export_schemas("1.35", tmp_path / "schemas")
    built = subprocess.run([kubectl, "kustomize", str(out / "kustomize/overlays/platform")],
                           capture_output=True, text=True, timeout=120, check=True).stdout
    location = str(tmp_path / "schemas") + "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    proc = subprocess.run([tool, "-strict", "-summary", "-schema-location", location],
                          input=built, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Invalid: 0, Errors: 0, Skipped: 0" in proc.stdout, proc.stdout
    # and a broken custom resource is caught
    broken = built.replace("maxReplicaCount:", "maxReplicas:", 1)
    proc = subprocess.run([tool, "-strict", "-schema-location", location], input=broken,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode != 0 and "ScaledObject" in proc.stdout, proc.stdout
