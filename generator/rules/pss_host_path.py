"""Pod Security Standards (baseline): hostPath volumes."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict, as_list
from generator.rules.workloads import Workload, WorkloadRule


class HostPath(WorkloadRule):
    """Pods must not mount hostPath volumes.

    Pod Security Standards baseline, "HostPath Volumes": a hostPath volume reads or writes
    the node's file system (the kubelet's credentials, the container runtime socket).
    Always an error.
    """

    id = "pss-host-path"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        for i, volume in enumerate(as_list(w.pod_spec.get("volumes"))):
            if "hostPath" in as_dict(volume):
                yield self.report(w, (*w.spec_path, "volumes", i, "hostPath"),
                                  f"volume {as_dict(volume).get('name')!r} is a hostPath "
                                  "volume")
