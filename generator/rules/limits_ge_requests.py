"""Limits at or above requests."""

from __future__ import annotations

from collections.abc import Iterator

from generator.quantity import QuantityError, parse_quantity
from generator.rules.base import Context, Finding, as_dict
from generator.rules.workloads import Workload, WorkloadRule


class LimitsGeRequests(WorkloadRule):
    """For every resource a container both requests and limits, the limit is not lower.

    The API server rejects a limit below its request at apply time, which in a GitOps
    flow means a sync that fails after merge; this catches it before. Applies to every
    resource name (cpu, memory, ephemeral-storage, extended resources). Values that do not
    parse are left to the resources-limits rule.
    """

    id = "limits-ge-requests"
    layer = "sizing"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        for c in w.containers("initContainers", "containers"):
            resources = as_dict(c.spec.get("resources"))
            requests = as_dict(resources.get("requests"))
            limits = as_dict(resources.get("limits"))
            for name in sorted(set(requests) & set(limits)):
                try:
                    low, high = parse_quantity(requests[name]), parse_quantity(limits[name])
                except QuantityError:
                    continue
                if high < low:
                    yield self.report(w, (*c.path, "resources", "limits", name),
                                      f"container {c.name!r} limits {name} to "
                                      f"{limits[name]}, below its request {requests[name]}")
