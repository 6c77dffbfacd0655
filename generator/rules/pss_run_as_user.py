"""Pod Security Standards (restricted): runAsUser."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict
from generator.rules.workloads import Workload, WorkloadRule


class RunAsUser(WorkloadRule):
    """No pod or container sets runAsUser: 0.

    Pod Security Standards restricted, "Running as Non-root user": `runAsUser` on the pod
    and on every container is unset or non-zero. A security exception turns this into a
    warning that quotes the reason.
    """

    id = "pss-run-as-user"
    layer = "policy"
    restricted = True

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        if as_dict(w.pod_spec.get("securityContext")).get("runAsUser") == 0:
            yield self.report(w, (*w.spec_path, "securityContext", "runAsUser"),
                              "pod runs as root (runAsUser: 0)")
        for c in w.containers():
            if as_dict(c.spec.get("securityContext")).get("runAsUser") == 0:
                yield self.report(w, (*c.path, "securityContext", "runAsUser"),
                                  f"container {c.name!r} runs as root (runAsUser: 0)")
