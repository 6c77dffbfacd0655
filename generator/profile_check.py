"""Checking a merged profile: the rules JSON Schema cannot say (quantities, orderings,
combinations, what the API server would refuse), each problem at the line that set it.

The checks read the merged mapping and the origin index of profile_merge; they report
every problem at once and build nothing.
"""

from __future__ import annotations

import ipaddress
import math
import re
from fractions import Fraction
from typing import Any

from generator import catalog
from generator.errors import ProblemList
from generator.profile_build import (
    LIMIT_RANGE_DEFAULTS,
    STARTUP_DEFAULT,
    build_ingress,
    external_components,
    is_enabled,
)
from generator.profile_merge import Loaded, Origin
from generator.profile_merge import location as _loc
from generator.quantity import QuantityError, check_amount, parse_quantity
from generator.versions import DEFAULT_KUBERNETES_VERSION
from generator.yamlio import KeyPath

# Runtimes whose memory utilization only grows (see catalog.Component.runtime).
MEMORY_RETAINING_RUNTIMES = frozenset({"python"})


def supported_kubernetes_versions() -> tuple[str, ...]:
    from generator.k8s_schemas import available_versions

    return available_versions()


# Kubernetes keeps a quantity in an int64 (of milli-units for CPU); anything larger is a
# typo, and a huge exponent ('1e999999999') would take minutes to expand exactly.
MAX_QUANTITY = Fraction(2**63 - 1, 1000)
_MAX_QUANTITY_CHARS = 64
_EXPONENT = re.compile(r"[eE]([+-]?\d+)$")


def _parse_bounded(value: Any) -> Fraction:
    """parse_quantity, refusing values no Kubernetes quantity can hold before parsing them."""
    if isinstance(value, float) and not math.isfinite(value):
        raise QuantityError(f"found {value!r}; a quantity must be a finite number such as "
                            "'500m' or '2Gi'")
    if isinstance(value, str):
        if len(value) > _MAX_QUANTITY_CHARS:
            raise QuantityError(f"found a string of {len(value)} characters; a quantity "
                                f"has at most {_MAX_QUANTITY_CHARS}")
        exponent = _EXPONENT.search(value.strip())
        if exponent and abs(int(exponent.group(1))) > 30:
            raise QuantityError(f"found {value!r}; exponents between e-30 and e30 are "
                                "allowed (Kubernetes quantities fit in 64 bits)")
    q = parse_quantity(value)
    if abs(q) > MAX_QUANTITY:
        raise QuantityError(f"found {value!r}; too large for a Kubernetes quantity (at most "
                            f"{int(MAX_QUANTITY)})")
    return q


def _q(merged: dict[str, Any], path: KeyPath, origin: Origin, chain: list[Loaded],
       problems: ProblemList, *, positive: bool = True) -> Fraction | None:
    value: Any = merged
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    try:
        q = _parse_bounded(value)
    except QuantityError as exc:
        problems.add(_loc(origin, chain, path), str(exc))
        return None
    if positive and q <= 0:
        problems.add(_loc(origin, chain, path), f"found {value!r}; must be greater than zero")
        return None
    kind = {"cpu": "cpu", "memory": "memory"}.get(str(path[-1]), "storage")
    try:
        check_amount(value, q, kind)
    except QuantityError as exc:
        problems.add(_loc(origin, chain, path), str(exc))
        return None
    return q


