"""Pod Security Standards (restricted): runAsUser."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict
from generator.rules.workloads import (
    Workload,
    WorkloadRule,
    container_exception,
    pod_root_exception,
)


class RunAsUser(WorkloadRule):
    """No pod or container sets runAsUser: 0.

    Pod Security Standards restricted, "Running as Non-root user": `runAsUser` on the pod
    and on every container is unset or non-zero. A declared exception that allows root for
    the container's image (for the pod: for every container's) turns this into a warning
    that quotes the reason.
    """

    id = "pss-run-as-user"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        if as_dict(w.pod_spec.get("securityContext")).get("runAsUser") == 0:
            yield self.report(w, (*w.spec_path, "securityContext", "runAsUser"),
                              "pod runs as root (runAsUser: 0)",
                              allowed_by=pod_root_exception(ctx, w))
        for c in w.containers():
            if as_dict(c.spec.get("securityContext")).get("runAsUser") == 0:
                exc = container_exception(ctx, w, c)
                yield self.report(w, (*c.path, "securityContext", "runAsUser"),
                                  f"container {c.name!r} runs as root (runAsUser: 0)",
                                  allowed_by=exc if exc and exc.run_as_root else None)
