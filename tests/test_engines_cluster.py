"""The built overlays on a real control plane: kube-apiserver (validation, Pod Security and
ResourceQuota admission), kube-controller-manager, kube-scheduler, with kwok nodes.

Every assertion reads what the engines returned: API responses and warnings, pod phases and
conditions, scheduler and controller events, PodDisruptionBudget status. The session starts
one control plane (tests/conftest.py `cluster`); each test starts from a cluster without
difygen namespaces or test nodes (`fresh`).

The migration Job's order before the api rollout (issue 7) is tests/test_engines_migrations.py.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from engines.cluster import API, Cluster
from engines.deploy import (
    POOLS,
    NodeSize,
    add_nodes,
    apply_all,
    build,
    diagnose,
    ensure_storage,
    nodes_ready,
    provision,
    reset,
    scale,
    wait_available,
)

from generator.catalog import CATALOG
from generator.versions import DEFAULT_KUBERNETES_VERSION

REPO = Path(__file__).resolve().parent.parent
OVERLAYS = REPO / "output" / "kustomize" / "overlays"
MANAGER = "difygen-tests"
# Components whose departure from "restricted" the catalog declares, with the reason.
EXCEPTED = {c.name for c in CATALOG if c.security.exception is not None}

pytestmark = [pytest.mark.engines, pytest.mark.slow]
Obj = dict[str, Any]


@pytest.fixture
def fresh(cluster: Cluster) -> Cluster:
    reset(cluster)
    return cluster


def _namespace(objs: list[Obj]) -> str:
    names = [o["metadata"]["name"] for o in objs if o["kind"] == "Namespace"]
    assert len(names) == 1
    return names[0]


def _node_size(api: API, profile: str, namespace: str) -> NodeSize:
    """The profile's declared node(s): edge's from its applied `difygen-node` ConfigMap."""
    if profile in POOLS:
        return NodeSize(*POOLS[profile])
    node = api.get(f"/api/v1/namespaces/{namespace}/configmaps/difygen-node")["data"]
    return NodeSize(1, node["cpu"], node["memory"], 1, int(node["reservedPercent"]))


def deployed(cluster: Cluster, kubectl: str, overlay: Path, profile: str,
             size: NodeSize | None = None) -> tuple[list[Obj], str, list[tuple[Obj, Any]]]:
    """Apply an overlay, add its nodes, wait for every workload to be Available."""
    objs = build(kubectl, str(overlay))
    namespace = _namespace(objs)
    ensure_storage(cluster.api, objs)
    results = apply_all(cluster.api, objs, MANAGER)
    failed = [(o["kind"], o["metadata"]["name"], r.status, r.body.get("message"))
              for o, r in results if r.status >= 300]
    assert not failed, failed
    nodes = add_nodes(cluster.api, f"{profile}-node",
                      size or _node_size(cluster.api, profile, namespace))
    cluster.wait(lambda: nodes_ready(cluster.api, nodes), "kwok to make the nodes Ready", 60)
    return objs, namespace, results


def _component(obj: Obj) -> str:
    labels: dict[str, str] = obj["metadata"].get("labels", {})
    return labels.get("app.kubernetes.io/component", "")


def _owned_by_job(pod: dict[str, Any]) -> bool:
    return any(o.get("kind") == "Job" for o in pod["metadata"].get("ownerReferences", []))


def _pods(api: API, namespace: str) -> list[Obj]:
    return [p for p in api.list("v1", "Pod", namespace)
            if not p["metadata"].get("deletionTimestamp")]


def _condition(obj: Obj, kind: str) -> Obj | None:
    for condition in obj.get("status", {}).get("conditions", []):
        if condition["type"] == kind:
            return condition  # type: ignore[no-any-return]
    return None


# ---------------------------------------------------------------------------------- tests

def test_control_plane_runs_the_pinned_kubernetes(cluster: Cluster) -> None:
    version = cluster.api.get("/version")
    assert f"{version['major']}.{version['minor']}" == DEFAULT_KUBERNETES_VERSION
    assert cluster.api.request("GET", "/readyz").status == 200


@pytest.mark.parametrize("profile", ["edge", "small", "production"])
def test_overlay_applies_and_runs(fresh: Cluster, kubectl: str, profile: str) -> None:
    """Server-side apply under the rendered Pod Security labels; kwok nodes; all Available."""
    api = fresh.api
    objs, namespace, results = deployed(fresh, kubectl, OVERLAYS / profile, profile)
    # Only the declared exception draws Pod Security warnings (warn=restricted), and it does.
    warned = {(o["kind"], o["metadata"]["name"]): r.warnings for o, r in results if r.warnings}
    expected = {(o["kind"], o["metadata"]["name"]) for o in objs
                if _component(o) in EXCEPTED and "template" in o.get("spec", {})}
    assert expected, "the catalog declares an exception the overlay does not render"
    assert set(warned) == expected, warned
    for warnings in warned.values():
        assert all("PodSecurity" in w and '"restricted' in w for w in warnings), warnings
    # The namespace enforces what the overlay says, and the API server enforces it.
    labels = api.get(f"/api/v1/namespaces/{namespace}")["metadata"]["labels"]
    level = labels["pod-security.kubernetes.io/enforce"]
    # NET_ADMIN is outside baseline's capability set (and so outside restricted's).
    beyond = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "probe"},
              "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                       "securityContext": {"capabilities": {
                                           "add": ["NET_ADMIN"]}}}]}}
    denied = api.request("POST", f"/api/v1/namespaces/{namespace}/pods?dryRun=All", beyond)
    assert denied.status == 403, denied.body
    assert f'violates PodSecurity "{level}' in denied.body["message"]

    wait_available(fresh, namespace)
    # The migration Job runs to completion (kwok completes its pod).
    jobs = api.list("batch/v1", "Job", namespace)
    assert [j["metadata"]["name"].startswith("dify-migrate-") for j in jobs] == [True]
    job_path = f"/apis/batch/v1/namespaces/{namespace}/jobs/{jobs[0]['metadata']['name']}"
    deadline = time.monotonic() + 120
    while not api.get(job_path).get("status", {}).get("succeeded"):
        assert time.monotonic() < deadline, api.get(job_path).get("status")
        time.sleep(1)
    pods = _pods(api, namespace)
    assert pods
    for pod in pods:
        # The migration Job's pod runs to completion (kwok completes Job pods); every
        # other pod keeps running.
        want = "Succeeded" if _owned_by_job(pod) else "Running"
        assert pod["status"]["phase"] == want, pod["metadata"]["name"]
        scheduled = _condition(pod, "PodScheduled")
        assert scheduled and scheduled["status"] == "True", pod["metadata"]["name"]
    # Every claim bound by the PersistentVolume controller.
    claims = api.list("v1", "PersistentVolumeClaim", namespace)
    assert claims and all(c["status"]["phase"] == "Bound" for c in claims)


def _scale_to_max(fresh: Cluster, namespace: str) -> dict[str, int]:
    """Every HPA's target at maxReplicas, through the scale subresource the HPA uses."""
    api = fresh.api
    hpas = api.list("autoscaling/v2", "HorizontalPodAutoscaler", namespace)
    assert hpas
    wanted = {}
    for hpa in hpas:
        target = hpa["spec"]["scaleTargetRef"]
        answer = scale(api, target, namespace, hpa["spec"]["maxReplicas"])
        assert answer["spec"]["replicas"] == hpa["spec"]["maxReplicas"]
        wanted[target["name"]] = hpa["spec"]["maxReplicas"]
    return wanted