def check_merged(merged: dict[str, Any], origin: Origin, chain: list[Loaded],
                  problems: ProblemList) -> None:
    """Rules JSON Schema cannot say: quantities, orderings, combinations."""
    version = merged.get("kubernetesVersion", DEFAULT_KUBERNETES_VERSION)
    versions = supported_kubernetes_versions()
    if version not in versions:
        problems.add(_loc(origin, chain, ("kubernetesVersion",)),
                     f"found {version!r}; supported versions: {', '.join(versions)}")
    for key in ("cpu", "memory"):
        _q(merged, ("node", key), origin, chain, problems)
    limits: dict[str, dict[str, Fraction | None]] = {}
    for part in ("defaultRequest", "default"):
        for key in ("cpu", "memory"):
            limits.setdefault(part, {})[key] = _q(merged, ("limitRange", part, key), origin,
                                                  chain, problems)
    _check_limit_range(merged, limits, origin, chain, problems)
    storage = merged.get("fileStorage", {})
    if storage.get("backend") == "s3":
        s3 = storage.get("s3", {})
        for key in ("endpoint", "bucket"):
            if key not in s3:
                problems.add(_loc(origin, chain, ("fileStorage", "s3")),
                             f"backend 's3' needs fileStorage.s3.{key}")
    backend = storage.get("backend")
    if backend in _STORAGE_BLOCKS and _STORAGE_BLOCKS[backend] not in storage:
        problems.add(_loc(origin, chain, ("fileStorage", "backend")),
                     f"backend {backend!r} needs fileStorage.{_STORAGE_BLOCKS[backend]}")
    _check_external(merged, origin, chain, problems)
    _check_ingress(merged.get("ingress"), origin, chain, problems)
    _check_pod_metadata(merged, (), origin, chain, problems)
    public_url = merged.get("publicUrl")
    if public_url is not None:
        why = public_url_problem(public_url)
        if why:
            problems.add(_loc(origin, chain, ("publicUrl",)), why)
    components = merged.get("components", {})
    for name, spec in components.items():
        _check_component(name, spec, merged, origin, chain, problems)
        _check_pod_metadata(spec, ("components", name), origin, chain, problems)
    _check_worker_pools(merged, origin, chain, problems)
    _check_network_policies(merged.get("networkPolicies", {}), origin, chain, problems)
    websocket = components.get("api-websocket", {})
    origin_from_ingress = build_ingress(merged.get("ingress")).public_origin
    if is_enabled(catalog.COMPONENTS["api-websocket"], websocket) and not (
            public_url or origin_from_ingress):
        problems.add(_loc(origin, chain, ("components", "api-websocket", "enabled")),
                     "api-websocket needs publicUrl: browsers connect to "
                     "wss://<host>/socket.io, and no host is known without it (set "
                     "publicUrl or an ingress host, or turn api-websocket off)")


def _check_worker_pools(merged: dict[str, Any], origin: Origin, chain: list[Loaded],
                        problems: ProblemList) -> None:
    """Every queue Dify's worker consumes is served by exactly one pool; scale to zero
    only where no task is lost or kept waiting (generator.queues)."""
    from generator.queues import DEFAULT_QUEUES, SCALE_TO_ZERO_SAFE

    spec = merged.get("workerPools")
    if not isinstance(spec, dict) or spec.get("enabled") is False or not spec.get("pools"):
        return
    served: dict[str, str] = {}
    names: set[str] = set()
    for i, pool in enumerate(spec["pools"]):
        base: KeyPath = ("workerPools", "pools", i)
        name = pool.get("name", "")
        if name in names:
            problems.add(_loc(origin, chain, (*base, "name")),
                         f"found {name!r} twice; pool names name their Deployments")
        names.add(name)
        lo, hi = pool.get("minReplicas", 1), pool.get("maxReplicas", 1)
        if lo > hi:
            problems.add(_loc(origin, chain, (*base, "minReplicas")),
                         f"found minReplicas {lo} above maxReplicas {hi}; min must be <= max")
        for j, queue in enumerate(pool.get("queues", [])):
            # A name outside the default list is allowed: a newer Dify image may add
            # queues (later entrypoints list api_token, workflow_based_app_execution);
            # a typo still fails below, because the queue it meant stays unserved.
            if queue in served:
                problems.add(_loc(origin, chain, (*base, "queues", j)),
                             f"{queue!r} is already served by pool {served[queue]!r}; each "
                             "queue belongs to one pool so one ScaledObject scales it")
            else:
                served[queue] = name
        unsafe = [q for q in pool.get("queues", []) if q not in SCALE_TO_ZERO_SAFE]
        if lo == 0 and unsafe:
            problems.add(_loc(origin, chain, (*base, "minReplicas")),
                         f"found 0; pool {name!r} serves {', '.join(unsafe)}, whose tasks "
                         "must not wait for a worker to start (or be lost when the last "
                         "pod goes while one runs); only "
                         f"{', '.join(sorted(SCALE_TO_ZERO_SAFE))} may scale to zero")
    missing = [q for q in DEFAULT_QUEUES if q not in served]
    if missing:
        problems.add(_loc(origin, chain, ("workerPools", "pools")),
                     f"no pool serves {', '.join(missing)}: their tasks would wait forever; "
                     "add them to a pool")


