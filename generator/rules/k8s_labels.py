"""Label keys and values the API server accepts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.k8s_names import label_value_problem, qualified_name_problem
from generator.manifest_loader import Manifest
from generator.rules.base import ERROR, Context, Finding, ObjectRule, as_dict, finding
from generator.rules.workloads import TEMPLATE_PATHS
from generator.yamlio import KeyPath


class K8sLabels(ObjectRule):
    """Label keys are qualified names and values at most 63 characters of the label syntax.

    The rule of the API server's `ValidateLabels`
    (k8s.io/apimachinery `pkg/apis/meta/v1/validation/validation.go`), which calls
    `IsQualifiedName` for keys and `IsValidLabelValue` for values
    (`pkg/util/validation/validation.go`). Checked where it applies: `metadata.labels` of
    every object, the pod template's labels, `spec.selector.matchLabels` and the pod's
    `nodeSelector` (`ValidatePodSpec` validates it with `ValidateLabels` too). A value the
    API server refuses fails the whole apply.
    """

    id = "k8s-labels"
    layer = "schema"
    namespace_blind = True  # labels, selectors and node selectors only

    def check_object(self, manifest: Manifest, ctx: Context) -> Iterator[Finding]:
        places: list[KeyPath] = [("metadata", "labels"), ("spec", "selector", "matchLabels")]
        template = TEMPLATE_PATHS.get(manifest.kind)
        if template is not None:
            places += [(*template, "spec", "nodeSelector")]
            if template:
                places.append((*template, "metadata", "labels"))
        good = _good_pairs(ctx)
        for path in places:
            labels = as_dict(_get(manifest.obj, path))
            try:
                if good.issuperset(labels.items()):
                    continue
            except TypeError:  # an unhashable value: judged below
                pass
            for key, value in labels.items():
                problem = qualified_name_problem(str(key))
                if problem:
                    yield finding(self.id, ERROR, manifest, (*path, key),
                                  f"label key {key!r}: {problem}", locate=(*path, key))
                if not isinstance(value, str):
                    yield finding(self.id, ERROR, manifest, (*path, key),
                                  f"label {key!r}: found {value!r}; a label value is a string")
                    continue
                problem = label_value_problem(value)
                if problem:
                    yield finding(self.id, ERROR, manifest, (*path, key),
                                  f"label {key!r} value {value!r}: {problem}")
                elif isinstance(key, str) and not qualified_name_problem(key):
                    good.add((key, value))


def _good_pairs(ctx: Context) -> set[tuple[str, str]]:
    """Label pairs found valid in this run. A GitOps repository repeats the same few
    hundred labels on every object: a dict of known pairs is judged by one set
    operation."""
    good: set[tuple[str, str]] = ctx.memo.setdefault("good_label_pairs", set())
    return good


def _get(data: Any, path: KeyPath) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data
