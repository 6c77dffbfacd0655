"""The NetworkPolicies of a plan: default deny, DNS, and each component's traffic.

Built from the catalog's `Traffic` data alone (no component names here): a component may
open exactly the ports it calls, accepts a port from exactly the components that call it,
reaches the internet (public addresses only) when the catalog says why, and a component
confined to a proxy opens nothing but that proxy's port. Compose isolates the sandbox on an
internal network; on Kubernetes, without these, the SSRF proxy is a suggestion that code in
the sandbox can ignore. docs/network-policies.md explains every policy and setting.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Any

from generator.catalog import COMPONENTS, MIGRATION_SOURCE, Call, Component
from generator.conventions import (
    NETWORK_POLICIES_DISABLED_LABEL,
    NETWORK_POLICIES_DISABLED_VALUE,
)
from generator.plan import Plan
from generator.sizing import Peer
from generator.targets import kube_objects as m

Obj = dict[str, Any]

WHY_ANNOTATION = "difygen.io/why"
DISABLED_LABEL = NETWORK_POLICIES_DISABLED_LABEL
DISABLED_VALUE = NETWORK_POLICIES_DISABLED_VALUE
POLICY_LABEL = "network-policy"
DEFAULT_DENY = "dify-default-deny"
DNS = "dify-dns"
INTERNET_V4 = "0.0.0.0/0"
INTERNET_V6 = "::/0"


def namespace_labels(plan: Plan) -> dict[str, str]:
    """Labels the Namespace carries when the profile renders no policies."""
    if plan.profile.network_policies.enabled:
        return {}
    return {DISABLED_LABEL: DISABLED_VALUE}


def objects(plan: Plan) -> list[Obj]:
    """Every NetworkPolicy of the plan's namespace ([] when the profile turns them off)."""
    settings = plan.profile.network_policies
    if not settings.enabled:
        return []
    ns = plan.profile.namespace
    enabled = [comp for comp, _ in plan.components()]
    if any(c.name == MIGRATION_SOURCE for c in enabled):
        enabled.append(migration_peer())
    return [default_deny(ns), dns(plan, ns),
            *(component_policy(plan, comp, enabled, ns) for comp in enabled)]


def migration_peer() -> Component:
    """The migration Job's pods as a traffic party: the api's image and ConfigMap, so the
    api's calls (the migration needs Postgres and Redis's lock; the rest of the shared
    ConfigMap is allowed for the same reason as for worker and beat), no Service of its
    own and no internet."""
    source = COMPONENTS[MIGRATION_SOURCE]
    return replace(source, name=m.MIGRATION, ports=(),
                   summary="the migration Job (MODE=migration), once per release",
                   traffic=replace(source.traffic, internet=""))


def _policy(name: str, ns: str, why: str, spec: Obj) -> Obj:
    md = m.meta(name, POLICY_LABEL, ns)
    md["annotations"] = {WHY_ANNOTATION: why}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": md,
            "spec": spec}


def default_deny(ns: str) -> Obj:
    return _policy(DEFAULT_DENY, ns,
                   "Default deny: no pod in this namespace accepts or opens any connection "
                   "that another policy here does not allow by name and port.",
                   {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})


def dns(plan: Plan, ns: str) -> Obj:
    settings = plan.profile.network_policies
    ports = [{"protocol": proto, "port": port}
             for port in settings.dns_ports for proto in ("UDP", "TCP")]
    return _policy(DNS, ns,
                   "DNS: every pod resolves Service names through the cluster DNS "
                   "(networkPolicies.dns), over UDP and TCP, and nothing else through "
                   "this policy.",
                   {"podSelector": {}, "policyTypes": ["Egress"],
                    "egress": [{"to": [peer(p) for p in settings.dns_to], "ports": ports}]})


def peer(p: Peer) -> Obj:
    """A profile's peer as a NetworkPolicy peer."""
    if p.cidr is not None:
        block: Obj = {"cidr": p.cidr}
        if p.except_cidrs:
            block["except"] = list(p.except_cidrs)
        return {"ipBlock": block}
    out: Obj = {}
    if p.namespace_selector is not None:
        out["namespaceSelector"] = _match(p.namespace_selector)
    if p.pod_selector is not None:
        out["podSelector"] = _match(p.pod_selector)
    return out


