"""Pods inside workload objects: where the pod spec sits, its containers, env and scale."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from math import ceil
from typing import Any

from generator.manifest_loader import Manifest
from generator.quantity import QuantityError, parse_quantity
from generator.rules.base import (
    ERROR,
    WARNING,
    Context,
    Finding,
    RepeatedFindings,
    Rule,
    as_dict,
    as_list,
    finding,
)
from generator.security_exceptions import SecurityException
from generator.yamlio import KeyPath

# Where each workload kind keeps its pod template ((): the object is the pod).
TEMPLATE_PATHS: dict[str, KeyPath] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "PodTemplate": ("template",),
}
# Built-in kinds that hold no pod template: never searched for one.
_NO_POD = frozenset({
    "ConfigMap", "Secret", "Service", "ServiceAccount", "Namespace", "ResourceQuota",
    "LimitRange", "PersistentVolumeClaim", "PersistentVolume", "HorizontalPodAutoscaler",
    "PodDisruptionBudget", "NetworkPolicy", "Role", "RoleBinding", "ClusterRole",
    "ClusterRoleBinding", "Ingress", "IngressClass", "StorageClass", "Endpoints",
    "EndpointSlice", "PriorityClass", "CustomResourceDefinition", "Event", "Lease",
})
# Custom resources nest pod templates a few levels down (JobSet: spec.replicatedJobs[].
# template.spec.template); real ones are far above this depth.
_SEARCH_DEPTH = 12
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_VAR = re.compile(r"\$\$|\$\(([^)]*)\)")


@dataclass(frozen=True)
class Container:
    path: KeyPath
    spec: dict[str, Any]
    list_name: str  # containers | initContainers | ephemeralContainers

    @property
    def name(self) -> str:
        return str(self.spec.get("name") or f"#{self.path[-1]}")

    @property
    def is_sidecar(self) -> bool:
        return self.list_name == "initContainers" and self.spec.get("restartPolicy") == "Always"

    @property
    def runs_alongside(self) -> bool:
        """Runs for the pod's life: a regular container or a sidecar init container."""
        return self.list_name == "containers" or self.is_sidecar


@dataclass(frozen=True)
class Workload:
    """A pod template inside an object. Its pod spec and containers are looked up once
    (every workload rule reads them; rules never change the objects they judge)."""

    manifest: Manifest
    template_path: KeyPath

    @property
    def kind(self) -> str:
        return self.manifest.kind

    @cached_property
    def spec_path(self) -> KeyPath:
        return (*self.template_path, "spec")

    @cached_property
    def pod_metadata(self) -> dict[str, Any]:
        return as_dict(_get(self.manifest.obj, (*self.template_path, "metadata")))

    @cached_property
    def pod_spec(self) -> dict[str, Any]:
        return as_dict(_get(self.manifest.obj, self.spec_path))

    @cached_property
    def _by_list(self) -> dict[str, tuple[Container, ...]]:
        spec, at = self.pod_spec, self.spec_path
        return {name: tuple(Container((*at, name, i), c, name)
                            for i, c in enumerate(as_list(spec.get(name)))
                            if isinstance(c, dict))
                for name in CONTAINER_LISTS}

    def annotation(self, key: str) -> str | None:
        """From the pod template, else from the workload object itself."""
        for meta in (self.pod_metadata, self.manifest.metadata):
            value = as_dict(meta.get("annotations")).get(key)
            if value is not None:
                return str(value)
        return None

    @property
    def long_running(self) -> bool:
        if self.kind in ("Job", "CronJob"):
            return False
        # A pod that is not restarted (a Pod, or a custom resource's batch pod) runs once.
        return self.pod_spec.get("restartPolicy") not in ("Never", "OnFailure")

    def containers(self, *lists: str) -> tuple[Container, ...]:
        """The containers of the named lists (default: all three), in the order named.
        A tuple kept per choice of lists (rules ask for one of four), not a generator:
        about thirty rules iterate each workload's containers."""
        chosen = lists or CONTAINER_LISTS
        found = self._chosen.get(chosen)
        if found is None:
            by_list = self._by_list
            found = self._chosen[chosen] = tuple(
                c for name in chosen for c in by_list.get(name, ()))
        return found

    @cached_property
    def _chosen(self) -> dict[tuple[str, ...], tuple[Container, ...]]:
        return {}


