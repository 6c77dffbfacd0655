"""Pod Security Standards (restricted): drop ALL capabilities."""

from __future__ import annotations

from collections.abc import Iterator

from generator.rules.base import Context, Finding, as_dict, as_list
from generator.rules.workloads import Workload, WorkloadRule, container_exception


class Capabilities(WorkloadRule):
    """Containers drop ALL capabilities and add back at most NET_BIND_SERVICE.

    Pod Security Standards restricted, "Capabilities": `capabilities.drop` includes ALL on
    every container, init container and ephemeral container, and `capabilities.add` holds
    nothing but NET_BIND_SERVICE. A capability that a declared exception lists for the
    container's image is a warning quoting the reason; any other is an error, and so is a
    missing `drop: [ALL]`. The baseline rule still limits what may be added.
    """

    id = "pss-capabilities"
    layer = "policy"

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        for c in w.containers():
            caps = as_dict(as_dict(c.spec.get("securityContext")).get("capabilities"))
            path = (*c.path, "securityContext", "capabilities")
            if "ALL" not in [str(x) for x in as_list(caps.get("drop"))]:
                yield self.report(w, (*path, "drop"),
                                  f"container {c.name!r} must drop ALL capabilities")
            exc = container_exception(ctx, w, c)
            for i, cap in enumerate(as_list(caps.get("add"))):
                if cap != "NET_BIND_SERVICE":
                    allowed = exc if exc is not None and cap in exc.add_capabilities else None
                    yield self.report(w, (*path, "add", i),
                                      f"container {c.name!r} adds capability {cap}; "
                                      "restricted allows only NET_BIND_SERVICE",
                                      allowed_by=allowed)
