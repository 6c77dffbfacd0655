"""Pod Security Standards (restricted): runAsNonRoot."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict
from generator.rules.workloads import Workload, WorkloadRule


class RunAsNonRoot(WorkloadRule):
    """Containers must be required to run as a non-root user.

    Pod Security Standards restricted, "Running as Non-root": `runAsNonRoot: true` on the
    pod's securityContext, or on every container's; a container may not set it to false.
    A security exception (e.g. dify-sandbox, which must start as root to build its chroot)
    turns this into a warning that quotes the reason.
    """

    id = "pss-run-as-non-root"
    layer = "policy"
    restricted = True

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        pod_value = as_dict(w.pod_spec.get("securityContext")).get("runAsNonRoot")
        for c in w.containers():
            value = as_dict(c.spec.get("securityContext")).get("runAsNonRoot")
            if value is False:
                yield self.report(w, (*c.path, "securityContext", "runAsNonRoot"),
                                  f"container {c.name!r} sets runAsNonRoot: false")
            elif value is None and pod_value is not True:
                yield self.report(w, (*c.path, "securityContext", "runAsNonRoot"),
                                  f"container {c.name!r} may run as root: set "
                                  "runAsNonRoot: true on the pod or the container")