def _get(data: Any, path: KeyPath) -> Any:
    for part in path:
        if isinstance(part, str) and isinstance(data, dict):
            data = data.get(part)
        elif isinstance(part, int) and isinstance(data, list) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def workloads(ctx: Context) -> list[Workload]:
    """Every pod template in the set: built-in workload kinds at their known place, and
    any other kind (custom resources: Argo Rollouts, Knative Services, KEDA ScaledJobs,
    JobSets...) wherever a mapping holds a `spec` with a `containers` list."""
    cached = ctx.memo.get("workloads")
    if cached is None:
        cached = []
        for m in ctx.manifests:
            path = TEMPLATE_PATHS.get(m.kind)
            if path is not None:
                if isinstance(_get(m.obj, (*path, "spec")), dict):
                    cached.append(Workload(m, path))
            elif m.kind not in _NO_POD or not _built_in(m.api_version):
                cached.extend(Workload(m, p) for p in _pod_templates(m.obj, (), 0))
        ctx.memo["workloads"] = cached
    return list(cached)


def _built_in(api_version: str) -> bool:
    """Kubernetes' own API groups: the core group, 'apps', 'networking.k8s.io', ..."""
    group = api_version.rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def _pod_templates(node: Any, path: KeyPath, depth: int) -> list[KeyPath]:
    if depth > _SEARCH_DEPTH:
        return []
    if isinstance(node, dict):
        spec = node.get("spec")
        if isinstance(spec, dict) and isinstance(spec.get("containers"), list):
            return [path]
        return [found for key, value in node.items() if isinstance(value, (dict, list))
                for found in _pod_templates(value, (*path, key), depth + 1)]
    if isinstance(node, list):
        return [found for i, value in enumerate(node) if isinstance(value, (dict, list))
                for found in _pod_templates(value, (*path, i), depth + 1)]
    return []


def max_replicas(ctx: Context, w: Workload) -> int:
    """Pods at maximum scale: the HPA's maxReplicas, else the declared replicas."""
    m = w.manifest
    top = ctx.hpa_max.get((m.kind, m.namespace, m.name))
    if top is not None:
        return top
    if m.kind in ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController") or (
            m.kind not in TEMPLATE_PATHS and w.template_path == ("spec", "template")):
        replicas = as_dict(m.obj.get("spec")).get("replicas", 1)
        return replicas if isinstance(replicas, int) and replicas >= 0 else 1
    if m.kind == "Job":
        parallelism = as_dict(m.obj.get("spec")).get("parallelism", 1)
        return parallelism if isinstance(parallelism, int) else 1
    return 1


def surge(w: Workload, replicas: int) -> int:
    """Extra pods a rolling update adds on top of `replicas`."""
    spec = as_dict(w.manifest.obj.get("spec"))
    if w.kind != "Deployment":
        return 0
    strategy = as_dict(spec.get("strategy"))
    if strategy.get("type") == "Recreate":
        return 0
    value = as_dict(strategy.get("rollingUpdate")).get("maxSurge", "25%")
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        return ceil(int(value[:-1]) * replicas / 100)
    return 1


