"""Pod Security Standards (restricted): privilege escalation."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict
from generator.rules.workloads import Workload, WorkloadRule


class PrivilegeEscalation(WorkloadRule):
    """Every container sets allowPrivilegeEscalation: false.

    Pod Security Standards restricted, "Privilege Escalation": the field must be set to
    false on every container, init container and ephemeral container; unset counts as
    allowed (setuid binaries could gain privileges). No security exception relaxes this.
    """

    id = "pss-privilege-escalation"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        for c in w.containers():
            sc = as_dict(c.spec.get("securityContext"))
            if sc.get("allowPrivilegeEscalation") is not False:
                yield self.report(w, (*c.path, "securityContext", "allowPrivilegeEscalation"),
                                  f"container {c.name!r} must set "
                                  "securityContext.allowPrivilegeEscalation: false")
