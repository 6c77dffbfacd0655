"""Requests at maximum scale, plus rollout surge, fit the namespace ResourceQuota."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from generator.manifest_loader import Manifest
from generator.quantity import QuantityError, format_cpu, format_memory, parse_quantity
from generator.rules.base import ERROR, Context, Finding, Rule, as_dict, as_list, finding
from generator.rules.workloads import Workload, by_namespace, exact_sum, pod_figures

# Quota keys this rule can add up, and which pod figure each one counts.
_RESOURCE_KEYS = {
    "requests.cpu": ("requests", "cpu"), "cpu": ("requests", "cpu"),
    "requests.memory": ("requests", "memory"), "memory": ("requests", "memory"),
    "limits.cpu": ("limits", "cpu"), "limits.memory": ("limits", "memory"),
}


def _show(key: str, value: Fraction) -> str:
    if key.endswith("cpu"):
        return format_cpu(value)
    if key in ("pods", "persistentvolumeclaims"):
        return str(int(value))
    return format_memory(value)


class QuotaFit(Rule):
    """Every workload at maximum scale, mid-rollout, fits its namespace's ResourceQuota.

    For each ResourceQuota without scopes, the pods of every workload in its namespace are
    counted at maximum scale (HPA maxReplicas, else replicas; a DaemonSet counts one pod,
    a Job its parallelism) plus the extra pods a rolling update adds (a Deployment's
    maxSurge, default 25% rounded up; none for Recreate or StatefulSets). A pod's figure is
    its long-running containers summed, or its largest init container if that is more.
    Checked keys: requests.cpu (cpu), requests.memory (memory), limits.cpu, limits.memory,
    pods, persistentvolumeclaims and requests.storage (PVCs in the set plus StatefulSet
    volumeClaimTemplates per replica). A quota that is too small does not fail the apply:
    it fails the scale-up at peak load, when the HPA's new pods are refused.
    """

    id = "quota-fit"
    layer = "sizing"

    def check(self, ctx: Context) -> Iterator[Finding]:
        # Totals per namespace are computed once, however many quotas share it.
        totals_by_ns: dict[str, dict[str, Fraction]] = {}
        for quota in ctx.of_kind("ResourceQuota"):
            spec = as_dict(quota.obj.get("spec"))
            if spec.get("scopes") or spec.get("scopeSelector"):
                continue
            hard = as_dict(spec.get("hard"))
            totals = totals_by_ns.get(quota.namespace)
            if totals is None:
                totals = totals_by_ns[quota.namespace] = self._totals(ctx, quota.namespace)
            for key in sorted(hard):
                if key not in totals:
                    continue
                try:
                    limit = parse_quantity(hard[key])
                except QuantityError:
                    continue
                need = totals[key]
                if need > limit:
                    yield finding(self.id, ERROR, quota, ("spec", "hard", key),
                                  f"{key}: workloads at maximum scale plus rollout surge need "
                                  f"{_show(key, need)}, the quota allows "
                                  f"{_show(key, limit)}")

    def _totals(self, ctx: Context, ns: str) -> dict[str, Fraction]:
        members = by_namespace(ctx).get(ns, ())
        figures = [pod_figures(ctx, w) for w in members]
        totals: dict[str, Fraction] = {
            key: exact_sum((f.per_pod[pair], f.pods) for f in figures)
            for key, pair in _RESOURCE_KEYS.items()}
        totals["pods"] = Fraction(sum(f.pods for f in figures))
        totals["persistentvolumeclaims"] = Fraction(0)
        totals["requests.storage"] = Fraction(0)
        for w, f in zip(members, figures, strict=True):
            self._claim_templates(w, f.replicas, totals)
        for pvc in _claims_by_namespace(ctx).get(ns, ()):
            totals["persistentvolumeclaims"] += 1
            totals["requests.storage"] += _storage(as_dict(pvc.obj.get("spec")))
        return totals

    def _claim_templates(self, w: Workload, replicas: int,
                         totals: dict[str, Fraction]) -> None:
        if w.kind != "StatefulSet":
            return
        for template in as_list(as_dict(w.manifest.obj.get("spec")).get("volumeClaimTemplates")):
            totals["persistentvolumeclaims"] += replicas
            totals["requests.storage"] += _storage(
                as_dict(as_dict(template).get("spec"))) * replicas


def _claims_by_namespace(ctx: Context) -> dict[str, list[Manifest]]:
    grouped: dict[str, list[Manifest]] | None = ctx.memo.get("claims_by_namespace")
    if grouped is None:
        grouped = {}
        for pvc in ctx.of_kind("PersistentVolumeClaim"):
            grouped.setdefault(pvc.namespace, []).append(pvc)
        ctx.memo["claims_by_namespace"] = grouped
    return grouped


def _storage(spec: dict[str, object]) -> Fraction:
    value = as_dict(as_dict(spec.get("resources")).get("requests")).get("storage")
    try:
        return parse_quantity(value) if value is not None else Fraction(0)
    except QuantityError:
        return Fraction(0)
