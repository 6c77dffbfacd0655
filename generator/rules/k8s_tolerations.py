"""Tolerations the API server accepts."""

from __future__ import annotations

from collections.abc import Iterator

from generator.k8s_names import label_value_problem, qualified_name_problem
from generator.rules.base import Context, Finding, as_dict, as_list
from generator.rules.workloads import Workload, WorkloadRule

EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


class K8sTolerations(WorkloadRule):
    """Each toleration is one the API server accepts.

    The rules of `ValidateTolerations` (k8s.io/kubernetes
    `pkg/apis/core/validation/validation.go`): a non-empty `key` is a qualified name; an
    empty key needs `operator: Exists` ("match all"); `tolerationSeconds` needs
    `effect: NoExecute`; with `operator: Exists` the `value` must be empty, with `Equal`
    (or none) it is a valid label value; `operator` is `Exists` or `Equal`; `effect`, when
    set, is `NoSchedule`, `PreferNoSchedule` or `NoExecute` (`validateTaintEffect`).
    """

    id = "k8s-tolerations"
    layer = "schema"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        for i, raw in enumerate(as_list(w.pod_spec.get("tolerations"))):
            t = as_dict(raw)
            path = (*w.spec_path, "tolerations", i)
            key = str(t.get("key") or "")
            operator = t.get("operator") or "Equal"
            value = str(t.get("value") or "")
            effect = t.get("effect")

            def bad(field: str, message: str, at: tuple[str | int, ...] = path,
                    given: dict[str, object] = t) -> Finding:
                return self.report(w, (*at, field) if field in given else at, message)

            if key:
                problem = qualified_name_problem(key)
                if problem:
                    yield bad("key", f"toleration key {key!r}: {problem}")
            elif operator != "Exists":
                yield bad("operator", "operator must be Exists when `key` is empty, which "
                                      "means \"match all values and all keys\"")
            if t.get("tolerationSeconds") is not None and effect != "NoExecute":
                yield bad("effect", "effect must be 'NoExecute' when `tolerationSeconds` "
                                    f"is set (found {effect!r})")
            if operator == "Exists":
                if value:
                    yield bad("value", "value must be empty when `operator` is 'Exists' "
                                       f"(found {value!r})")
            elif operator == "Equal":
                problem = label_value_problem(value)
                if problem:
                    yield bad("value", f"toleration value {value!r}: {problem}")
            else:
                yield bad("operator", f"operator {operator!r} is not supported: Exists, Equal")
            if effect and effect not in EFFECTS:
                yield bad("effect", f"effect {effect!r} is not supported: {', '.join(EFFECTS)}")
