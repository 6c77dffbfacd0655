"""Pod Security Standards (restricted): runAsNonRoot."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict
from generator.rules.workloads import (
    Workload,
    WorkloadRule,
    container_exception,
    pod_root_exception,
)


class RunAsNonRoot(WorkloadRule):
    """Containers must be required to run as a non-root user.

    Pod Security Standards restricted, "Running as Non-root": `runAsNonRoot: true` on the
    pod's securityContext, or on every container's; neither the pod nor a container may set
    it to false (a pod-level `runAsNonRoot: false` is reported at the pod). A declared
    exception that allows root for a container's image (the catalog's dify-sandbox, which
    must start as root to build its chroot, or one from `--exceptions`) turns this into a
    warning that quotes the reason; a pod-level setting only when every container is
    covered.
    """

    id = "pss-run-as-non-root"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        pod_value = as_dict(w.pod_spec.get("securityContext")).get("runAsNonRoot")
        if pod_value is False:
            yield self.report(w, (*w.spec_path, "securityContext", "runAsNonRoot"),
                              "pod sets runAsNonRoot: false",
                              allowed_by=pod_root_exception(ctx, w))
        for c in w.containers():
            value = as_dict(c.spec.get("securityContext")).get("runAsNonRoot")
            exc = container_exception(ctx, w, c)
            allowed = exc if exc is not None and exc.run_as_root else None
            if value is False:
                yield self.report(w, (*c.path, "securityContext", "runAsNonRoot"),
                                  f"container {c.name!r} sets runAsNonRoot: false",
                                  allowed_by=allowed)
            elif value is None and pod_value is None:
                yield self.report(w, (*c.path, "securityContext", "runAsNonRoot"),
                                  f"container {c.name!r} may run as root: set "
                                  "runAsNonRoot: true on the pod or the container",
                                  allowed_by=allowed)
