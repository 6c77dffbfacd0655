"""HorizontalPodAutoscalers the API server accepts."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from generator.manifest_loader import Manifest
from generator.rules.base import ERROR, Context, Finding, ObjectRule, as_dict, as_list, finding
from generator.yamlio import KeyPath

MAX_STABILIZATION_WINDOW_SECONDS = 3600  # MaxStabilizationWindowSeconds
MAX_PERIOD_SECONDS = 1800  # MaxPeriodSeconds
SELECT_POLICIES = ("Max", "Min", "Disabled")
POLICY_TYPES = ("Pods", "Percent")
TARGET_TYPES = ("Utilization", "Value", "AverageValue")
_Bad = Callable[[KeyPath, str], Finding]


class K8sHpa(ObjectRule):
    """An autoscaling/v2 HPA's replica bounds, metrics and behaviour are valid.

    The checks of `ValidateHorizontalPodAutoscaler` (k8s.io/kubernetes
    `pkg/apis/autoscaling/validation/validation.go`): `minReplicas` >= 1 (0 needs the
    alpha HPAScaleToZero gate and an Object or External metric), `maxReplicas` > 0 and >=
    `minReplicas` (`validateHorizontalPodAutoscalerSpec`); `scaleTargetRef` has a kind and
    a name; every metric has a supported type and, for `Resource`, a name and a target
    whose `Utilization` has `averageUtilization` > 0 (`validateMetrics`,
    `validateMetricTarget`); behaviour: `stabilizationWindowSeconds` in 0..3600,
    `selectPolicy` Max, Min or Disabled, a rule that lists policies lists at least one, each
    of type Pods or Percent with `value` > 0 and `periodSeconds` in 1..1800
    (`validateBehavior`, `validateScalingRules`, `validateScalingPolicy`).
    """

    id = "k8s-hpa"
    layer = "schema"

    def check_object(self, manifest: Manifest, ctx: Context) -> Iterator[Finding]:
        if manifest.kind != "HorizontalPodAutoscaler":
            return
        spec = as_dict(manifest.obj.get("spec"))

        def bad(path: KeyPath, message: str) -> Finding:
            return finding(self.id, ERROR, manifest, path, message)

        low, high = spec.get("minReplicas", 1), spec.get("maxReplicas")
        if isinstance(low, int) and low < 1:
            yield bad(("spec", "minReplicas"), f"found {low}; must be greater than or equal "
                                               "to 1")
        if isinstance(high, int):
            if high < 1:
                yield bad(("spec", "maxReplicas"), f"found {high}; must be greater than 0")
            elif isinstance(low, int) and high < low:
                yield bad(("spec", "maxReplicas"),
                          f"found {high}; must be greater than or equal to `minReplicas` "
                          f"({low})")
        ref = as_dict(spec.get("scaleTargetRef"))
        for key in ("kind", "name"):
            if not ref.get(key):
                yield bad(("spec", "scaleTargetRef"), f"scaleTargetRef.{key} is required")
        for i, raw in enumerate(as_list(spec.get("metrics"))):
            yield from self._metric(bad, ("spec", "metrics", i), as_dict(raw))
        behavior = as_dict(spec.get("behavior"))
        for direction in ("scaleUp", "scaleDown"):
            if direction in behavior:
                yield from self._rules(bad, ("spec", "behavior", direction),
                                       as_dict(behavior[direction]))

    def _metric(self, bad: _Bad, path: KeyPath, metric: dict[str, object]) -> Iterator[Finding]:
        kind = metric.get("type")
        if kind not in ("Resource", "ContainerResource", "Pods", "Object", "External"):
            yield bad(path, f"metric type {kind!r} is not supported")
            return
        if kind not in ("Resource", "ContainerResource"):
            return
        source_key = "resource" if kind == "Resource" else "containerResource"
        source = as_dict(metric.get(source_key))
        if not source:
            yield bad(path, f"must populate information for the given metric source "
                            f"({source_key})")
            return
        if not source.get("name"):
            yield bad((*path, source_key), "resource name is required")
        target = as_dict(source.get("target"))
        ttype = target.get("type")
        tpath = (*path, source_key, "target")
        if ttype not in TARGET_TYPES:
            yield bad(tpath, f"target type {ttype!r} is not supported: "
                             f"{', '.join(TARGET_TYPES)}")
        elif ttype == "Utilization":
            value = target.get("averageUtilization")
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                yield bad(tpath, f"averageUtilization {value!r}: must be greater than 0")

    def _rules(self, bad: _Bad, path: KeyPath, rules: dict[str, object]) -> Iterator[Finding]:
        window = rules.get("stabilizationWindowSeconds")
        if isinstance(window, int) and not 0 <= window <= MAX_STABILIZATION_WINDOW_SECONDS:
            yield bad((*path, "stabilizationWindowSeconds"),
                      f"found {window}; must be between 0 and "
                      f"{MAX_STABILIZATION_WINDOW_SECONDS}")
        select = rules.get("selectPolicy")
        if select is not None and select not in SELECT_POLICIES:
            yield bad((*path, "selectPolicy"), f"found {select!r}; supported values: "
                                               f"{', '.join(SELECT_POLICIES)}")
        if "policies" in rules and not as_list(rules.get("policies")):
            yield bad((*path, "policies"), "must specify at least one Policy")
        for i, raw in enumerate(as_list(rules.get("policies"))):
            policy = as_dict(raw)
            ppath = (*path, "policies", i)
            if policy.get("type") not in POLICY_TYPES:
                yield bad(ppath, f"policy type {policy.get('type')!r} is not supported: "
                                 f"{', '.join(POLICY_TYPES)}")
            value = policy.get("value")
            if not isinstance(value, int) or value <= 0:
                yield bad(ppath, f"value {value!r}: must be greater than zero")
            period = policy.get("periodSeconds")
            if not isinstance(period, int) or not 0 < period <= MAX_PERIOD_SECONDS:
                yield bad(ppath, f"periodSeconds {period!r}: must be between 1 and "
                                 f"{MAX_PERIOD_SECONDS}")

