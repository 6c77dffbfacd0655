"""LimitRanges the API server accepts."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from generator.manifest_loader import Manifest
from generator.quantity import QuantityError, parse_quantity
from generator.rules.base import ERROR, Context, Finding, ObjectRule, as_dict, as_list, finding

# (lower, higher, message) pairs ValidateLimitRange checks for each resource name.
_ORDER = (
    ("min", "max", "min value {lo} is greater than max value {hi}"),
    ("min", "defaultRequest", "min value {lo} is greater than default request value {hi}"),
    ("defaultRequest", "max", "default request value {lo} is greater than max value {hi}"),
    ("defaultRequest", "default",
     "default request value {lo} is greater than default limit value {hi}"),
    ("min", "default", "min value {lo} is greater than default value {hi}"),
    ("default", "max", "default value {lo} is greater than max value {hi}"),
)
_SECTIONS = ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio")


class K8sLimitRange(ObjectRule):
    """A LimitRange's bounds are ordered: min <= defaultRequest <= default <= max.

    The checks of `ValidateLimitRange` (k8s.io/kubernetes
    `pkg/apis/core/validation/validation.go`), per limit and resource name: min <= max,
    min <= defaultRequest <= max, defaultRequest <= default (the default request may not
    exceed the default limit), min <= default <= max; quantities are non-negative;
    `maxLimitRequestRatio` is at least 1; `default` and `defaultRequest` are only allowed
    for type Container (not Pod). The API server refuses the object otherwise, and a
    LimitRange that failed to apply leaves containers without defaults.
    """

    id = "k8s-limit-range"
    layer = "schema"

    def check_object(self, manifest: Manifest, ctx: Context) -> Iterator[Finding]:
        if manifest.kind != "LimitRange":
            return
        for i, raw in enumerate(as_list(as_dict(manifest.obj.get("spec")).get("limits"))):
            item = as_dict(raw)
            base = ("spec", "limits", i)
            if item.get("type") == "Pod":
                for key in ("default", "defaultRequest"):
                    if key in item:
                        yield finding(self.id, ERROR, manifest, (*base, key),
                                      f"{key} may not be set when type is 'Pod'")
            values: dict[str, dict[str, Fraction]] = {}
            for section in _SECTIONS:
                for name, raw_value in as_dict(item.get(section)).items():
                    try:
                        q = parse_quantity(raw_value)
                    except QuantityError:
                        continue  # the schema rule reports a malformed quantity
                    if q < 0:
                        yield finding(self.id, ERROR, manifest, (*base, section, name),
                                      f"{section}.{name} {raw_value}: must be greater than "
                                      "or equal to 0")
                    values.setdefault(section, {})[name] = q
            for name, ratio in values.get("maxLimitRequestRatio", {}).items():
                if ratio < 1:
                    yield finding(self.id, ERROR, manifest,
                                  (*base, "maxLimitRequestRatio", name),
                                  f"ratio {ratio} is less than 1")
            for low, high, text in _ORDER:
                for name in sorted(set(values.get(low, {})) & set(values.get(high, {}))):
                    if values[low][name] > values[high][name]:
                        lo = as_dict(item.get(low))[name]
                        hi = as_dict(item.get(high))[name]
                        yield finding(self.id, ERROR, manifest, (*base, low, name),
                                      f"{name}: " + text.format(lo=lo, hi=hi))