def _check_limit_range(merged: dict[str, Any], given: dict[str, dict[str, Fraction | None]],
                       origin: Origin, chain: list[Loaded], problems: ProblemList) -> None:
    """The API server's ValidateLimitRange: the default request may not exceed the default
    limit (k8s.io/kubernetes pkg/apis/core/validation/validation.go)."""
    lr = merged.get("limitRange", {})
    if lr.get("enabled") is False:
        return
    for i, key in enumerate(("cpu", "memory")):
        request = given["defaultRequest"][key]
        limit = given["default"][key]
        if request is None and key not in lr.get("defaultRequest", {}):
            request = parse_quantity(LIMIT_RANGE_DEFAULTS["defaultRequest"][i])
        if limit is None and key not in lr.get("default", {}):
            limit = parse_quantity(LIMIT_RANGE_DEFAULTS["default"][i])
        if request is None or limit is None or request <= limit:
            continue
        shown = {part: lr.get(part, {}).get(key, f"{LIMIT_RANGE_DEFAULTS[part][i]} (default)")
                 for part in LIMIT_RANGE_DEFAULTS}
        where = "defaultRequest" if key in lr.get("defaultRequest", {}) else "default"
        problems.add(_loc(origin, chain, ("limitRange", where, key)),
                     f"default request {shown['defaultRequest']} is greater than the default "
                     f"limit {shown['default']}; the API server refuses such a LimitRange "
                     "(ValidateLimitRange): raise limitRange.default or lower "
                     "limitRange.defaultRequest")


def _check_tolerations(base: KeyPath, spec: dict[str, Any], origin: Origin,
                       chain: list[Loaded], problems: ProblemList) -> None:
    """The API server's ValidateTolerations (k8s.io/kubernetes
    pkg/apis/core/validation/validation.go), before anything is rendered."""
    from generator.k8s_names import label_value_problem, qualified_name_problem

    tolerations = spec.get("scheduling", {}).get("tolerations", [])
    for i, t in enumerate(tolerations if isinstance(tolerations, list) else []):
        path = (*base, "scheduling", "tolerations", i)
        key, operator = t.get("key") or "", t.get("operator") or "Equal"
        value, effect = t.get("value") or "", t.get("effect")
        if key and (problem := qualified_name_problem(key)):
            problems.add(_loc(origin, chain, (*path, "key")), f"found {key!r}; {problem}")
        if not key and operator != "Exists":
            problems.add(_loc(origin, chain, path),
                         "a toleration without a key matches every taint and needs "
                         "operator: Exists")
        if t.get("tolerationSeconds") is not None and effect != "NoExecute":
            problems.add(_loc(origin, chain, (*path, "tolerationSeconds")),
                         f"tolerationSeconds needs effect: NoExecute (found {effect!r}); it "
                         "bounds how long a pod stays on a node tainted NoExecute")
        if operator == "Exists" and value:
            problems.add(_loc(origin, chain, (*path, "value")),
                         f"found {value!r}; value must be empty when operator is Exists")
        elif operator == "Equal" and (problem := label_value_problem(value)):
            problems.add(_loc(origin, chain, (*path, "value")),
                         f"found {value!r}; a toleration value {problem}")


_STORAGE_BLOCKS = {"azure-blob": "azureBlob", "gcs": "gcs", "aliyun-oss": "aliyunOss"}
# Which keys of vectorDatabase.external each vector store reads.
_VECTOR_KEYS = {"weaviate": ("endpoint", "grpcEndpoint"), "qdrant": ("endpoint", "grpcPort"),
                "pgvector": ("host", "port", "database", "username")}
_VECTOR_REQUIRED = {"weaviate": ("endpoint",), "qdrant": ("endpoint",),
                    "pgvector": ("host", "database")}


