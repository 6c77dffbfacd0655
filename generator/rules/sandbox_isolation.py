"""Pods that run untrusted code reach nothing but their proxy and DNS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.catalog import CATALOG, COMPONENTS, Call
from generator.conventions import NETWORK_POLICIES_DISABLED_LABEL as DISABLED_LABEL
from generator.conventions import NETWORK_POLICIES_DISABLED_VALUE as DISABLED_VALUE
from generator.conventions import selector
from generator.manifest_loader import Manifest
from generator.rules.base import (
    ERROR,
    WARNING,
    Context,
    Finding,
    Rule,
    Severity,
    as_dict,
    as_list,
    finding,
)
from generator.rules.workloads import Workload, by_namespace, workloads

COMPONENT_LABEL = "app.kubernetes.io/component"
# A rule whose every port is one of these is DNS (its peers are the cluster's resolver).
_DNS_PORTS = {53, 5353, "dns", "dns-tcp"}


def _labels(w: Workload) -> dict[str, str]:
    return {str(k): str(v) for k, v in as_dict(w.pod_metadata.get("labels")).items()}


def selects(sel: Any, labels: dict[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels and matchExpressions) against labels."""
    sel = as_dict(sel)
    for key, value in as_dict(sel.get("matchLabels")).items():
        if labels.get(str(key)) != str(value):
            return False
    for expr in as_list(sel.get("matchExpressions")):
        expr = as_dict(expr)
        key, op = str(expr.get("key")), expr.get("operator")
        values = {str(v) for v in as_list(expr.get("values"))}
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def limits_egress(policy: dict[str, Any]) -> bool:
    spec = as_dict(policy.get("spec"))
    types = as_list(spec.get("policyTypes"))
    return "Egress" in types or (not types and "egress" in spec)


