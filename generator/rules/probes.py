"""Liveness and readiness probes on long-running containers."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding
from generator.rules.workloads import Workload, WorkloadRule


class Probes(WorkloadRule):
    """Every long-running container has a livenessProbe and a readinessProbe.

    Long-running means a regular container (or a sidecar init container with
    `restartPolicy: Always`) of anything but a Job, a CronJob or a run-to-completion Pod.
    Without readiness a Service sends traffic to a pod still migrating its database;
    without liveness a wedged Celery worker stays "Running" forever. Containers that start
    slowly should add a startupProbe too (not enforced: only the author knows the start
    time).
    """

    id = "probes"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        if not w.long_running:
            return
        for c in w.containers("initContainers", "containers"):
            if not c.runs_alongside:
                continue
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in c.spec:
                    yield self.report(w, (*c.path, probe),
                                      f"container {c.name!r} has no {probe}",
                                      locate=(*c.path, "name"))
