"""Pod Security Standards (baseline): host namespaces."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding
from generator.rules.workloads import Workload, WorkloadRule


class HostNamespaces(WorkloadRule):
    """Pods must not share the node's network, PID or IPC namespace.

    Pod Security Standards baseline, "Host Namespaces": `hostNetwork`, `hostPID` and
    `hostIPC` must be unset or false. A pod in the host network can reach every service
    bound to the node's loopback and sniff its traffic. Always an error, even with a
    security exception.
    """

    id = "pss-host-namespaces"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if w.pod_spec.get(key) is True:
                yield self.report(w, (*w.spec_path, key),
                                  f"{key} is true; pods must not share host namespaces")
