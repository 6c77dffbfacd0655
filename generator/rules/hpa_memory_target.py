"""Memory targets on HPAs that scale Python processes."""

from __future__ import annotations

from collections.abc import Iterator

from generator.catalog import CATALOG
from generator.rules.base import ERROR, WARNING, Context, Finding, Rule, as_dict, as_list, finding
from generator.rules.workloads import image_name

# Image name (last repository segment) -> runtime, from the catalog.
_RUNTIME_BY_IMAGE = {c.image.rsplit("/", 1)[-1]: c.runtime for c in CATALOG}
RETAINING = frozenset({"python"})


class HpaMemoryTarget(Rule):
    """An HPA scales a Python process on memory.

    CPython does not give freed memory back to the operating system (its allocator keeps
    arenas), so the memory utilization of a dify-api process (api, websocket, Celery
    worker, beat) or of the plugin daemon (whose memory is its Python plugin processes)
    only grows. A `Resource` metric on `memory` then holds the workload at maxReplicas:
    the HPA takes the largest of its metrics' recommendations. Runtimes come from the
    component catalog, matched by image name. An HPA whose only metrics are memory is an
    error (it scales up and never down); memory next to a CPU metric is a warning (the pods
    never scale below what memory asks for). Limit memory and let the limit restart a
    process instead.
    """

    id = "hpa-memory-target"
    layer = "sizing"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for hpa in ctx.of_kind("HorizontalPodAutoscaler"):
            spec = as_dict(hpa.obj.get("spec"))
            target = as_dict(spec.get("scaleTargetRef"))
            workload = ctx.get(str(target.get("kind")), hpa.namespace, str(target.get("name")))
            if workload is None:
                continue
            pod = as_dict(as_dict(as_dict(workload.obj.get("spec")).get("template")).get("spec"))
            runtimes = {_RUNTIME_BY_IMAGE.get(image_name(str(as_dict(c).get("image", ""))))
                        for c in as_list(pod.get("containers"))}
            if not runtimes & RETAINING:
                continue
            metrics = as_list(spec.get("metrics"))
            names = [str(as_dict(as_dict(m).get("resource")).get("name"))
                     for m in metrics if as_dict(m).get("type") == "Resource"]
            for i, name in enumerate(names):
                if name != "memory":
                    continue
                only = all(n == "memory" for n in names) and len(names) == len(metrics)
                yield finding(
                    self.id, ERROR if only else WARNING, hpa, ("spec", "metrics", i),
                    f"{hpa.kind}/{hpa.name} scales a Python process on memory, which "
                    "Python does not return to the OS: "
                    + ("with no other metric it scales up and never down; scale on CPU"
                       if only else "it will hold the workload near maxReplicas; drop the "
                       "memory target and rely on CPU and the memory limit"))
