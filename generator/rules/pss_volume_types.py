"""Pod Security Standards (restricted): volume types."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict, as_list
from generator.rules.workloads import Workload, WorkloadRule

ALLOWED_VOLUMES = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret",
})


class VolumeTypes(WorkloadRule):
    """Pods use only the volume types restricted allows.

    Pod Security Standards restricted, "Volume Types": every volume is one of configMap,
    csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or secret.
    No security exception relaxes this.
    """

    id = "pss-volume-types"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        for i, volume in enumerate(as_list(w.pod_spec.get("volumes"))):
            volume = as_dict(volume)
            for kind in sorted(set(volume) - {"name"} - ALLOWED_VOLUMES):
                yield self.report(w, (*w.spec_path, "volumes", i, kind),
                                  f"volume {volume.get('name')!r} has type {kind}, which "
                                  "restricted does not allow")