class SandboxIsolation(Rule):
    """Sandbox pods may open connections only to their proxy and to DNS.

    dify-sandbox runs the code of workflow code nodes and local-sandbox runs agents' shell
    commands: whatever they reach, user-supplied code reaches. Dify's compose puts them on
    an internal network whose only exit is the SSRF proxy; on Kubernetes only a
    NetworkPolicy does that, and without one `HTTP_PROXY` is advice that code can ignore
    to reach Postgres, Redis, the plugin daemon (and its debug port) or the cloud metadata
    address. The components concerned, and the proxy port each is confined to, come from
    the catalog (`Traffic.confined_to`); their pods are found by their
    `app.kubernetes.io/name` and `app.kubernetes.io/component` labels.

    For every such workload, the NetworkPolicies of its namespace whose `podSelector`
    selects its pods and that limit egress are collected. It is an error if there is none
    (the pods may connect anywhere), or if any of their egress rules allows more than: the
    proxy's pods (a `podSelector`-only peer that selects no other workload of the
    namespace and pins `app.kubernetes.io/component` to the proxy) on the proxy's port
    (by number or name), or DNS (a rule whose every port is 53, 5353, `dns` or
    `dns-tcp`). A rule with no `to` (every destination), an `ipBlock`, a
    `namespaceSelector`, an empty `podSelector`, no `ports` or another port is reported at
    that rule. When the profile turns NetworkPolicies off, the Namespace carries the label
    `difygen.io/network-policies: disabled`, and a missing policy is a warning instead:
    the gap stays visible.
    """

    id = "sandbox-isolation"
    layer = "policy"

    def check(self, ctx: Context) -> Iterator[Finding]:
        confined = {c.name: c.traffic.confined_to for c in CATALOG
                    if c.traffic.confined_to is not None}
        # One pass: the workloads and egress policies of each namespace, grouped once
        # (a manifest set with one shared namespace would otherwise be quadratic).
        same_component: dict[tuple[str, str], list[Workload]] = {}
        labels_of: dict[int, dict[str, str]] = {}
        for ns, group in by_namespace(ctx).items():
            for x in group:
                labels = labels_of[id(x)] = _labels(x)
                same_component.setdefault((ns, labels.get(COMPONENT_LABEL, "")),
                                          []).append(x)
        # The workloads labelled as a proxy component that are not its pods (another
        # app.kubernetes.io/name), with their labels, by namespace and component: once,
        # not once per policy (a shared namespace holds hundreds of copies of each).
        impostors: dict[tuple[str, str], list[tuple[Workload, dict[str, str]]]] = {}
        # What one policy allows does not depend on which sandbox workload it selects.
        judged: dict[tuple[int, str], list[Finding]] = {}
        verdicts: dict[tuple[tuple[str, tuple[tuple[str, str], ...]], str], list[Finding]] = {}
        # Pods with the same labels in one namespace are selected by the same policies.
        policies_of: dict[tuple[str, tuple[tuple[str, str], ...]], list[Manifest]] = {}
        egress_policies: dict[str, list[Manifest]] = {}
        for p in ctx.of_kind("NetworkPolicy"):
            if limits_egress(p.obj):
                egress_policies.setdefault(p.namespace, []).append(p)
        for w in workloads(ctx):
            labels = labels_of[id(w)]
            name = next((n for n in confined if selects({"matchLabels": selector(n)}, labels)),
                        None)
            if name is None:
                continue
            via = confined[name]
            assert via is not None
            ns = w.manifest.namespace
            selected_by = (ns, tuple(sorted(labels.items())))
            mine = policies_of.get(selected_by)
            if mine is None:
                mine = policies_of[selected_by] = [
                    p for p in egress_policies.get(ns, ())
                    if selects(as_dict(p.obj.get("spec")).get("podSelector"), labels)]
            if not mine:
                yield finding(
                    self.id, self._severity(ctx, ns), w.manifest,
                    (*w.template_path, "metadata", "labels"),
                    f"{name} runs untrusted code but no NetworkPolicy limits its egress: it "
                    f"can reach every address (datastores, the plugin daemon, cloud "
                    f"metadata) instead of only {via.component} port {via.port!r} and DNS; "
                    "apply the overlay's networkpolicy.yaml")
                continue
            # Only pods labelled as the proxy can be selected by an egress peer that
            # passes the proxy check (it pins app.kubernetes.io/component to the proxy).
            others = impostors.get((ns, via.component))
            if others is None:
                proxy_labels = selector(via.component)
                others = impostors[(ns, via.component)] = [
                    (x, labels_of[id(x)]) for x in same_component.get((ns, via.component), [])
                    if not selects({"matchLabels": proxy_labels}, labels_of[id(x)])]
            # Every copy of one workload in a shared namespace is selected by the same
            # policies (hundreds of them): their findings are listed once per label set.
            verdict = verdicts.get((selected_by, name))
            if verdict is None:
                verdict = verdicts[(selected_by, name)] = []
                for policy in mine:
                    key = (id(policy), name)
                    if key not in judged:
                        judged[key] = list(self._check_policy(policy, name, via, others))
                    verdict.extend(judged[key])
            yield from verdict

    def _severity(self, ctx: Context, ns: str) -> Severity:
        namespace = ctx.get("Namespace", "", ns)
        label = as_dict(namespace.metadata.get("labels")).get(DISABLED_LABEL) \
            if namespace is not None else None
        return WARNING if label == DISABLED_VALUE else ERROR

    def _check_policy(self, policy: Manifest, name: str, via: Call,
                      others: list[tuple[Workload, dict[str, str]]]) -> Iterator[Finding]:
        """`others`: the workloads of the policy's namespace labelled as the proxy
        component but not its pods, with their labels (no workload without that label
        can match a peer pinned to it)."""
        proxy = COMPONENTS.get(via.component)
        allowed: set[Any] = {via.port}
        if proxy is not None:
            allowed |= {p.port for p in proxy.ports if p.name == via.port}
        for i, rule in enumerate(as_list(as_dict(policy.obj.get("spec")).get("egress"))):
            rule = as_dict(rule)
            problem = self._rule_problem(rule, via.component, allowed, others)
            if problem:
                yield finding(self.id, ERROR, policy, ("spec", "egress", i),
                              f"{name} runs untrusted code and may only reach "
                              f"{via.component} port {via.port!r} and DNS, but this egress "
                              f"rule {problem}")

    def _rule_problem(self, rule: dict[str, Any], proxy: str, allowed: set[Any],
                      others: list[tuple[Workload, dict[str, str]]]) -> str:
        ports = [as_dict(p) for p in as_list(rule.get("ports"))]
        if ports and all(p.get("port") in _DNS_PORTS and "endPort" not in p for p in ports):
            return ""
        peers = [as_dict(p) for p in as_list(rule.get("to"))]
        if not peers:
            return "allows every destination (no 'to')"
        for peer in peers:
            if "ipBlock" in peer:
                return f"allows the address range {as_dict(peer['ipBlock']).get('cidr')!r}"
            if "namespaceSelector" in peer:
                return "allows pods of other namespaces (namespaceSelector)"
            pod_sel = peer.get("podSelector")
            if not as_dict(pod_sel):
                return "allows every pod of the namespace (empty podSelector)"
            pinned = as_dict(as_dict(pod_sel).get("matchLabels")).get(COMPONENT_LABEL)
            if pinned != proxy or not selects(pod_sel, selector(proxy)):
                return (f"allows pods that are not the proxy (its podSelector must match "
                        f"{COMPONENT_LABEL}: {proxy})")
            extra = [x.manifest.name for x, labels in others if selects(pod_sel, labels)]
            if extra:
                return f"allows pods that are not the proxy: {', '.join(sorted(extra))}"
        if not ports:
            return "allows every port of the proxy pods (no 'ports')"
        for p in ports:
            if p.get("port") not in allowed or "endPort" in p:
                return f"allows port {p.get('port')!r}"
        return ""