def may_run_many(ctx: Context, w: Workload) -> bool:
    """More than one pod of this workload may exist at once (scale or rolling surge)."""
    if w.kind == "DaemonSet":
        return True
    top = max_replicas(ctx, w)
    return top > 1 or top + surge(w, top) > 1


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion: unknown references stay as written, $$ escapes."""
    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))
    return _VAR.sub(sub, text)


def container_env(ctx: Context, w: Workload, c: Container) -> dict[str, str]:
    """The env a container sees, as far as the manifest set tells: envFrom ConfigMaps,
    literal values (expanded) and configMapKeyRef values. Secret values are unknowable.
    Worked out once per container per run (several rules read it): read-only."""
    memo: dict[int, tuple[Container, dict[str, str]]] = ctx.memo.setdefault(
        "container_env", {})
    known = memo.get(id(c))
    if known is not None and known[0] is c:
        return known[1]
    env = _container_env(ctx, w, c)
    memo[id(c)] = (c, env)  # the container kept with it: its id is never reused
    return env


def _container_env(ctx: Context, w: Workload, c: Container) -> dict[str, str]:
    ns = w.manifest.namespace
    env: dict[str, str] = {}
    for source in as_list(c.spec.get("envFrom")):
        ref = as_dict(as_dict(source).get("configMapRef"))
        cm = ctx.get("ConfigMap", ns, str(ref.get("name")))
        if cm is None:
            continue
        prefix = str(as_dict(source).get("prefix") or "")
        for key, value in as_dict(cm.obj.get("data")).items():
            env[prefix + str(key)] = str(value)
    for item in as_list(c.spec.get("env")):
        item = as_dict(item)
        name = item.get("name")
        if not isinstance(name, str):
            continue
        if "value" in item:
            env[name] = expand(str(item["value"]), env)
            continue
        ref = as_dict(as_dict(item.get("valueFrom")).get("configMapKeyRef"))
        if ref:
            cm = ctx.get("ConfigMap", ns, str(ref.get("name")))
            data = as_dict(cm.obj.get("data")) if cm else {}
            if ref.get("key") in data:
                env[name] = str(data[ref["key"]])
                continue
        env.pop(name, None)
    return env


def command_line(c: Container, env: dict[str, str]) -> list[str]:
    """command + args with $(VAR) expanded, the way the kubelet starts the container."""
    words = [str(w) for w in as_list(c.spec.get("command")) + as_list(c.spec.get("args"))]
    return [expand(w, env) for w in words]


def quantity(c: Container, section: str, resource: str) -> Fraction | None:
    value = as_dict(as_dict(c.spec.get("resources")).get(section)).get(resource)
    if value is None:
        return None
    try:
        return parse_quantity(value)
    except QuantityError:
        return None


def exact_sum(terms: Iterable[tuple[Fraction, int]]) -> Fraction:
    """The sum of value * times, exactly. Adding Fractions one at a time reduces by a gcd
    at every step; quantities have few denominators (1, 1000, 10**9), so numerators are
    summed as ints per denominator and only those few totals become Fractions."""
    by_denominator: dict[int, int] = {}
    for value, times in terms:
        den = value.denominator
        by_denominator[den] = by_denominator.get(den, 0) + value.numerator * times
    if len(by_denominator) == 1:  # the usual case: no Fraction addition at all
        for den, num in by_denominator.items():
            return Fraction(num, den)
    return sum((Fraction(n, d) for d, n in by_denominator.items()), Fraction(0))


def pod_resources(w: Workload, section: str, resource: str) -> Fraction:
    """What one pod asks of the scheduler: long-running containers summed, or the largest
    one-shot init container if that is more (init containers run one at a time)."""
    running = sum((quantity(c, section, resource) or Fraction(0)
                   for c in w.containers("containers", "initContainers") if c.runs_alongside),
                  Fraction(0))
    inits = [quantity(c, section, resource) or Fraction(0)
             for c in w.containers("initContainers") if not c.is_sidecar]
    return max([running, *inits])


RESOURCES = (("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"),
             ("limits", "memory"))


@dataclass(frozen=True)
class PodFigures:
    """A workload at maximum scale: its replicas, pods (with rollout surge) and one pod's
    requests and limits. Computed once per workload per run and shared by the rules."""

    replicas: int
    pods: int
    per_pod: dict[tuple[str, str], Fraction]


def pod_figures(ctx: Context, w: Workload) -> PodFigures:
    memo: dict[int, PodFigures] = ctx.memo.setdefault("pod_figures", {})
    found = memo.get(id(w))
    if found is None:
        top = max_replicas(ctx, w)
        found = PodFigures(top, top + surge(w, top), per_pod(ctx, w))
        memo[id(w)] = found
    return found


def per_pod(ctx: Context, w: Workload) -> dict[tuple[str, str], Fraction]:
    """One pod's requests and limits. Computed once per distinct set of containers'
    resources (the copies of an overlay, in a GitOps repository, repeat the same few
    dozen): the figures depend on nothing else. Read-only: the dict is shared."""
    memo: dict[tuple[Any, ...], dict[tuple[str, str], Fraction]] = ctx.memo.setdefault(
        "per_pod", {})
    signature = tuple((c.list_name, c.is_sidecar, _resources_key(c.spec))
                      for c in w.containers())
    try:
        found = memo.get(signature)
    except TypeError:  # an unhashable (malformed) value: computed, not remembered
        return {key: pod_resources(w, *key) for key in RESOURCES}
    if found is None:
        found = memo[signature] = {key: pod_resources(w, *key) for key in RESOURCES}
    return found


def _resources_key(spec: dict[str, Any]) -> Any:
    # Each value with its type: 1, 1.0 and True are equal keys to Python, not quantities.
    resources = as_dict(spec.get("resources"))
    return tuple(tuple(sorted((k, type(v).__name__, v)
                              for k, v in as_dict(resources.get(section)).items()))
                 for section in ("requests", "limits"))


def by_namespace(ctx: Context) -> dict[str, list[Workload]]:
    """Workloads grouped by namespace, once per run."""
    grouped: dict[str, list[Workload]] | None = ctx.memo.get("by_namespace")
    if grouped is None:
        grouped = {}
        for w in workloads(ctx):
            grouped.setdefault(w.manifest.namespace, []).append(w)
        ctx.memo["by_namespace"] = grouped
    return grouped


def image_name(image: str) -> str:
    """The repository's last segment without tag or digest: 'bitnami/redis:7' -> 'redis'."""
    repo = image.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def container_exception(ctx: Context, w: Workload, c: Container) -> SecurityException | None:
    """The declared exception (catalog or --exceptions file) for this container's image.
    Looked up once per image and namespace per run (several rules ask, for every
    container of every workload)."""
    image = c.spec.get("image")
    key = (image if isinstance(image, str) else None, w.manifest.namespace)
    memo: dict[tuple[str | None, str], SecurityException | None] = ctx.memo.setdefault(
        "container_exception", {})
    if key in memo:
        return memo[key]
    found = memo[key] = next((e for e in ctx.exceptions if e.applies(*key)), None)
    return found