@pytest.mark.parametrize("profile", ["small", "production"])
def test_maximum_scale_and_surge_fit_quota_and_nodes(fresh: Cluster, kubectl: str,
                                                     profile: str) -> None:
    api = fresh.api
    _, namespace, _ = deployed(fresh, kubectl, OVERLAYS / profile, profile)
    wait_available(fresh, namespace)
    # The HPA controller found each target's scale subresource.
    fresh.wait(lambda: all(
        (c := _condition(h, "AbleToScale")) and c["status"] == "True"
        for h in api.list("autoscaling/v2", "HorizontalPodAutoscaler", namespace)),
        "every HPA to report AbleToScale", 120, lambda: diagnose(api, namespace))
    before = {e["metadata"]["uid"] for e in api.list("v1", "Event", namespace)}
    wanted = _scale_to_max(fresh, namespace)
    wait_available(fresh, namespace)
    for name, replicas in wanted.items():
        found = api.get(api.collection("apps/v1", "Deployment", namespace) + f"/{name}")
        assert found["status"]["availableReplicas"] == replicas, name

    # One surge pod per rolling Deployment, all at once: a new pod template everywhere.
    rolling = [d for d in api.list("apps/v1", "Deployment", namespace)
               if d["spec"]["strategy"]["type"] == "RollingUpdate"]
    assert rolling
    stamp = uuid.uuid4().hex[:8]
    for deployment in rolling:
        api.ok("PATCH", api.collection("apps/v1", "Deployment", namespace)
               + f"/{deployment['metadata']['name']}",
               {"spec": {"template": {"metadata": {"annotations": {
                   "difygen.test/rollout": stamp}}}}}, "application/merge-patch+json")
    wait_available(fresh, namespace)
    for deployment in rolling:
        found = api.get(api.collection("apps/v1", "Deployment", namespace)
                        + f"/{deployment['metadata']['name']}")
        assert found["status"]["updatedReplicas"] == found["spec"]["replicas"]

    # What the controllers and the scheduler reported from the scale-up on.
    events = [e for e in api.list("v1", "Event", namespace)
              if e["metadata"]["uid"] not in before]
    # A quota conflict ("the object has been modified") is a retried write race, not a
    # refusal; a refusal is the admission saying "forbidden: exceeded quota".
    refused = [e["message"] for e in events if e["reason"] == "FailedCreate"
               and "forbidden" in e.get("message", "")]
    assert not refused, refused
    unschedulable = [e["message"] for e in events if e["reason"] == "FailedScheduling"]
    assert not unschedulable, unschedulable
    pods = _pods(api, namespace)
    assert all(p["status"]["phase"] == "Running" for p in pods if not _owned_by_job(p))
    # Every running pod was placed by the real scheduler, which said so.
    placed = {e["involvedObject"]["name"] for e in api.list("v1", "Event", namespace)
              if e["reason"] == "Scheduled"
              and (e.get("reportingComponent") or e.get("source", {}).get("component"))
              == "default-scheduler"}
    unplaced = [p["metadata"]["name"] for p in pods if p["metadata"]["name"] not in placed]
    assert not unplaced, unplaced

    # The quota is enforced, not just present: a pod asking for more CPU than it has left is
    # refused by the ResourceQuota admission.
    quota = api.list("v1", "ResourceQuota", namespace)[0]["status"]
    left = int(_millis(quota["hard"]["requests.cpu"]) - _millis(quota["used"]["requests.cpu"]))
    greedy = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "greedy"},
              "spec": {"automountServiceAccountToken": False,
                       "securityContext": {"runAsNonRoot": True, "runAsUser": 1000,
                                           "seccompProfile": {"type": "RuntimeDefault"}},
                       "containers": [{"name": "c", "image": "busybox:1.36",
                                       "securityContext": {
                                           "allowPrivilegeEscalation": False,
                                           "capabilities": {"drop": ["ALL"]}},
                                       "resources": {
                                           "requests": {"cpu": f"{left + 1}m",
                                                        "memory": "1Mi"},
                                           "limits": {"cpu": f"{left + 1}m",
                                                      "memory": "1Mi"}}}]}}
    refused_pod = api.request("POST", f"/api/v1/namespaces/{namespace}/pods?dryRun=All", greedy)
    assert refused_pod.status == 403, refused_pod.body
    assert "exceeded quota" in refused_pod.body["message"]


