"""Helpers the tests share for walking Kubernetes objects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Obj = dict[str, Any]
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


def key(obj: Obj) -> tuple[str, str, str]:
    return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def pod_spec(obj: Obj) -> Obj | None:
    if obj["kind"] in WORKLOADS:
        spec: Obj = obj["spec"]["template"]["spec"]
        return spec
    return None


def containers(obj: Obj) -> Iterator[Obj]:
    spec = pod_spec(obj)
    if spec is None:
        return
    yield from spec.get("initContainers", [])
    yield from spec.get("containers", [])


def workloads(objs: list[Obj]) -> list[Obj]:
    return [o for o in objs if o["kind"] in WORKLOADS]


def ingress_peers(policy: Obj) -> dict[int, set[str]]:
    """The components a NetworkPolicy admits, by port (peers named by podSelector)."""
    allowed: dict[int, set[str]] = {}
    for rule in policy["spec"]["ingress"]:
        peers = {p["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
                 for p in rule["from"]}
        for port in rule["ports"]:
            allowed.setdefault(port["port"], set()).update(peers)
    return allowed
