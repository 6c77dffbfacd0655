"""The whole stack fits its declared node (the edge profile)."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from generator.quantity import QuantityError, format_cpu, format_memory, parse_quantity
from generator.rules.base import ERROR, WARNING, Context, Finding, Rule, as_dict, finding
from generator.rules.workloads import by_namespace, exact_sum, pod_figures

NODE_CONFIGMAP = "difygen-node"


class NodeFit(Rule):
    """Everything in a namespace fits the single node it declares.

    A profile that runs on one node (edge) declares that node in a ConfigMap named
    `difygen-node` in the namespace it deploys to:

        apiVersion: v1
        kind: ConfigMap
        metadata: {name: difygen-node, namespace: dify}
        data: {cpu: "4", memory: 16Gi, reservedPercent: "10"}

    `cpu` and `memory` are the node's capacity as Kubernetes quantities; `reservedPercent`
    (0-90, default 10) is what the kubelet, system daemons and eviction threshold keep.
    The requests of every workload in that namespace at maximum scale plus rollout surge
    must fit the allocatable rest (error: pods stay Pending). Limits above it are a warning
    (the node is overcommitted and may OOM-kill under load). Without the ConfigMap the
    rule is silent. A malformed ConfigMap is an error.
    """

    id = "node-fit"
    layer = "sizing"

    def check(self, ctx: Context) -> Iterator[Finding]:
        # One sum per namespace, however many node ConfigMaps repeat it.
        namespace_totals: dict[str, dict[tuple[str, str], Fraction]] = {}
        for cm in ctx.of_kind("ConfigMap"):
            if cm.name != NODE_CONFIGMAP:
                continue
            data = as_dict(cm.obj.get("data"))
            try:
                capacity = {r: parse_quantity(data[r]) for r in ("cpu", "memory")}
                reserved = Fraction(str(data.get("reservedPercent", "10")).strip())
            except (KeyError, QuantityError, ValueError, ZeroDivisionError) as exc:
                yield finding(self.id, ERROR, cm, ("data",),
                              f"ConfigMap {NODE_CONFIGMAP} needs data.cpu and data.memory "
                              "(quantities) and optionally data.reservedPercent (0-90): "
                              f"{exc}")
                continue
            if not 0 <= reserved <= 90:
                yield finding(self.id, ERROR, cm, ("data", "reservedPercent"),
                              f"reservedPercent {reserved} is outside 0-90")
                continue
            share = 1 - reserved / 100
            totals = namespace_totals.get(cm.namespace)
            if totals is None:
                totals = namespace_totals[cm.namespace] = _totals(ctx, cm.namespace)
            for section, resource in sorted(totals):
                allocatable = capacity[resource] * share
                need = totals[(section, resource)]
                if need <= allocatable:
                    continue
                show = format_cpu if resource == "cpu" else _approx_memory
                severity = ERROR if section == "requests" else WARNING
                yield finding(self.id, severity, cm, ("data", resource),
                              f"{section}.{resource} at maximum scale plus rollout surge "
                              f"is {show(need)}, above the node's allocatable "
                              f"{show(allocatable)} ({show(capacity[resource])} less "
                              f"{reserved}% reserved)")


def _totals(ctx: Context, namespace: str) -> dict[tuple[str, str], Fraction]:
    figures = [pod_figures(ctx, w) for w in by_namespace(ctx).get(namespace, ())]
    return {(s, r): exact_sum((f.per_pod[s, r], f.pods) for f in figures)
            for s in ("requests", "limits") for r in ("cpu", "memory")}


def _approx_memory(value: Fraction) -> str:
    """Memory for a person: a whole unit when exact, else MiB (a share of a node is rarely
    a whole number of bytes, and 6871947674 reads as noise)."""
    exact = format_memory(value)
    if exact[-1].isalpha():
        return exact
    return f"{float(value / 2**20):.0f}Mi"