def _match(pairs: tuple[tuple[str, str], ...]) -> Obj:
    return {"matchLabels": dict(pairs)} if pairs else {}


def _pods(component: str) -> Obj:
    return {"podSelector": {"matchLabels": m.selector(component)}}


def _tcp(ports: list[int]) -> list[Obj]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def internet_peers(except_cidrs: tuple[str, ...]) -> list[Obj]:
    """0.0.0.0/0 and ::/0, each without the profile's excepted ranges of its family.

    ::/0 only when the list names an IPv6 range: an IPv4-only list means IPv4-only
    internet (IPv4-only clusters; kube-router releases that stop syncing every policy on
    an IPv6 ipBlock, kube-router#1245), never IPv6 without its private ranges cut out.
    """
    out: list[Obj] = []
    for cidr, version in ((INTERNET_V4, 4), (INTERNET_V6, 6)):
        cut = [c for c in except_cidrs if ipaddress.ip_network(c).version == version]
        if version == 6 and not cut:
            continue
        block: Obj = {"cidr": cidr}
        if cut:
            block["except"] = cut
        out.append({"ipBlock": block})
    return out


def callers(target: Component, port: str, enabled: list[Component]) -> list[str]:
    """Enabled components that call `port` of `target`, in catalog order."""
    wanted = Call(target.name, port)
    return [c.name for c in enabled if wanted in c.traffic.callees()]


def component_policy(plan: Plan, comp: Component, enabled: list[Component],
                     ns: str) -> Obj:
    settings = plan.profile.network_policies
    names = {c.name for c in enabled}
    ingress: list[Obj] = []
    accepts: list[str] = []
    for port in comp.ports:
        sources = callers(comp, port.name, enabled)
        if sources:
            ingress.append({"from": [_pods(s) for s in sources], "ports": _tcp([port.port])})
            accepts.append(f"{port.port}/TCP ({port.name}) from {', '.join(sources)}")
    if comp.traffic.entry_point and settings.ingress_from:
        ingress.append({"from": [peer(p) for p in settings.ingress_from],
                        "ports": _tcp([p.port for p in comp.ports])})
        accepts.append(f"{', '.join(f'{p.port}/TCP' for p in comp.ports)} from the ingress "
                       "source (networkPolicies.ingressFrom)")
    egress: list[Obj] = []
    opens: list[str] = []
    for callee in _callees(comp, names):
        ports = [p.port for p in callee.ports
                 if Call(callee.name, p.name) in comp.traffic.callees()]
        egress.append({"to": [_pods(callee.name)], "ports": _tcp(ports)})
        opens.append(f"{callee.name} on {', '.join(f'{p}/TCP' for p in ports)}")
    if comp.traffic.internet and comp.traffic.confined_to is None:
        egress.append({"to": internet_peers(settings.internet_except)})
    spec: Obj = {"podSelector": {"matchLabels": m.selector(comp.name)},
                 "policyTypes": ["Ingress", "Egress"]}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return _policy(m.host(comp.name), ns, _why(comp, accepts, opens), spec)


def _callees(comp: Component, names: set[str]) -> list[Component]:
    """Enabled components `comp` calls, in catalog order."""
    called = {c.component for c in comp.traffic.callees()}
    return [c for c in COMPONENTS.values() if c.name in called and c.name in names]


def _why(comp: Component, accepts: list[str], opens: list[str]) -> str:
    parts = [f"{comp.name}: {comp.summary}."]
    confined = comp.traffic.confined_to
    if confined is not None:
        parts.append(f"Runs untrusted code: it may open connections only to {confined.component}"
                     f" ({confined.port} port) and DNS, so everything it fetches passes the "
                     "proxy's filter; never the datastores, the plugin daemon or cloud "
                     "metadata.")
    parts.append("Accepts " + ("; ".join(accepts) if accepts else "no connections") + ".")
    if confined is None:
        parts.append("Calls " + ("; ".join(opens) if opens else "no other component") + ".")
    if comp.traffic.internet and confined is None:
        parts.append(f"Internet (public addresses only): {comp.traffic.internet}.")
    return " ".join(parts)