def pod_root_exception(ctx: Context, w: Workload) -> SecurityException | None:
    """A pod-level root setting is excepted only when every container of the pod runs an
    image whose exception allows root."""
    found: SecurityException | None = None
    for c in w.containers():
        exc = container_exception(ctx, w, c)
        if exc is None or not exc.run_as_root:
            return None
        found = found or exc
    return found


class WorkloadRule(Rule):
    """A rule about each workload's pod. Its findings on a workload are placed in the
    workload's object and depend on that object's data and on what it names in the set
    (so a verbatim repeat gets its first copy's, see RepeatedFindings).

    Restricted-only rules may pass `allowed_by`: a declared exception (the catalog's, or
    one from `--exceptions FILE`) that relaxes exactly this check for this container; the
    finding is then a warning quoting its reason. Annotations on the manifest never are.
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        repeated = RepeatedFindings(ctx)
        for w in workloads(ctx):
            found = repeated.of(w.manifest, w.template_path)
            if found is None:
                found = list(self.check_workload(w, ctx))
                repeated.keep(w.manifest, found, w.template_path)
            yield from found

    def check_workload(self, w: Workload, ctx: Context) -> Iterator[Finding]:
        raise NotImplementedError

    def report(self, w: Workload, path: KeyPath, message: str,
               locate: KeyPath | None = None,
               allowed_by: SecurityException | None = None) -> Finding:
        if allowed_by is not None:
            return finding(self.id, WARNING, w.manifest, path,
                           f"{message} ({allowed_by.describe()})", locate)
        return finding(self.id, ERROR, w.manifest, path, message, locate)


def get(data: Any, path: KeyPath) -> Any:
    return _get(data, path)
