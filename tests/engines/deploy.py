"""Putting a built overlay on the local control plane, and reading back what the engines did.

Node pools: kwok nodes at the size a profile declares. The edge profile declares its one node
(`node:`; the overlay carries it as the `difygen-node` ConfigMap, read back from the API
server). small and production declare their pool in the profile's header comment; POOLS below
holds those sizes (docs/engines.md).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import yaml

from engines.cluster import API, KWOK_NODE_ANNOTATION, Cluster, ClusterError, Response

Obj = dict[str, Any]
TEST_LABEL = "difygen.test/owned"
# (nodes, vCPU, memory, zones, reserved %) as the profiles' headers state them.
POOLS: dict[str, tuple[int, str, str, int, int]] = {
    # small.yaml: "a pool of 3 nodes of 4 vCPU / 16 GiB" (Dify's AWS CDK "testing" node size)
    "small": (3, "4", "16Gi", 1, 10),
    # production.yaml: Dify's AWS CDK production node group, 8 vCPU / 32 GiB autoscaling 1-6
    # over three zones: the tests give it its maximum, 6 nodes.
    "production": (6, "8", "32Gi", 3, 10),
}


@dataclass(frozen=True)
class NodeSize:
    count: int
    cpu: str
    memory: str
    zones: int
    reserved_percent: int


def build(kubectl: str, overlay: str) -> list[Obj]:
    out = subprocess.run([kubectl, "kustomize", overlay], capture_output=True, text=True,
                         check=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def _quantity(text: str) -> Fraction:
    suffixes = {"m": Fraction(1, 1000), "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3,
                "Ti": 1024**4, "k": 1000, "M": 10**6, "G": 10**9}
    for suffix, factor in sorted(suffixes.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(suffix):
            return Fraction(text[: -len(suffix)]) * factor
    return Fraction(text)


def _allocatable(quantity: str, reserved_percent: int, cpu: bool) -> str:
    value = _quantity(quantity) * (100 - reserved_percent) / 100
    if cpu:
        return f"{int(value * 1000)}m"
    return f"{int(value / 1024)}Ki"


def add_nodes(api: API, prefix: str, size: NodeSize) -> list[str]:
    names = []
    for index in range(size.count):
        name = f"{prefix}-{index}"
        zone = f"zone-{chr(ord('a') + index % size.zones)}"
        node = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name,
                         "annotations": {KWOK_NODE_ANNOTATION[0]: KWOK_NODE_ANNOTATION[1]},
                         "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64", "type": "kwok",
                                    "topology.kubernetes.io/zone": zone, TEST_LABEL: "true"}},
            "spec": {},
            "status": {
                "capacity": {"cpu": size.cpu, "memory": size.memory, "pods": "110"},
                "allocatable": {
                    "cpu": _allocatable(size.cpu, size.reserved_percent, cpu=True),
                    "memory": _allocatable(size.memory, size.reserved_percent, cpu=False),
                    "pods": "110"},
            },
        }
        api.ok("POST", "/api/v1/nodes", node)
        names.append(name)
    return names


def nodes_ready(api: API, names: list[str]) -> bool:
    for name in names:
        conditions = api.get(f"/api/v1/nodes/{name}").get("status", {}).get("conditions", [])
        if not any(c["type"] == "Ready" and c["status"] == "True" for c in conditions):
            return False
    return True


def apply_all(api: API, objs: list[Obj], manager: str) -> list[tuple[Obj, Response]]:
    """Server-side apply of every object in order (kustomize puts the Namespace first)."""
    return [(obj, api.apply(obj, manager)) for obj in objs]


def ensure_storage(api: API, objs: list[Obj]) -> None:
    """StorageClasses the overlay names, with no provisioner: `provision` binds volumes."""
    classes = set()
    for obj in objs:
        if obj["kind"] == "PersistentVolumeClaim":
            classes.add(obj["spec"].get("storageClassName"))
        if obj["kind"] == "StatefulSet":
            for claim in obj["spec"].get("volumeClaimTemplates", []):
                classes.add(claim["spec"].get("storageClassName"))
    for name in sorted(c for c in classes if c):
        api.apply({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                   "metadata": {"name": name, "labels": {TEST_LABEL: "true"}},
                   "provisioner": "difygen.test/manual", "volumeBindingMode": "Immediate"},
                  "difygen-tests", force=True)


def provision(api: API, namespace: str) -> None:
    """Stand in for a storage provisioner: one PersistentVolume pre-bound to each pending claim.

    The real PersistentVolume controller then binds them; kwok's pods never touch the data.
    """
    for claim in api.list("v1", "PersistentVolumeClaim", namespace):
        if claim["status"].get("phase") != "Pending" or claim["spec"].get("volumeName"):
            continue
        meta = claim["metadata"]
        api.request("POST", "/api/v1/persistentvolumes", {
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": f"pv-{meta['uid']}", "labels": {TEST_LABEL: "true"}},
            "spec": {
                "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
                "accessModes": claim["spec"]["accessModes"],
                "storageClassName": claim["spec"].get("storageClassName", ""),
                "persistentVolumeReclaimPolicy": "Retain",
                "hostPath": {"path": f"/tmp/difygen-test/{meta['uid']}"},
                "claimRef": {"namespace": namespace, "name": meta["name"], "uid": meta["uid"]},
            }})


def workloads_available(api: API, namespace: str) -> bool:
    for deployment in api.list("apps/v1", "Deployment", namespace):
        spec, status = deployment["spec"], deployment.get("status", {})
        want = spec.get("replicas", 1)
        if (status.get("observedGeneration", 0) < deployment["metadata"]["generation"]
                or status.get("updatedReplicas", 0) != want
                or status.get("availableReplicas", 0) != want
                or status.get("replicas", 0) != want):
            return False
        if not any(c["type"] == "Available" and c["status"] == "True"
                   for c in status.get("conditions", [])):
            return False
    for stateful in api.list("apps/v1", "StatefulSet", namespace):
        spec, status = stateful["spec"], stateful.get("status", {})
        want = spec.get("replicas", 1)
        if (status.get("observedGeneration", 0) < stateful["metadata"]["generation"]
                or status.get("availableReplicas", 0) != want
                or status.get("currentRevision") != status.get("updateRevision")):
            return False
    return True


def diagnose(api: API, namespace: str) -> str:
    lines = []
    for pod in api.list("v1", "Pod", namespace):
        phase = pod.get("status", {}).get("phase")
        if phase != "Running":
            conditions = [(c["type"], c["status"], c.get("message", ""))
                          for c in pod.get("status", {}).get("conditions", [])]
            lines.append(f"pod {pod['metadata']['name']}: {phase} {conditions}")
    for event in api.list("v1", "Event", namespace)[-25:]:
        if event.get("type") == "Warning":
            lines.append(f"event {event['involvedObject']['kind']}/"
                         f"{event['involvedObject']['name']}: {event['reason']}: "
                         f"{event.get('message', '')}")
    for deployment in api.list("apps/v1", "Deployment", namespace):
        lines.append(f"deployment {deployment['metadata']['name']}: "
                     f"want {deployment['spec'].get('replicas')} "
                     f"status {deployment.get('status', {})}")
    return "\n".join(lines[:80])


def wait_available(cluster: Cluster, namespace: str, timeout: float = 240) -> None:
    def ready() -> bool:
        provision(cluster.api, namespace)
        return workloads_available(cluster.api, namespace)
    cluster.wait(ready, f"every workload in {namespace} to be Available", timeout,
                 lambda: diagnose(cluster.api, namespace))


def reset(cluster: Cluster) -> None:
    """Remove what earlier tests created: their namespaces, nodes, volumes, storage classes."""
    api = cluster.api
    owned = [ns["metadata"]["name"] for ns in api.list("v1", "Namespace")
             if ns["metadata"].get("labels", {}).get("app.kubernetes.io/managed-by")
             == "difygen"]
    for name in owned:
        api.request("DELETE", f"/api/v1/namespaces/{name}")
    cluster.wait(lambda: not any(api.request("GET", f"/api/v1/namespaces/{name}").status == 200
                                 for name in owned),
                 f"namespaces {owned} to be deleted", 240)
    for kind, path in (("Node", "/api/v1/nodes"),
                       ("PersistentVolume", "/api/v1/persistentvolumes"),
                       ("StorageClass", "/apis/storage.k8s.io/v1/storageclasses")):
        answer = api.request("DELETE", f"{path}?labelSelector={TEST_LABEL}%3Dtrue")
        if answer.status >= 300:
            raise ClusterError(f"deleting test {kind}s: {answer.status} {answer.body}")
    cluster.wait(lambda: not api.list("v1", "Node", selector=f"{TEST_LABEL}=true"),
                 "test nodes to be deleted", 60)


def scale(api: API, target: Obj, namespace: str, replicas: int) -> Obj:
    kind = target["kind"]
    path = api.collection(target.get("apiVersion", "apps/v1"), kind, namespace)
    return api.ok("PATCH", f"{path}/{target['name']}/scale", {"spec": {"replicas": replicas}},
                  "application/merge-patch+json")

