"""PodDisruptionBudgets the API server accepts."""

from __future__ import annotations

import re
from collections.abc import Iterator

from generator.manifest_loader import Manifest
from generator.rules.base import ERROR, Context, Finding, ObjectRule, as_dict, finding

_PERCENT = re.compile(r"^([0-9]+)%$")


class K8sPdb(ObjectRule):
    """A PodDisruptionBudget sets one of minAvailable and maxUnavailable, each valid.

    The checks of `ValidatePodDisruptionBudgetSpec` (k8s.io/kubernetes
    `pkg/apis/policy/validation/validation.go`): `minAvailable` and `maxUnavailable`
    cannot both be set; each is a non-negative integer or a percentage
    (`ValidatePositiveIntOrPercent`) of at most 100% (`IsNotMoreThan100Percent`), and
    `unhealthyPodEvictionPolicy`, when set, is `IfHealthyBudget` or `AlwaysAllow`. One
    check goes beyond the API server, which accepts it: `maxUnavailable: 0` (or 0%) and
    `minAvailable: 100%` are errors too, since they block every node drain and cluster
    upgrade.
    """

    id = "k8s-pdb"
    layer = "schema"

    def check_object(self, manifest: Manifest, ctx: Context) -> Iterator[Finding]:
        if manifest.kind != "PodDisruptionBudget":
            return
        spec = as_dict(manifest.obj.get("spec"))
        if "minAvailable" in spec and "maxUnavailable" in spec:
            yield finding(self.id, ERROR, manifest, ("spec", "maxUnavailable"),
                          "minAvailable and maxUnavailable cannot be both set")
        for key in ("minAvailable", "maxUnavailable"):
            if key not in spec:
                continue
            value = spec[key]
            path = ("spec", key)
            if isinstance(value, bool) or not isinstance(value, int | str):
                yield finding(self.id, ERROR, manifest, path,
                              f"found {value!r}; must be an integer or percentage (e.g '5%')")
                continue
            if isinstance(value, int):
                if value < 0:
                    yield finding(self.id, ERROR, manifest, path,
                                  f"found {value}; must be greater than or equal to 0")
                    continue
                blocks = key == "maxUnavailable" and value == 0
            else:
                match = _PERCENT.match(value)
                if not match:
                    yield finding(self.id, ERROR, manifest, path,
                                  f"found {value!r}; must be an integer or percentage "
                                  "(e.g '5%')")
                    continue
                percent = int(match.group(1))
                if percent > 100:
                    yield finding(self.id, ERROR, manifest, path,
                                  f"found {value!r}; must not be greater than 100%")
                    continue
                blocks = (key == "maxUnavailable" and percent == 0) or (
                    key == "minAvailable" and percent == 100)
            if blocks:
                yield finding(self.id, ERROR, manifest, path,
                              f"{key} {value!r} allows no voluntary disruption: every node "
                              "drain and cluster upgrade would hang on these pods")
        policy = spec.get("unhealthyPodEvictionPolicy")
        if policy is not None and policy not in ("IfHealthyBudget", "AlwaysAllow"):
            yield finding(self.id, ERROR, manifest, ("spec", "unhealthyPodEvictionPolicy"),
                          f"found {policy!r}; supported values: IfHealthyBudget, AlwaysAllow")
