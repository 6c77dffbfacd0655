"""Pod Security Standards (baseline): seccomp not Unconfined."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict
from generator.rules.workloads import Workload, WorkloadRule


class SeccompBaseline(WorkloadRule):
    """Seccomp may not be explicitly turned off.

    Pod Security Standards baseline, "Seccomp": `seccompProfile.type` on the pod and on
    every container must not be Unconfined. Always an error.
    """

    id = "pss-seccomp-baseline"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        pod = as_dict(as_dict(w.pod_spec.get("securityContext")).get("seccompProfile"))
        if pod.get("type") == "Unconfined":
            yield self.report(w, (*w.spec_path, "securityContext", "seccompProfile", "type"),
                              "pod seccomp profile is Unconfined")
        for c in w.containers():
            prof = as_dict(as_dict(c.spec.get("securityContext")).get("seccompProfile"))
            if prof.get("type") == "Unconfined":
                yield self.report(w, (*c.path, "securityContext", "seccompProfile", "type"),
                                  f"container {c.name!r} seccomp profile is Unconfined")
