"""Pod Security Standards (baseline): host ports."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict, as_list
from generator.rules.workloads import Workload, WorkloadRule


class HostPorts(WorkloadRule):
    """Containers must not bind host ports.

    Pod Security Standards baseline, "Host Ports": `ports[*].hostPort` must be unset or 0.
    A host port bypasses network policies and pins the pod to nodes where the port is
    free. Always an error.
    """

    id = "pss-host-ports"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        for c in w.containers():
            for i, port in enumerate(as_list(c.spec.get("ports"))):
                host_port = as_dict(port).get("hostPort")
                if host_port not in (None, 0):
                    yield self.report(w, (*c.path, "ports", i, "hostPort"),
                                      f"container {c.name!r} binds host port {host_port}")
