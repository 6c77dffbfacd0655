"""Requests and limits on every container."""

from __future__ import annotations

from collections.abc import Iterator

from generator.quantity import QuantityError, parse_quantity
from generator.rules.base import Context, Finding, as_dict
from generator.rules.workloads import Workload, WorkloadRule


class ResourcesLimits(WorkloadRule):
    """Every container and init container declares cpu and memory requests and limits.

    Without requests the scheduler packs pods blind and the quota and node-fit rules
    cannot add anything up; without a memory limit one leaking worker takes the node down.
    Each of `resources.requests.cpu`, `requests.memory`, `limits.cpu` and `limits.memory`
    must be present and parse as a Kubernetes quantity ('500m', '2Gi'). Ephemeral
    containers cannot carry resources and are skipped.
    """

    id = "resources-limits"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        for c in w.containers("initContainers", "containers"):
            resources = as_dict(c.spec.get("resources"))
            for section in ("requests", "limits"):
                values = as_dict(resources.get(section))
                for resource in ("cpu", "memory"):
                    path = (*c.path, "resources", section, resource)
                    if resource not in values:
                        yield self.report(w, path, f"container {c.name!r} has no "
                                                   f"{section}.{resource}")
                        continue
                    try:
                        parse_quantity(values[resource])
                    except QuantityError as exc:
                        yield self.report(w, path, f"container {c.name!r}: {exc}")