def _check_external(merged: dict[str, Any], origin: Origin, chain: list[Loaded],
                    problems: ProblemList) -> None:
    db = merged.get("database", {}).get("external")
    if db is not None:
        limits = [k for k in ("maxConnections", "pgbouncerPoolSize") if k in db]
        if len(limits) != 1:
            problems.add(_loc(origin, chain, ("database", "external", *limits[1:2])),
                         "declare exactly one of database.external.maxConnections (the "
                         "server's max_connections) or pgbouncerPoolSize: the connection "
                         "budget is checked against it" + (
                             "; found both" if len(limits) == 2 else ""))
    redis = merged.get("redis", {}).get("external")
    if redis is not None and "host" not in redis and "sentinel" not in redis:
        problems.add(_loc(origin, chain, ("redis", "external")),
                     "an external Redis needs redis.external.host or "
                     "redis.external.sentinel")
    vector = merged.get("vectorDatabase", {})
    kind = vector.get("type", catalog.DEFAULT_VECTOR_STORE)
    ext = vector.get("external")
    if ext is None and catalog.vector_store(kind).component is None:
        in_cluster = " or ".join(s.kind.capitalize() for s in catalog.VECTOR_STORES
                                 if s.component is not None)
        problems.add(_loc(origin, chain, ("vectorDatabase", "type")),
                     f"found {kind!r}; difygen deploys only {in_cluster} in the cluster, so "
                     f"{kind} needs vectorDatabase.external")
    if ext is not None:
        for key in ext:
            if key not in _VECTOR_KEYS[kind]:
                problems.add(_loc(origin, chain, ("vectorDatabase", "external", key)),
                             f"{kind} does not read {key!r}; allowed for {kind}: "
                             f"{', '.join(_VECTOR_KEYS[kind])}")
        for key in _VECTOR_REQUIRED[kind]:
            if key not in ext:
                problems.add(_loc(origin, chain, ("vectorDatabase", "external")),
                             f"an external {kind} needs vectorDatabase.external.{key}")
    # Sizing a component in the same file (or a child) that moves it outside is a
    # contradiction; sizing inherited from a parent that deployed it is simply unused.
    declared = {"postgres": ("database", "external"), "redis": ("redis", "external"),
                **{s.component: ("vectorDatabase",) for s in catalog.VECTOR_STORES
                   if s.component is not None}}
    rank = {id(c.doc): i for i, c in enumerate(chain)}
    for name in sorted(external_components(merged)):
        if name not in merged.get("components", {}):
            continue
        sized = origin.get(("components", name))
        moved = origin.get(declared[name])
        if sized is None or moved is None or rank.get(id(sized), 0) <= rank.get(id(moved), 0):
            problems.add(_loc(origin, chain, ("components", name)),
                         f"{name} is outside the cluster in this profile (database, redis "
                         "or vectorDatabase: an external service, or a vector store it does "
                         "not choose); remove components." + name)


# Keys difygen owns: its selectors and its own annotations. A profile that set them would
# break selectors or forge what the validator reads (a declared security exception).
RESERVED_LABEL_PREFIX = "app.kubernetes.io/"
RESERVED_ANNOTATION_PREFIX = "difygen.io/"


def _check_pod_metadata(spec: dict[str, Any], base: KeyPath, origin: Origin,
                        chain: list[Loaded], problems: ProblemList) -> None:
    for key, prefix in (("podLabels", RESERVED_LABEL_PREFIX),
                        ("podAnnotations", RESERVED_ANNOTATION_PREFIX)):
        for name in spec.get(key, {}):
            if name.startswith(prefix):
                problems.add(_loc(origin, chain, (*base, key, name)),
                             f"found {name!r}; keys under {prefix} are set by difygen "
                             "and cannot be given in a profile")


