"""Pod Security Standards (baseline): AppArmor."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict
from generator.rules.workloads import Workload, WorkloadRule

ALLOWED_TYPES = ("RuntimeDefault", "Localhost")
ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


class AppArmor(WorkloadRule):
    """AppArmor may not be turned off.

    Pod Security Standards baseline, "AppArmor": `appArmorProfile.type` on the pod and on
    every container is unset, RuntimeDefault or Localhost, and the older
    `container.apparmor.security.beta.kubernetes.io/*` annotations are `runtime/default` or
    `localhost/*`. Unconfined is an error, even with a security exception.
    """

    id = "pss-apparmor"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        pod_type = as_dict(as_dict(w.pod_spec.get("securityContext"))
                           .get("appArmorProfile")).get("type")
        if pod_type is not None and pod_type not in ALLOWED_TYPES:
            yield self.report(w, (*w.spec_path, "securityContext", "appArmorProfile", "type"),
                              f"pod AppArmor profile is {pod_type}")
        for c in w.containers():
            kind = as_dict(as_dict(c.spec.get("securityContext"))
                           .get("appArmorProfile")).get("type")
            if kind is not None and kind not in ALLOWED_TYPES:
                yield self.report(w, (*c.path, "securityContext", "appArmorProfile", "type"),
                                  f"container {c.name!r} AppArmor profile is {kind}")
        annotations = as_dict(w.pod_metadata.get("annotations"))
        for key, value in sorted(annotations.items()):
            if key.startswith(ANNOTATION_PREFIX) and not (
                    value == "runtime/default" or str(value).startswith("localhost/")):
                yield self.report(w, (*w.template_path, "metadata", "annotations", key),
                                  f"annotation {key} is {value!r}")