def _millis(quantity: str) -> float:
    if quantity.endswith("m"):
        return float(quantity[:-1])
    return float(quantity) * 1000


def test_a_pool_too_small_is_refused_by_the_scheduler(fresh: Cluster, kubectl: str) -> None:
    """small's maximum scale on edge's single 4 vCPU / 8 GiB node: the scheduler says no."""
    api = fresh.api
    edge_node = yaml.safe_load((OVERLAYS / "edge" / "node.yaml").read_text())["data"]
    size = NodeSize(1, edge_node["cpu"], edge_node["memory"], 1,
                    int(edge_node["reservedPercent"]))
    _, namespace, _ = deployed(fresh, kubectl, OVERLAYS / "small", "undersized", size)
    _scale_to_max(fresh, namespace)

    def refused() -> bool:
        provision(api, namespace)
        # The scheduler writes its verdict on the pod (PodScheduled False, Unschedulable) and in
        # an event. Its event recorder keys a series by pod and reason, not message: a pod
        # first refused for a claim not yet bound keeps that event's message when later
        # refused for want of memory, so the pod's condition is read too.
        verdicts = [c.get("message", "") for p in _pods(api, namespace)
                    if (c := _condition(p, "PodScheduled")) and c["status"] == "False"
                    and c.get("reason") == "Unschedulable"]
        verdicts += [e.get("message", "") for e in api.list("v1", "Event", namespace)
                     if e["reason"] == "FailedScheduling"]
        return any("Insufficient" in message for message in verdicts)
    fresh.wait(refused, "the scheduler to refuse a pod for want of resources", 180,
               lambda: diagnose(api, namespace))
    pending = [p for p in _pods(api, namespace) if p["status"].get("phase") == "Pending"]
    assert pending
    reasons = [(_condition(p, "PodScheduled") or {}).get("reason") for p in pending]
    assert "Unschedulable" in reasons, reasons


