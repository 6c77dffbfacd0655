"""Pod Security Standards (baseline): privileged containers and Windows HostProcess."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict
from generator.rules.workloads import Workload, WorkloadRule


class Privileged(WorkloadRule):
    """No container may be privileged or a Windows HostProcess container.

    Pod Security Standards baseline, "Privileged Containers" and "HostProcess":
    `securityContext.privileged` and `securityContext.windowsOptions.hostProcess` must be
    unset or false on every container, init container and ephemeral container (and
    `hostProcess` on the pod). A privileged container is root on the node. Always an error.
    """

    id = "pss-privileged"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        pod_sc = as_dict(w.pod_spec.get("securityContext"))
        if as_dict(pod_sc.get("windowsOptions")).get("hostProcess") is True:
            yield self.report(w, (*w.spec_path, "securityContext", "windowsOptions",
                                  "hostProcess"), "pod is a Windows HostProcess pod")
        for c in w.containers():
            sc = as_dict(c.spec.get("securityContext"))
            if sc.get("privileged") is True:
                yield self.report(w, (*c.path, "securityContext", "privileged"),
                                  f"container {c.name!r} is privileged")
            if as_dict(sc.get("windowsOptions")).get("hostProcess") is True:
                yield self.report(w, (*c.path, "securityContext", "windowsOptions",
                                      "hostProcess"),
                                  f"container {c.name!r} is a Windows HostProcess container")
