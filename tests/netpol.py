"""A small NetworkPolicy evaluator for the tests: who may open which port to whom.

Written from the Kubernetes API reference (networking.k8s.io/v1), independently of
difygen's builder: a pod selected by no policy of a type is open for that direction; a
selected pod allows a connection when any rule of any policy selecting it admits the peer
and the port. Peers: podSelector (the policy's namespace unless a namespaceSelector is
given), namespaceSelector, ipBlock (cidr minus except, matched against the peer's IP, pods
included). Ports: protocol (default TCP), number or named container port of the
destination pod, endPort ranges.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


def _template(obj: Obj) -> Obj:
    if obj["kind"] == "CronJob":
        template: Obj = obj["spec"]["jobTemplate"]["spec"]["template"]
        return template
    template = obj["spec"]["template"]
    return template


@dataclass(frozen=True)
class Pod:
    name: str  # the workload's name (one pod stands for all its replicas)
    namespace: str
    labels: tuple[tuple[str, str], ...]
    ports: tuple[tuple[str, int, str], ...]  # (name, containerPort, protocol)
    ip: str
    containers: tuple[Obj, ...] = field(default=(), compare=False, hash=False)
    volumes: tuple[Obj, ...] = field(default=(), compare=False, hash=False)

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def port_named(self, name: str, protocol: str) -> int | None:
        for n, number, proto in self.ports:
            if n == name and proto == protocol:
                return number
        return None


@dataclass(frozen=True)
class Address:
    """Something that is not a pod: an internet host, cloud metadata, a node."""

    ip: str


Endpoint = Pod | Address


def selector_matches(sel: Any, labels: dict[str, str]) -> bool:
    """A LabelSelector; an empty one selects everything."""
    sel = sel or {}
    for key, value in (sel.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in sel.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], set(expr.get("values") or [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


class Cluster:
    """Pods, namespaces and NetworkPolicies, and the question: may A open port P on B?"""

    def __init__(self, objects: list[Obj], extra_pods: Iterable[Pod] = ()) -> None:
        self.policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
        self.services = [o for o in objects if o["kind"] == "Service"]
        self.config_maps = {(o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
                            for o in objects if o["kind"] == "ConfigMap"}
        self.namespace_labels: dict[str, dict[str, str]] = {}
        for o in objects:
            if o["kind"] == "Namespace":
                self.namespace_labels[o["metadata"]["name"]] = dict(
                    o["metadata"].get("labels") or {})
        self.pods: list[Pod] = []
        for i, o in enumerate(w for w in objects if w["kind"] in WORKLOADS):
            template = _template(o)
            spec = template["spec"]
            ports = tuple((p.get("name", ""), p["containerPort"], p.get("protocol", "TCP"))
                          for c in spec["containers"] for p in c.get("ports", []))
            self.pods.append(Pod(
                o["metadata"]["name"], o["metadata"].get("namespace", ""),
                tuple(sorted(template.get("metadata", {}).get("labels", {}).items())), ports,
                f"10.244.0.{i + 10}", tuple(spec["containers"]), tuple(spec.get("volumes", []))))
        self.pods += list(extra_pods)

    def ns_labels(self, ns: str) -> dict[str, str]:
        # The API server labels every namespace with its own name.
        return {**self.namespace_labels.get(ns, {}), "kubernetes.io/metadata.name": ns}

    # ------------------------------------------------------------------ the evaluation

    def _selecting(self, pod: Pod, direction: str) -> list[Obj]:
        out = []
        for p in self.policies:
            if p["metadata"].get("namespace", "") != pod.namespace:
                continue
            spec = p["spec"]
            types = spec.get("policyTypes") or (
                ["Ingress"] + (["Egress"] if "egress" in spec else []))
            if direction in types and selector_matches(spec.get("podSelector"), pod.label_map):
                out.append(p)
        return out

    def _peer_matches(self, peer: Obj, policy_ns: str, other: Endpoint) -> bool:
        if "ipBlock" in peer:
            block = peer["ipBlock"]
            ip = ipaddress.ip_address(other.ip)
            net = ipaddress.ip_network(block["cidr"])
            if ip.version != net.version or ip not in net:
                return False
            return not any(ip in ipaddress.ip_network(e) for e in block.get("except", [])
                           if ipaddress.ip_network(e).version == ip.version)
        if not isinstance(other, Pod):
            return False
        if "namespaceSelector" in peer:
            if not selector_matches(peer["namespaceSelector"], self.ns_labels(other.namespace)):
                return False
        elif other.namespace != policy_ns:
            return False
        return selector_matches(peer.get("podSelector"), other.label_map)

    @staticmethod
    def _port_matches(entries: list[Obj] | None, dst: Endpoint, port: int,
                      protocol: str) -> bool:
        if not entries:
            return True
        for e in entries:
            if e.get("protocol", "TCP") != protocol:
                continue
            want = e.get("port")
            if want is None:
                return True
            if isinstance(want, str):
                if isinstance(dst, Pod) and dst.port_named(want, protocol) == port:
                    return True
                continue
            if want <= port <= e.get("endPort", want):
                return True
        return False

    def egress_allowed(self, src: Pod, dst: Endpoint, port: int, protocol: str = "TCP") -> bool:
        policies = self._selecting(src, "Egress")
        if not policies:
            return True
        for p in policies:
            for rule in p["spec"].get("egress") or []:
                peers = rule.get("to")
                if peers and not any(self._peer_matches(x, src.namespace, dst) for x in peers):
                    continue
                if self._port_matches(rule.get("ports"), dst, port, protocol):
                    return True
        return False

    def ingress_allowed(self, src: Endpoint, dst: Pod, port: int,
                        protocol: str = "TCP") -> bool:
        policies = self._selecting(dst, "Ingress")
        if not policies:
            return True
        for p in policies:
            for rule in p["spec"].get("ingress") or []:
                peers = rule.get("from")
                if peers and not any(self._peer_matches(x, dst.namespace, src) for x in peers):
                    continue
                if self._port_matches(rule.get("ports"), dst, port, protocol):
                    return True
        return False

    def allowed(self, src: Endpoint, dst: Endpoint, port: int, protocol: str = "TCP") -> bool:
        if isinstance(src, Pod) and not self.egress_allowed(src, dst, port, protocol):
            return False
        return not (isinstance(dst, Pod) and not self.ingress_allowed(src, dst, port, protocol))

    # ------------------------------------------------------------------ Services

    def resolve(self, host: str, namespace: str, port: int) -> list[tuple[Pod, int]] | None:
        """The pods and container port a Service host:port reaches (None: no such Service)."""
        for svc in self.services:
            ns = svc["metadata"].get("namespace", "")
            name = svc["metadata"]["name"]
            names = {f"{name}.{ns}", f"{name}.{ns}.svc", f"{name}.{ns}.svc.cluster.local"}
            if not (host in names or (host == name and ns == namespace)):
                continue
            for sp in svc["spec"]["ports"]:
                if sp["port"] != port:
                    continue
                target = sp.get("targetPort", sp["port"])
                out = []
                for pod in self.pods:
                    if pod.namespace == ns and selector_matches(
                            {"matchLabels": svc["spec"]["selector"]}, pod.label_map):
                        number = (pod.port_named(target, sp.get("protocol", "TCP"))
                                  if isinstance(target, str) else target)
                        if number is not None:
                            out.append((pod, number))
                return out
            return []
        return None

    # ------------------------------------------------------------------ wiring

    def texts(self, pod: Pod) -> Iterator[tuple[str, str, str, dict[str, str]]]:
        """(where, key, text, the env map it sits in) for everything a pod is configured with:
        env values, ConfigMaps read as env, mounted ConfigMap files, command and args."""
        for c in pod.containers:
            env: dict[str, str] = {}
            for ref in c.get("envFrom", []):
                cm = ref.get("configMapRef")
                if cm:
                    env.update(self.config_maps[(pod.namespace, cm["name"])]["data"])
            for e in c.get("env", []):
                if "value" in e:
                    env[e["name"]] = e["value"]
            for key, value in env.items():
                yield f"{pod.name} env {key}", key, value, env
            for word in [*c.get("command", []), *c.get("args", [])]:
                yield f"{pod.name} command", "", word, {}
        for v in pod.volumes:
            if "configMap" in v:
                for key, value in self.config_maps[(pod.namespace,
                                                    v["configMap"]["name"])]["data"].items():
                    yield f"{pod.name} file {key}", key, value, {}


_URL = re.compile(r"\b([a-z][a-z0-9+.-]*)://(?:[^@/\s'\"]+@)?([A-Za-z0-9_.-]+)(?::(\d+))?")
_CACHE_PEER = re.compile(r"^\s*cache_peer\s+(\S+)\s+\S+\s+(\d+)", re.MULTILINE)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def endpoints(text: str, env: dict[str, str], key: str) -> Iterator[tuple[str, int]]:
    """host:port pairs a piece of configuration points at."""
    for scheme, host, port in _URL.findall(text):
        if port:
            yield host, int(port)
        elif scheme in _DEFAULT_PORTS:
            yield host, _DEFAULT_PORTS[scheme]
    for host, port in _CACHE_PEER.findall(text):
        yield host, int(port)
    if key.endswith("_HOST") and f"{key[:-5]}_PORT" in env and text:
        yield text, int(env[f"{key[:-5]}_PORT"])
