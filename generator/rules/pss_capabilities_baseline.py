"""Pod Security Standards (baseline): added capabilities."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict, as_list
from generator.rules.workloads import Workload, WorkloadRule

# The container runtimes' default set: adding one of these changes nothing on a stock
# runtime, which is why baseline allows them.
BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})


class CapabilitiesBaseline(WorkloadRule):
    """Containers may add only capabilities from the runtime's default set.

    Pod Security Standards baseline, "Capabilities": `securityContext.capabilities.add` may
    hold only AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD,
    NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID and SYS_CHROOT (with or without a
    `CAP_` prefix the runtime would not accept anyway). Always an error, even with a
    security exception: the exception covers restricted, not baseline.
    """

    id = "pss-capabilities-baseline"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        for c in w.containers():
            caps = as_dict(as_dict(c.spec.get("securityContext")).get("capabilities"))
            for i, cap in enumerate(as_list(caps.get("add"))):
                if str(cap) not in BASELINE_CAPABILITIES:
                    yield self.report(
                        w, (*c.path, "securityContext", "capabilities", "add", i),
                        f"container {c.name!r} adds capability {cap}, which baseline "
                        "forbids")