@pytest.mark.parametrize("profile", ["small", "production"])
def test_a_drained_node_keeps_every_disruption_budget(fresh: Cluster, kubectl: str,
                                                      profile: str) -> None:
    api = fresh.api
    _, namespace, _ = deployed(fresh, kubectl, OVERLAYS / profile, profile)
    wait_available(fresh, namespace)
    pdbs = api.list("policy/v1", "PodDisruptionBudget", namespace)
    assert pdbs
    fresh.wait(lambda: all(p.get("status", {}).get("expectedPods") for p in api.list(
        "policy/v1", "PodDisruptionBudget", namespace)), "the disruption controller", 120)
    busiest, _ = Counter(p["spec"]["nodeName"] for p in _pods(api, namespace)).most_common(1)[0]
    api.ok("PATCH", f"/api/v1/nodes/{busiest}", {"spec": {"unschedulable": True}},
           "application/merge-patch+json")

    evicted: set[str] = set()
    blocked: list[str] = []
    budget_breaches: list[str] = []

    def drained() -> bool:
        provision(api, namespace)
        for pdb in api.list("policy/v1", "PodDisruptionBudget", namespace):
            status = pdb.get("status", {})
            if status.get("currentHealthy", 0) < status.get("desiredHealthy", 0):
                budget_breaches.append(f"{pdb['metadata']['name']}: {status}")
        remaining = [p for p in api.list("v1", "Pod", namespace)
                     if p["spec"].get("nodeName") == busiest]
        for pod in remaining:
            name = pod["metadata"]["name"]
            if name in evicted:
                continue
            answer = api.request(
                "POST", f"/api/v1/namespaces/{namespace}/pods/{name}/eviction",
                {"apiVersion": "policy/v1", "kind": "Eviction",
                 "metadata": {"name": name, "namespace": namespace}})
            if answer.status == 201:
                evicted.add(name)
            elif answer.status == 429:
                blocked.append(f"{name}: {answer.body.get('message')}")
            else:
                raise AssertionError(f"eviction of {name}: {answer.status} {answer.body}")
        return not remaining

    fresh.wait(drained, f"node {busiest} to be drained through the eviction API", 240,
               lambda: diagnose(api, namespace))
    assert evicted
    # A refusal, if any, came from a budget (the API server's reason), never anything else.
    assert all("disruption budget" in b for b in blocked), blocked
    assert not budget_breaches, budget_breaches
    wait_available(fresh, namespace)
    pods = _pods(api, namespace)
    assert all(p["spec"]["nodeName"] != busiest for p in pods)
    assert all(p["status"]["phase"] == "Running" for p in pods if not _owned_by_job(p))
    for pdb in api.list("policy/v1", "PodDisruptionBudget", namespace):
        status = pdb["status"]
        assert status["currentHealthy"] >= status["desiredHealthy"], pdb["metadata"]["name"]


FLEET_SIZE = 10


def test_a_fleet_of_ten_applies_to_one_cluster(fresh: Cluster, kubectl: str,
                                               tmp_path: Path) -> None:
    import subprocess
    import sys
    profiles = ["edge", "small", "production"]
    fleet = {"environments": [{"name": f"env-{i:02d}", "profile": profiles[i % 3]}
                              for i in range(FLEET_SIZE)]}
    (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(fleet), encoding="utf-8")
    done = subprocess.run([str(Path(sys.executable).parent / "difygen"), "render", "--fleet",
                           str(tmp_path / "fleet.yaml"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    api = fresh.api
    applied: dict[str, list[Obj]] = {}
    for env in fleet["environments"]:
        objs = build(kubectl, str(tmp_path / "out" / "kustomize" / "overlays" / env["name"]))
        ensure_storage(api, objs)
        results = apply_all(api, objs, f"difygen-{env['name']}")
        # A second environment writing the same object would be a 409 Conflict here.
        failed = [(o["kind"], o["metadata"]["name"], r.status, r.body.get("message"))
                  for o, r in results if r.status >= 300]
        assert not failed, (env["name"], failed)
        applied[env["name"]] = [r.body for _, r in results]
    namespaces = {o["metadata"].get("namespace") or o["metadata"]["name"]
                  for objs in applied.values() for o in objs}
    assert len(namespaces) == FLEET_SIZE
    for env, objs in applied.items():
        for obj in objs:
            live = api.get(api.path(obj))
            appliers = {m["manager"] for m in live["metadata"]["managedFields"]
                        if m["operation"] == "Apply"}
            assert appliers == {f"difygen-{env}"}, (env, obj["kind"], obj["metadata"]["name"])