def _check_ingress(spec: dict[str, Any] | None, origin: Origin, chain: list[Loaded],
                   problems: ProblemList) -> None:
    if not spec or spec.get("enabled", True) is False:
        return
    if not spec.get("hosts"):
        problems.add(_loc(origin, chain, ("ingress",)),
                     "an enabled ingress needs ingress.hosts (at least one host name)")
    hosts = spec.get("hosts") or []
    if hosts and str(hosts[0]).startswith("*."):
        problems.add(_loc(origin, chain, ("ingress", "hosts", 0)),
                     f"found {hosts[0]!r} first; the first host names Dify's public URLs, "
                     "so it cannot be a wildcard (list a concrete host first)")
    if spec.get("certManager") and "tls" not in spec:
        problems.add(_loc(origin, chain, ("ingress", "certManager")),
                     "cert-manager writes the certificate into ingress.tls.secretName; "
                     "set ingress.tls.secretName too")
    for name in spec.get("annotations", {}):
        if name.startswith("cert-manager.io/") and spec.get("certManager"):
            problems.add(_loc(origin, chain, ("ingress", "annotations", name)),
                         f"found {name!r} beside ingress.certManager, which sets the "
                         "cert-manager annotation; keep one of the two")


def _check_network_policies(spec: dict[str, Any], origin: Origin, chain: list[Loaded],
                            problems: ProblemList) -> None:
    """Peers are selectors or an address range, never both; ranges are real networks."""
    base: KeyPath = ("networkPolicies",)
    peers: list[tuple[KeyPath, dict[str, Any]]] = [
        (("ingressFrom", i), p) for i, p in enumerate(spec.get("ingressFrom", []))]
    peers += [(("dns", "to", i), p)
              for i, p in enumerate(spec.get("dns", {}).get("to", []))]
    for where, peer in peers:
        path = (*base, *where)
        selectors = [k for k in ("namespaceSelector", "podSelector") if k in peer]
        if "cidr" in peer and selectors:
            problems.add(_loc(origin, chain, (*path, selectors[0])),
                         f"found both cidr and {selectors[0]}; a peer is label selectors "
                         "or an address range, not both (write two peers)")
        elif "cidr" not in peer and not selectors:
            problems.add(_loc(origin, chain, path),
                         "found no cidr, namespaceSelector or podSelector; a peer needs "
                         "label selectors or an address range")
        if "except" in peer and "cidr" not in peer:
            problems.add(_loc(origin, chain, (*path, "except")),
                         "except cuts ranges out of a cidr; set cidr too")
        outer = _network(peer.get("cidr"), (*path, "cidr"), origin, chain, problems)
        for j, inner_text in enumerate(peer.get("except", [])):
            inner = _network(inner_text, (*path, "except", j), origin, chain, problems)
            if outer is not None and inner is not None and not _strictly_inside(inner, outer):
                problems.add(_loc(origin, chain, (*path, "except", j)),
                             f"found {inner_text!r}; an except range must lie strictly "
                             f"inside the peer's cidr {peer['cidr']!r}")
    for j, text in enumerate(spec.get("internetExcept", [])):
        _network(text, (*base, "internetExcept", j), origin, chain, problems)


def _strictly_inside(inner: ipaddress.IPv4Network | ipaddress.IPv6Network,
                     outer: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner != outer and inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner != outer and inner.subnet_of(outer)
    return False


def _network(text: Any, path: KeyPath, origin: Origin, chain: list[Loaded],
             problems: ProblemList) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if not isinstance(text, str):
        return None
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        try:
            hint = f"did you mean {str(ipaddress.ip_network(text, strict=False))!r}?"
        except ValueError:
            hint = str(exc)
        problems.add(_loc(origin, chain, path),
                     f"found {text!r}; not a CIDR network address ({hint})")
        return None
    if isinstance(net, ipaddress.IPv6Network) and net.network_address.ipv4_mapped is not None:
        # The API server reads an IPv4-mapped range as IPv4 and refuses it in an IPv6
        # ipBlock (ValidateIPBlock: "must be a strict subset of cidr").
        problems.add(_loc(origin, chain, path),
                     f"found {text!r}; an IPv4-mapped IPv6 range is refused by the API "
                     "server in a NetworkPolicy: write the IPv4 range instead")
        return None
    return net


def public_url_problem(value: Any) -> str:
    """Why a publicUrl is not usable ("" when it is): http(s), a host, no user-info,
    no path, query or fragment (Dify appends its own paths)."""
    if not isinstance(value, str):
        return f"found {value!r}; publicUrl is a string like https://dify.example.com"
    m = _PUBLIC_URL.match(value)
    if m is None:
        return (f"found {value!r}; publicUrl is scheme://host[:port] with scheme http or "
                "https, e.g. https://dify.example.com")
    if "@" in m.group("authority"):
        return f"found {value!r}; publicUrl must not carry user-info (user:password@)"
    if m.group("rest") not in (None, "", "/"):
        return (f"found {value!r}; publicUrl has no path, query or fragment: Dify serves "
                "its own paths below it (found "
                f"{m.group('rest')!r})")
    host = m.group("host")
    if not _HOST.match(host):
        return f"found {value!r}; {host!r} is not a DNS name or IP address"
    port = m.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return f"found {value!r}; port {port} is outside 1-65535"
    return ""


_PUBLIC_URL = re.compile(
    r"^(?P<scheme>https?)://(?P<authority>(?:[^/?#@]*@)?(?P<host>\[[0-9a-fA-F:.]+\]|[^/?#:@]+)"
    r"(?::(?P<port>[0-9]{1,5}))?)(?P<rest>[/?#].*)?$", re.DOTALL)
_HOST = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                   r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.?)$")


