"""Pod Security Standards (baseline): sysctls, by Kubernetes version."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict, as_list
from generator.rules.workloads import Workload, WorkloadRule

# The safe set grew with Kubernetes (Pod Security admission's check, and the kubelet's
# safe sysctls in docs/tasks/administer-cluster/sysctl-cluster): the minor version each
# name was added in. Versions before the oldest schema we ship (1.25) all count as 1.0.
SYSCTLS_SINCE: dict[str, tuple[int, int]] = {
    "kernel.shm_rmid_forced": (1, 0),
    "net.ipv4.ip_local_port_range": (1, 0),
    "net.ipv4.tcp_syncookies": (1, 0),
    "net.ipv4.ping_group_range": (1, 0),
    "net.ipv4.ip_unprivileged_port_start": (1, 0),
    "net.ipv4.ip_local_reserved_ports": (1, 27),
    "net.ipv4.tcp_keepalive_time": (1, 29),
    "net.ipv4.tcp_fin_timeout": (1, 29),
    "net.ipv4.tcp_keepalive_intvl": (1, 29),
    "net.ipv4.tcp_keepalive_probes": (1, 29),
    "net.ipv4.tcp_rmem": (1, 32),
    "net.ipv4.tcp_wmem": (1, 32),
}


def minor(version: str) -> tuple[int, int]:
    major, _, rest = version.partition(".")
    return int(major), int(rest.split(".")[0] or 0)


def safe_sysctls(kube_version: str) -> frozenset[str]:
    at = minor(kube_version)
    return frozenset(name for name, since in SYSCTLS_SINCE.items() if since <= at)


class Sysctls(WorkloadRule):
    """Pods may set only the safe sysctls of the chosen Kubernetes version.

    Pod Security Standards baseline, "Sysctls": `securityContext.sysctls[*].name` is one of
    kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, net.ipv4.tcp_syncookies,
    net.ipv4.ping_group_range, net.ipv4.ip_unprivileged_port_start; from 1.27 also
    net.ipv4.ip_local_reserved_ports; from 1.29 net.ipv4.tcp_keepalive_time,
    net.ipv4.tcp_fin_timeout, net.ipv4.tcp_keepalive_intvl, net.ipv4.tcp_keepalive_probes;
    from 1.32 net.ipv4.tcp_rmem and net.ipv4.tcp_wmem. The version is `--kube-version`
    (the profile's for profiles). Always an error.
    """

    id = "pss-sysctls"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        sysctls = as_list(as_dict(w.pod_spec.get("securityContext")).get("sysctls"))
        if not sysctls:
            return
        safe = safe_sysctls(ctx.kube_version)
        for i, item in enumerate(sysctls):
            name = as_dict(item).get("name")
            if name not in safe:
                since = SYSCTLS_SINCE.get(str(name))
                hint = (f" before Kubernetes {since[0]}.{since[1]} (validating for "
                        f"{ctx.kube_version})") if since else ""
                yield self.report(w, (*w.spec_path, "securityContext", "sysctls", i, "name"),
                                  f"sysctl {name} is not in the safe set{hint}")
