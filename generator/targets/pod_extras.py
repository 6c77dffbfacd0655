"""What a profile adds to pods beyond sizing: the escape hatches users expect.

Extra env per component, pod labels and annotations (profile-wide and per component),
image pull Secrets on every pod, and topology spread constraints. Pure functions of the
plan, shared by the Kustomize manifests; the Helm target maps the same facts to the
chart's keys. difygen's own labels, annotations and env always win: the profile loader
refuses any extra that would replace one of them.
"""

from __future__ import annotations

from typing import Any

from generator.plan import Plan
from generator.sizing import ComponentSizing, PodMetadata

Obj = dict[str, Any]

ZONE_TOPOLOGY = "topology.kubernetes.io/zone"
HOST_TOPOLOGY = "kubernetes.io/hostname"
WHEN_UNSATISFIABLE = {"required": "DoNotSchedule", "preferred": "ScheduleAnyway"}


def extra_env(plan: Plan, sizing: ComponentSizing) -> list[Obj]:
    out: list[Obj] = []
    for e in sizing.extra_env:
        if e.secret_key is not None:
            out.append({"name": e.name, "valueFrom": {"secretKeyRef": {
                "name": plan.profile.secret_name, "key": e.secret_key}}})
        else:
            out.append({"name": e.name, "value": e.value or ""})
    return out


def pod_metadata(plan: Plan, sizing: ComponentSizing) -> PodMetadata:
    """The profile's pod metadata, then the component's (which wins on the same key)."""
    glob, mine = plan.profile.pod_metadata, sizing.pod_metadata
    return PodMetadata(
        labels=tuple(sorted({**dict(glob.labels), **dict(mine.labels)}.items())),
        annotations=tuple(sorted({**dict(glob.annotations),
                                  **dict(mine.annotations)}.items())))


def topology_spread(sizing: ComponentSizing, selector: dict[str, str]) -> list[Obj]:
    out: list[Obj] = []
    sched = sizing.scheduling
    for mode, key in ((sched.topology_spread_zones, ZONE_TOPOLOGY),
                      (sched.topology_spread_nodes, HOST_TOPOLOGY)):
        if mode in WHEN_UNSATISFIABLE:
            out.append({"maxSkew": 1, "topologyKey": key,
                        "whenUnsatisfiable": WHEN_UNSATISFIABLE[mode],
                        "labelSelector": {"matchLabels": dict(selector)}})
    return out


def decorate(plan: Plan, sizing: ComponentSizing, template: Obj,
             selector: dict[str, str]) -> Obj:
    """A pod template with the profile's labels, annotations, pull Secrets and spread."""
    md = template["metadata"]
    extra = pod_metadata(plan, sizing)
    if extra.labels:
        md["labels"] = {**md["labels"], **{k: v for k, v in extra.labels
                                             if k not in md["labels"]}}
    if extra.annotations:
        md["annotations"] = dict(sorted(
            {**dict(extra.annotations), **md.get("annotations", {})}.items()))
    spec = template["spec"]
    if plan.profile.images.pull_secrets:
        spec["imagePullSecrets"] = [{"name": n} for n in plan.profile.images.pull_secrets]
    spread = topology_spread(sizing, selector)
    if spread:
        spec["topologySpreadConstraints"] = spread
    return template
