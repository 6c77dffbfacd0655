"""ReadWriteOnce volumes are never shared across nodes."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import (
    ERROR,
    SINGLE_NODE,
    Context,
    Finding,
    Rule,
    as_dict,
    as_list,
    finding,
)
from generator.rules.workloads import Workload, max_replicas, may_run_many, surge, workloads
from generator.yamlio import KeyPath


def single_node(ctx: Context, w: Workload) -> bool:
    """All pods of `w` land on one node: its pod template (or the workload, or its
    Namespace object) carries `difygen.io/single-node: "true"`."""
    if (w.annotation(SINGLE_NODE) or "").strip().lower() == "true":
        return True
    namespace = ctx.get("Namespace", "", w.manifest.namespace)
    if namespace is None:
        return False
    value = as_dict(namespace.metadata.get("annotations")).get(SINGLE_NODE)
    return str(value).strip().lower() == "true"


# How many users of a claim a finding names; the rest are counted.
_NAMED = 12


class RwoShared(Rule):
    """A ReadWriteOnce volume is mounted by pods that can only be on one node.

    ReadWriteOnce attaches a volume to one node. For every PersistentVolumeClaim in the
    set whose accessModes include ReadWriteOnce or ReadWriteOncePod but not ReadWriteMany,
    the workloads mounting it (`volumes[*].persistentVolumeClaim.claimName`, same
    namespace) are checked: it is an error if two workloads mount it, if one may run more
    than one pod (maxReplicas or replicas above 1, a DaemonSet), or if a single-replica
    Deployment rolls (a RollingUpdate surge pod scheduled on another node hangs in
    "Multi-Attach error"; use `strategy: Recreate`). All of that is fine when every pod
    involved is pinned to one node: the pod template (or the workload, or its Namespace
    object) carries the annotation `difygen.io/single-node: "true"`. ReadWriteOncePod
    allows one pod even on one node, so it is never shared. StatefulSet
    volumeClaimTemplates give each pod its own claim and are not concerned.
    """

    id = "rwo-shared"
    layer = "sizing"

    def check(self, ctx: Context) -> Iterator[Finding]:
        mounts: dict[tuple[str, str], list[tuple[Workload, KeyPath]]] = {}
        for w in workloads(ctx):
            for i, volume in enumerate(as_list(w.pod_spec.get("volumes"))):
                claim = as_dict(as_dict(volume).get("persistentVolumeClaim")).get("claimName")
                if isinstance(claim, str):
                    mounts.setdefault((w.manifest.namespace, claim), []).append(
                        (w, (*w.spec_path, "volumes", i, "persistentVolumeClaim",
                             "claimName")))
        judged: set[tuple[str, str]] = set()
        for pvc in ctx.of_kind("PersistentVolumeClaim"):
            if (pvc.namespace, pvc.name) in judged:
                continue  # a repeated claim (duplicate-object reports it) is judged once
            judged.add((pvc.namespace, pvc.name))
            modes = [str(m) for m in as_list(as_dict(pvc.obj.get("spec")).get("accessModes"))]
            if "ReadWriteMany" in modes or not ({"ReadWriteOnce", "ReadWriteOncePod"}
                                                & set(modes)):
                continue
            users = mounts.get((pvc.namespace, pvc.name), [])
            one_pod = "ReadWriteOncePod" in modes and "ReadWriteOnce" not in modes
            pinned = not one_pod and all(single_node(ctx, w) for w, _ in users)
            if pinned:
                continue
            mode = "ReadWriteOncePod" if one_pod else "ReadWriteOnce"
            names = sorted({f"{w.kind}/{w.manifest.name}" for w, _ in users})
            if len(names) > _NAMED:
                names = [*names[:_NAMED], f"and {len(names) - _NAMED} more"]
            for w, path in users:
                problem = self._problem(ctx, w, len(users), names)
                if problem:
                    yield finding(self.id, ERROR, w.manifest, path,
                                  f"PersistentVolumeClaim {pvc.name!r} is {mode}, but "
                                  f"{problem}; use ReadWriteMany storage, one replica with "
                                  f"strategy Recreate, or pin all pods to one node "
                                  f"({SINGLE_NODE}: \"true\")")

    def _problem(self, ctx: Context, w: Workload, n_users: int, names: list[str]) -> str:
        if n_users > 1:
            return "it is mounted by " + ", ".join(names)
        if may_run_many(ctx, w):
            top = max_replicas(ctx, w)
            extra = surge(w, top)
            if top > 1 or w.kind == "DaemonSet":
                return f"{w.kind}/{w.manifest.name} may run {top if top > 1 else 'many'} pods"
            return (f"{w.kind}/{w.manifest.name} rolls out with {extra} surge pod(s) that may "
                    "start on another node")
        return ""
