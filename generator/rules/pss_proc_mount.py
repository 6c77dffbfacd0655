"""Pod Security Standards (baseline): /proc mount type."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict
from generator.rules.workloads import Workload, WorkloadRule


class ProcMount(WorkloadRule):
    """Containers keep the default, masked /proc.

    Pod Security Standards baseline, "/proc Mount Type": `securityContext.procMount` is
    unset or Default. Unmasked exposes kernel interfaces. Always an error.
    """

    id = "pss-proc-mount"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        for c in w.containers():
            mount = as_dict(c.spec.get("securityContext")).get("procMount")
            if mount not in (None, "Default"):
                yield self.report(w, (*c.path, "securityContext", "procMount"),
                                  f"container {c.name!r} procMount is {mount}")
