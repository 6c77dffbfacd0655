"""Pod Security Standards (baseline): sysctls."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict, as_list
from generator.rules.workloads import Workload, WorkloadRule

# Namespaced sysctls that cannot affect other pods on the node (the standard as of 1.29+).
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
})


class Sysctls(WorkloadRule):
    """Pods may set only the safe sysctls.

    Pod Security Standards baseline, "Sysctls": `securityContext.sysctls[*].name` is one of
    kernel.shm_rmid_forced, net.ipv4.ip_local_port_range,
    net.ipv4.ip_unprivileged_port_start, net.ipv4.tcp_syncookies, net.ipv4.ping_group_range,
    net.ipv4.ip_local_reserved_ports, net.ipv4.tcp_keepalive_time, net.ipv4.tcp_fin_timeout,
    net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes. Always an error.
    """

    id = "pss-sysctls"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        sysctls = as_list(as_dict(w.pod_spec.get("securityContext")).get("sysctls"))
        for i, item in enumerate(sysctls):
            name = as_dict(item).get("name")
            if name not in SAFE_SYSCTLS:
                yield self.report(w, (*w.spec_path, "securityContext", "sysctls", i, "name"),
                                  f"sysctl {name} is not in the safe set")
