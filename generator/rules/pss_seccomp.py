"""Pod Security Standards (restricted): seccomp profile required."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict
from generator.rules.workloads import Workload, WorkloadRule

ALLOWED = ("RuntimeDefault", "Localhost")


class Seccomp(WorkloadRule):
    """A seccomp profile (RuntimeDefault or Localhost) must be set.

    Pod Security Standards restricted, "Seccomp": `seccompProfile.type` is RuntimeDefault
    or Localhost on the pod, or else on every container; no container may set another
    type. No security exception relaxes this.
    """

    id = "pss-seccomp"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        pod_type = as_dict(as_dict(w.pod_spec.get("securityContext"))
                           .get("seccompProfile")).get("type")
        pod_ok = pod_type in ALLOWED
        for c in w.containers():
            kind = as_dict(as_dict(c.spec.get("securityContext"))
                           .get("seccompProfile")).get("type")
            path = (*c.path, "securityContext", "seccompProfile")
            if kind is None and not pod_ok:
                yield self.report(w, path, f"container {c.name!r} has no seccomp profile: set "
                                           "seccompProfile.type: RuntimeDefault on the pod")
            elif kind is not None and kind not in ALLOWED:
                yield self.report(w, (*path, "type"),
                                  f"container {c.name!r} seccomp profile is {kind}")
