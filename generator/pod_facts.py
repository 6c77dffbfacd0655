"""Pod-level facts of a component, computed once from the Plan for both targets.

The Kustomize manifests (targets/kube_objects.py) and the Helm values (targets/helm.py)
say the same things about a pod: who it runs as, what it may write, what it requests,
how it is probed, where it may be scheduled, how long it gets to stop. This module
decides them; the targets only map them to their format (a Deployment's fields, or the
chart's keys, which number ports where Kubernetes names them and put the run-as user on
the container too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.catalog import Check, Component
from generator.plan import Plan
from generator.quantity import format_cpu, format_memory
from generator.sizing import ComponentSizing, ProbeTiming, Resources, Scheduling

Obj = dict[str, Any]

HOST_TOPOLOGY = "kubernetes.io/hostname"
ZONE_TOPOLOGY = "topology.kubernetes.io/zone"
SECCOMP = {"type": "RuntimeDefault"}


@dataclass(frozen=True)
class SecurityFacts:
    """Who the container runs as and what it may do (Pod Security Standards
    "restricted" unless the catalog declares an exception with its reason)."""

    non_root: bool
    user: int
    group: int
    read_only_root: bool
    add_capabilities: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProbeFacts:
    kind: str  # liveness | readiness | startup
    check: Check
    timing: ProbeTiming


@dataclass(frozen=True)
class PodFacts:
    component: Component
    sizing: ComponentSizing
    security: SecurityFacts
    resources: Obj
    probes: tuple[ProbeFacts, ...]
    grace_period_seconds: int
    # Pods never mount a service account token: nothing in Dify calls the API server.
    automount_token: bool = False


def security(comp: Component) -> SecurityFacts:
    sec = comp.security
    exc = sec.exception
    caps = exc.add_capabilities if exc is not None else ()
    if exc is not None and exc.run_as_root:
        return SecurityFacts(False, sec.user, sec.group, sec.read_only_root, caps)
    return SecurityFacts(True, sec.user, sec.group, sec.read_only_root, caps)


def resources(r: Resources) -> Obj:
    return {
        "requests": {"cpu": format_cpu(r.requests.cpu), "memory": format_memory(r.requests.memory)},
        "limits": {"cpu": format_cpu(r.limits.cpu), "memory": format_memory(r.limits.memory)},
    }


def timing(t: ProbeTiming) -> Obj:
    return {
        "initialDelaySeconds": t.initial_delay_seconds,
        "periodSeconds": t.period_seconds,
        "timeoutSeconds": t.timeout_seconds,
        "failureThreshold": t.failure_threshold,
        "successThreshold": t.success_threshold,
    }


def probe_timings(sizing: ComponentSizing) -> list[tuple[str, ProbeTiming]]:
    """The probes the profile sizes: liveness, readiness, and startup where it has one."""
    out = [("liveness", sizing.probes.liveness), ("readiness", sizing.probes.readiness)]
    if sizing.probes.startup is not None:
        out.append(("startup", sizing.probes.startup))
    return out


def catalog_check(comp: Component, kind: str) -> Check | None:
    check: Check | None = {"liveness": comp.liveness, "readiness": comp.readiness,
                           "startup": comp.startup}[kind]
    return check


def probes(comp: Component, sizing: ComponentSizing) -> tuple[ProbeFacts, ...]:
    out = []
    for kind, t in probe_timings(sizing):
        check = catalog_check(comp, kind)
        if check is not None:
            out.append(ProbeFacts(kind, check, t))
    return tuple(out)


def handler(check: Check, numbered_by: Component | None = None) -> Obj:
    """A probe's handler: exec, httpGet or tcpSocket. Ports by name, or by number (from
    `numbered_by`'s ports) where the pod's ports are named by someone else (the chart)."""
    if check.command:
        return {"exec": {"command": list(check.command)}}
    port: str | int | None = check.port
    if numbered_by is not None:
        port = numbered_by.port(check.port or "").port
    if check.http_path is not None:
        return {"httpGet": {"path": check.http_path, "port": port}}
    return {"tcpSocket": {"port": port}}


def tolerations(sched: Scheduling) -> list[Obj]:
    out = []
    for t in sched.tolerations:
        raw = {"key": t.key, "operator": t.operator, "value": t.value, "effect": t.effect,
               "tolerationSeconds": t.toleration_seconds}
        out.append({k: v for k, v in raw.items() if v is not None})
    return out


def anti_affinity(sched: Scheduling, selector: dict[str, str]) -> Obj | None:
    """spreadAcrossNodes/Zones as pod anti-affinity against the component's own pods."""
    required: list[Obj] = []
    preferred: list[Obj] = []
    for mode, key in ((sched.spread_across_nodes, HOST_TOPOLOGY),
                      (sched.spread_across_zones, ZONE_TOPOLOGY)):
        term = {"labelSelector": {"matchLabels": dict(selector)}, "topologyKey": key}
        if mode == "required":
            required.append(term)
        elif mode == "preferred":
            preferred.append({"weight": 100, "podAffinityTerm": term})
    if not required and not preferred:
        return None
    anti: Obj = {}
    if required:
        anti["requiredDuringSchedulingIgnoredDuringExecution"] = required
    if preferred:
        anti["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    return {"podAntiAffinity": anti}


def scheduling(sched: Scheduling, selector: dict[str, str] | None) -> Obj:
    """nodeSelector, tolerations, affinity (when a selector of the pods is given) and
    priorityClassName, each only when set: the same keys in a pod spec and the chart."""
    out: Obj = {}
    if sched.node_selector:
        out["nodeSelector"] = dict(sched.node_selector)
    tol = tolerations(sched)
    if tol:
        out["tolerations"] = tol
    if selector is not None:
        affinity = anti_affinity(sched, selector)
        if affinity:
            out["affinity"] = affinity
    if sched.priority_class_name:
        out["priorityClassName"] = sched.priority_class_name
    return out


def grace_period(plan: Plan, comp: Component) -> int:
    sd = comp.shutdown
    return plan.tunables.grace_seconds(sd.drain, sd.pre_stop_seconds, sd.seconds)


def facts(plan: Plan, comp: Component, sizing: ComponentSizing) -> PodFacts:
    return PodFacts(component=comp, sizing=sizing, security=security(comp),
                    resources=resources(sizing.resources), probes=probes(comp, sizing),
                    grace_period_seconds=grace_period(plan, comp))
