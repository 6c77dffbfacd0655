"""Pod Security Standards (baseline): SELinux options."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.rules.base import Context, Finding, as_dict
from generator.rules.workloads import Workload, WorkloadRule
from generator.yamlio import KeyPath

ALLOWED_TYPES = ("", "container_t", "container_init_t", "container_kvm_t",
                 "container_engine_t")


class SELinux(WorkloadRule):
    """SELinux options may not pick a custom user, role or a privileged type.

    Pod Security Standards baseline, "SELinux": `seLinuxOptions.type` (pod and containers)
    is unset or one of container_t, container_init_t, container_kvm_t, container_engine_t;
    `seLinuxOptions.user` and `.role` are unset. Always an error.
    """

    id = "pss-selinux"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        yield from self._options(w, w.spec_path, as_dict(w.pod_spec.get("securityContext")),
                                 "pod")
        for c in w.containers():
            yield from self._options(w, c.path, as_dict(c.spec.get("securityContext")),
                                     f"container {c.name!r}")

    def _options(self, w: Workload, base: KeyPath, sc: dict[str, Any],
                 who: str) -> Iterator[Finding]:
        options = as_dict(sc.get("seLinuxOptions"))
        path = (*base, "securityContext", "seLinuxOptions")
        kind = options.get("type")
        if kind is not None and kind not in ALLOWED_TYPES:
            yield self.report(w, (*path, "type"), f"{who} SELinux type {kind!r} is not allowed")
        for key in ("user", "role"):
            if options.get(key):
                yield self.report(w, (*path, key), f"{who} sets SELinux {key}")