def _check_component(name: str, spec: dict[str, Any], merged: dict[str, Any],
                     origin: Origin, chain: list[Loaded], problems: ProblemList) -> None:
    comp = catalog.COMPONENTS[name]
    base: KeyPath = ("components", name)
    if spec.get("enabled") is False and comp.required and comp.follows is None:
        problems.add(_loc(origin, chain, (*base, "enabled")),
                     f"found false; {name} is required (only "
                     f"{', '.join(c.name for c in catalog.CATALOG if not c.required)} "
                     "may be turned off)")
    if comp.follows is not None and "enabled" in spec:
        problems.add(_loc(origin, chain, (*base, "enabled")),
                     f"{name} runs exactly when {comp.follows} does; set "
                     f"components.{comp.follows}.enabled instead")
    if "replicas" in spec and "autoscaling" in spec:
        problems.add(_loc(origin, chain, (*base, "autoscaling")),
                     "set either replicas or autoscaling, not both")
    if not comp.scalable:
        for key in ("autoscaling", "replicas"):
            value = spec.get(key)
            if key == "autoscaling" and value is not None:
                problems.add(_loc(origin, chain, (*base, key)),
                             f"{name} does not scale horizontally "
                             f"({'exactly one replica' if comp.singleton else 'stateful'}); "
                             "remove autoscaling")
            if key == "replicas" and value is not None and value != 1:
                problems.add(_loc(origin, chain, (*base, key)),
                             f"found {value}; {name} runs exactly one replica")
    auto = spec.get("autoscaling")
    if isinstance(auto, dict):
        lo, hi = auto.get("minReplicas"), auto.get("maxReplicas")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            problems.add(_loc(origin, chain, (*base, "autoscaling", "minReplicas")),
                         f"found minReplicas {lo} above maxReplicas {hi}; min must be <= max")
        if ("targetCPUUtilizationPercentage" not in auto
                and "targetMemoryUtilizationPercentage" not in auto):
            problems.add(_loc(origin, chain, (*base, "autoscaling")),
                         "autoscaling needs targetCPUUtilizationPercentage or "
                         "targetMemoryUtilizationPercentage")
        elif ("targetCPUUtilizationPercentage" not in auto
              and comp.runtime in MEMORY_RETAINING_RUNTIMES):
            # Memory-only on a process that never gives memory back: the HPA scales up
            # once and never down again. Memory next to CPU is allowed (rule
            # hpa-memory-target warns), since CPU then still drives scale-down.
            problems.add(_loc(origin, chain, (*base, "autoscaling",
                                              "targetMemoryUtilizationPercentage")),
                         f"{name} runs {comp.runtime}, whose processes do not return freed "
                         "memory to the OS: a memory-only HPA would scale it up and never "
                         "down; set targetCPUUtilizationPercentage instead")
    _check_tolerations(base, spec, origin, chain, problems)
    res = spec.get("resources", {})
    # A quantity refused on its own (not a quantity, not above zero) is not compared with
    # the other one as well: the second error would only repeat the first.
    refused = {key for kind in ("requests", "limits") for key in ("cpu", "memory")
               if _q(merged, (*base, "resources", kind, key), origin, chain, problems) is None
               and isinstance(res.get(kind), dict) and key in res[kind]}
    req_cpu, req_mem, lim_cpu, lim_mem = _effective_resources(comp, res)
    compared = [(key, req, lim) for key, req, lim in
                (("cpu", req_cpu, lim_cpu), ("memory", req_mem, lim_mem)) if key not in refused]
    for key, req, lim in compared:
        if req is not None and lim is not None and lim < req:
            problems.add(
                _loc(origin, chain, (*base, "resources", "limits", key)),
                f"limit {_fmt(res, 'limits', key, comp)} is below the request "
                f"{_fmt(res, 'requests', key, comp)}; a limit must be at least the request")
    if name in catalog.GUARANTEED_QOS:
        # Strict on purpose: a stateful component whose request is below its limit is
        # the first pod evicted or starved under node pressure, and with it all of Dify.
        for key, req, lim in compared:
            if req is not None and lim is not None and req != lim:
                problems.add(
                    _loc(origin, chain, (*base, "resources", "requests", key)),
                    f"request {_fmt(res, 'requests', key, comp)} differs from the limit "
                    f"{_fmt(res, 'limits', key, comp)}; {name} runs with Guaranteed QoS, "
                    f"so its {key} request must equal its limit")
    probes = spec.get("probes", {})
    if "startup" in probes and comp.startup is None:
        problems.add(_loc(origin, chain, (*base, "probes", "startup")),
                     f"{name} starts fast and has no startup probe; remove probes.startup")
    defaults = {"liveness": comp.defaults.liveness, "readiness": comp.defaults.readiness,
                "startup": comp.defaults.startup or STARTUP_DEFAULT}
    for pname, timing in probes.items():
        if isinstance(timing, dict):
            # A probe may set one of the two and inherit the other from the catalog: the
            # rule is about the probe that will run, so compare effective values.
            default = defaults.get(pname, STARTUP_DEFAULT)
            period = timing.get("periodSeconds", default[1])
            timeout = timing.get("timeoutSeconds", default[2])
            if isinstance(period, int) and isinstance(timeout, int) and timeout > period:
                problems.add(_loc(origin, chain, (*base, "probes", pname, "timeoutSeconds")),
                             f"found {timeout}; timeoutSeconds must not exceed "
                             f"periodSeconds ({period})")
            if pname in ("liveness", "startup") and timing.get("successThreshold", 1) != 1:
                problems.add(_loc(origin, chain, (*base, "probes", pname, "successThreshold")),
                             f"found {timing['successThreshold']}; Kubernetes requires 1 for "
                             f"{pname} probes")
    pers = spec.get("persistence")
    if pers is not None:
        if comp.data_mount is None:
            problems.add(_loc(origin, chain, (*base, "persistence")),
                         f"{name} keeps no data; remove persistence")
        elif name == "worker":
            problems.add(_loc(origin, chain, (*base, "persistence")),
                         "the worker mounts the api's file volume; size it under "
                         "components.api.persistence")
        _q(merged, (*base, "persistence", "size"), origin, chain, problems)


def _effective_resources(comp: catalog.Component, res: dict[str, Any]) -> tuple[
        Fraction | None, Fraction | None, Fraction | None, Fraction | None]:
    out: list[Fraction | None] = []
    defaults = {"requests": comp.defaults.requests, "limits": comp.defaults.limits}
    for kind in ("requests", "limits"):
        for i, key in enumerate(("cpu", "memory")):
            raw = res.get(kind, {}).get(key, defaults[kind][i])
            try:
                out.append(_parse_bounded(raw))
            except QuantityError:
                out.append(None)
    return out[0], out[1], out[2], out[3]


def _fmt(res: dict[str, Any], kind: str, key: str, comp: catalog.Component) -> str:
    defaults = {"requests": comp.defaults.requests, "limits": comp.defaults.limits}
    value = res.get(kind, {}).get(key)
    if value is None:
        return f"{defaults[kind][0 if key == 'cpu' else 1]!r} (catalog default)"
    return repr(value)
