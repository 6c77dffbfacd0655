"""Profiles: find them, read them, resolve `extends`, check every rule, build the sizing.

Merge rules for `extends` (documented in docs/profiles.md):
- mappings merge key by key, recursively; the child wins;
- scalars and lists replace the parent's value whole (a list of tolerations is one value);
- `replicas` and `autoscaling` are alternatives: a component that sets one in a child
  drops the other inherited from the parent;
- `null` removes an inherited key (the catalog default applies again).
"""

from __future__ import annotations

import functools
import ipaddress
import json
import math
import re
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import jsonschema

from generator import bundled_schemas, catalog
from generator.errors import (
    GeneratorError,
    Location,
    Problem,
    ProblemList,
    ProfileError,
    SizingError,
    UsageError,
)
from generator.quantity import QuantityError, check_amount, parse_quantity
from generator.queues import BROKER_DATABASE
from generator.resources import profiles_dir
from generator.sizing import (
    AliyunOssStorage,
    AzureBlobStorage,
    ComponentSizing,
    CpuMemory,
    DisruptionPolicy,
    ExternalPostgres,
    ExternalRedis,
    ExternalVectorStore,
    ExtraEnv,
    FileStorage,
    GcsStorage,
    Images,
    Ingress,
    LimitRangePolicy,
    Monitoring,
    NetworkPolicySettings,
    NodeCapacity,
    Peer,
    Persistence,
    PodMetadata,
    Probes,
    ProbeTiming,
    ProfileSizing,
    QuotaPolicy,
    Resources,
    S3Storage,
    Scaling,
    Scheduling,
    Toleration,
    WorkerPool,
    WorkerPools,
    image_key,
)
from generator.urls import credentials_problem, url_problems
from generator.versions import DEFAULT_KUBERNETES_VERSION as DEFAULT_KUBERNETES_VERSION
from generator.yamlio import (
    MAX_PROFILE_NODES,
    Document,
    KeyPath,
    dotted,
    iter_paths,
    parse_document,
    read_text,
)

BUILTIN_PROFILES = ("edge", "small", "production")
# Runtimes whose memory utilization only grows (see catalog.Component.runtime).
MEMORY_RETAINING_RUNTIMES = frozenset({"python"})
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_EXTENDS_DEPTH = 16
# initialDelay, period, timeout, failureThreshold of a startup probe the catalog leaves open
_STARTUP_DEFAULT = (0, 10, 5, 30)


@dataclass(frozen=True)
class ProfileRef:
    """A profile that can be rendered: its name, file, and whether it ships with difygen."""

    name: str
    path: Path
    builtin: bool


@dataclass
class _Loaded:
    ref_name: str
    doc: Document


PROFILE_SCHEMA = "profile.schema.json"


def profile_schema() -> dict[str, Any]:
    return bundled_schemas.load(PROFILE_SCHEMA)


def supported_kubernetes_versions() -> tuple[str, ...]:
    from generator.k8s_schemas import available_versions

    return available_versions()


# ---------------------------------------------------------------------------- discovery


def discover(profiles_dir_override: Path | None = None) -> list[ProfileRef]:
    """Built-in profiles, then custom ones (a custom profile shadows a built-in of its name)."""
    found: dict[str, ProfileRef] = {}
    for name in BUILTIN_PROFILES:
        found[name] = ProfileRef(name, profiles_dir() / f"{name}.yaml", True)
    if profiles_dir_override is not None:
        if not profiles_dir_override.is_dir():
            raise UsageError(f"--profiles-dir {profiles_dir_override}: not a directory")
        for path in sorted(profiles_dir_override.iterdir()):
            if path.suffix in (".yaml", ".yml") and path.is_file():
                # A file's name becomes a directory name in the output (`..yaml` would
                # write helm/values.yaml): the same rule as a name on the command line.
                check_name(path.stem, f"{path.name} in --profiles-dir "
                                      f"{profiles_dir_override}")
                found[path.stem] = ProfileRef(path.stem, path, False)
    return sorted(found.values(), key=lambda r: (not r.builtin, r.name))


def check_name(name: str, what: str | None = None) -> None:
    """A profile name names its overlay and Helm directories: a DNS-1123 label, no path."""
    if what is not None:
        if not NAME_RE.match(name) or len(name) > 63:
            raise UsageError(
                f"{what}: {name!r} is not a profile name: names are DNS-1123 labels "
                "(lower-case letters, digits, '-'; at most 63 characters) because they name "
                "the overlay directory; rename the file")
        return
    subject = f"profile {name!r}"
    if "/" in name or "\\" in name or name in (".", ".."):
        raise UsageError(
            f"{subject}: give a profile name, not a path (put custom profiles in a "
            "directory and pass --profiles-dir)")
    if not NAME_RE.match(name) or len(name) > 63:
        raise UsageError(
            f"{subject}: profile names are DNS-1123 labels (lower-case letters, digits, "
            "'-'; at most 63 characters) because they name the overlay directory")


def find(name: str, profiles_dir_override: Path | None = None) -> ProfileRef:
    check_name(name)
    for ref in discover(profiles_dir_override):
        if ref.name == name:
            return ref
    known = ", ".join(r.name for r in discover(profiles_dir_override))
    raise UsageError(f"profile {name!r} not found (known: {known})")


def display_path(path: Path) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------- loading


def load(ref: ProfileRef) -> ProfileSizing:
    """Read, resolve and check one profile; every problem is reported at once."""
    chain = _load_chain(ref)
    merged, origin = _merge_chain(chain)
    problems = ProblemList()
    _check_merged(merged, origin, chain, problems)
    problems.raise_if_any(ProfileError, f"profile {ref.name} is not valid")
    sizing = _build(ref, tuple(c.ref_name for c in chain), chain[0].doc.source, merged)
    _check_sizing(sizing, origin, chain)
    _check_extra_env(sizing, origin, chain)
    return sizing


def _check_extra_env(sizing: ProfileSizing, origin: _Origin, chain: list[_Loaded]) -> None:
    """An extra env var must not replace one difygen sets or derives (pool sizes, worker
    counts, URLs): a silent override would defeat the sizing checks."""
    if not any(c.extra_env for c in sizing.components.values()):
        return
    from generator.env_conflicts import conflicts

    problems = ProblemList()
    for component, name, why in conflicts(sizing):
        problems.add(_loc(origin, chain, ("components", component, "env", name)),
                     f"found {name!r}; difygen sets it for {component} ({why}) and extra "
                     "env may not replace what difygen sets or derives (change the "
                     "profile setting it follows from instead)")
    problems.raise_if_any(ProfileError, f"profile {sizing.name} is not valid")


def _check_sizing(sizing: ProfileSizing, origin: _Origin, chain: list[_Loaded]) -> None:
    """Derive the tunables once here, where positions are known, so that a sizing error
    points at the line that sets the value it names (or the nearest one above it)."""
    from generator.tunables import derive

    try:
        derive(sizing)
    except SizingError as exc:
        located = [
            p if p.location.line is not None else Problem(
                _loc(origin, chain, tuple(p.location.key_path.split("."))), p.message)
            for p in exc.problems
        ]
        raise SizingError(exc.message, located) from None


def _load_doc(path: Path) -> Document:
    try:
        stat = path.stat()
    except OSError:
        return _load_doc_uncached(path)
    # Parents are shared by many profiles (and fleet environments): parse each file once.
    return _load_doc_cached(path.resolve(), display_path(path), stat.st_mtime_ns,
                            stat.st_size)


@functools.lru_cache(maxsize=256)
def _load_doc_cached(path: Path, source: str, mtime_ns: int, size: int) -> Document:
    return _load_doc_uncached(path, source)


def _load_doc_uncached(path: Path, source: str | None = None) -> Document:
    source = source or display_path(path)
    text = read_text(path, source)
    doc = parse_document(text, source, MAX_PROFILE_NODES)
    if not isinstance(doc.data, dict):
        kind = _json_type(doc.data)
        article = "an" if kind[0] in "aeiou" else "a"
        raise ProfileError("not a mapping", [_problem(
            doc, (), f"found {article} {kind} at the top level; a profile is a mapping of "
                     "keys such as 'extends' and 'components'")])
    problems = ProblemList()
    # `null` is the merge directive "drop the inherited value"; the schema describes
    # values, so it checks the file with those directives taken out. jsonschema-rs gives
    # the fast yes; the Python validator words the messages when the answer is no.
    values = _without_nulls(doc.data, profile_schema())
    for error in bundled_schemas.errors(PROFILE_SCHEMA, values):
        if _worded_later(error):
            continue
        _schema_problem(doc, error, problems, text)
    problems.problems.extend(url_problems(doc))
    namespace = doc.data.get("namespace")
    if isinstance(namespace, str) and is_system_namespace(namespace):
        problems.add(doc.location(("namespace",)), system_namespace_message(namespace))
    problems.raise_if_any(ProfileError, f"{source} does not match the profile schema")
    return doc


# Namespaces of Kubernetes itself and of the cluster tools next to which Dify must not
# land: a profile gives its namespace a ResourceQuota, a LimitRange and Pod Security
# labels, which would throttle or break what runs there. `kube-*` and `openshift-*` are
# reserved prefixes. Documented in docs/profiles.md and docs/fleet.md.
SYSTEM_NAMESPACES = frozenset({
    "default", "kube-system", "kube-public", "kube-node-lease", "argocd", "flux-system",
    "cert-manager", "ingress-nginx", "istio-system", "linkerd", "gatekeeper-system",
    "kyverno", "calico-system", "tigera-operator", "metallb-system", "local-path-storage",
    "monitoring", "kubernetes-dashboard",
})
_SYSTEM_PREFIXES = ("kube-", "openshift-")


def is_system_namespace(name: str) -> bool:
    return name in SYSTEM_NAMESPACES or name.startswith(_SYSTEM_PREFIXES)


def system_namespace_message(name: str) -> str:
    return (f"found {name!r}; that namespace belongs to the cluster or one of its tools "
            "(Dify's quota, LimitRange and Pod Security labels would apply to it): choose "
            "a namespace of Dify's own, such as 'dify'")


def _without_nulls(value: Any, schema: dict[str, Any]) -> Any:
    """`value` without the `null` merge directives, walking the schema beside it.

    Only keys whose schema allows null are dropped, so the published schema says exactly
    where null is a directive (an editor checks it the same way); any other null, and an
    unknown key, stays for the schema to report.
    """
    schema = _resolve(schema)
    if isinstance(value, dict):
        known = schema.get("properties", {})
        return {k: _without_nulls(v, known.get(k, {})) for k, v in value.items()
                if not (v is None and k in known and _allows_null(known[k]))}
    if isinstance(value, list):
        return [_without_nulls(v, schema.get("items", {})) for v in value]
    return value


def _allows_null(schema: dict[str, Any]) -> bool:
    schema = _resolve(schema)
    types = schema.get("type")
    return ((isinstance(types, list) and "null" in types) or types == "null"
            or None in schema.get("enum", ()))


# The quantity definition's pattern and bounds are there for editors and other
# validators; the loader words the same mistakes better ("did you mean '512Mi'?") once the
# profile is merged, so it leaves them to that check.
_QUANTITY_CHECKS = frozenset({"pattern", "maxLength", "exclusiveMinimum", "maximum"})


def _worded_later(error: jsonschema.ValidationError) -> bool:
    return (error.validator in _QUANTITY_CHECKS
            and error.schema == profile_schema()["$defs"]["quantity"])


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: dict[str, Any] = profile_schema()["$defs"][ref.removeprefix("#/$defs/")]
        return resolved
    return schema


def _problem(doc: Document, path: KeyPath, message: str, at_key: bool = False) -> Problem:
    return Problem(doc.location(path, at_key=at_key), message)


def _schema_problem(doc: Document, error: jsonschema.ValidationError,
                    problems: ProblemList, text: str | None = None) -> None:
    if isinstance(error.instance, str) and credentials_problem(error.instance):
        return  # reported by url_problems, which does not repeat the credentials
    path: KeyPath = tuple(error.absolute_path)
    validator = error.validator
    schema: Any = error.schema
    expected_value: Any = error.validator_value
    instance: Any = error.instance
    if validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = [k for k in instance if k not in allowed]
        for key in extra:
            hint = _close_match(key, allowed)
            problems.add(doc.location((*path, key), at_key=True),
                         f"unknown key {key!r}{hint}; allowed here: {', '.join(allowed)}")
        return
    found = error.instance
    shown = json.dumps(found) if not isinstance(found, dict | list) else (
        "a mapping" if isinstance(found, dict) else "a list")
    # null is the "remove the key" directive, never a value: not listed as one
    if validator == "type":
        expected = (" or ".join(t for t in expected_value if t != "null")
                    if isinstance(expected_value, list) else expected_value)
        message = f"found {shown} ({_json_type(found)}); expected {expected}"
        if isinstance(found, float) and found.is_integer() and "integer" in str(expected):
            message += f" (write {int(found)}, without the decimal point)"
        elif "string" in expected and isinstance(found, int | float) and text is not None:
            message += _quote_hint(doc, path, text)
    elif validator == "enum":
        shown_values = ", ".join(str(v) for v in expected_value if v is not None)
        message = f"found {shown}; allowed: {shown_values}"
    elif validator == "pattern":
        message = f"found {shown}; {_pattern_help(path, expected_value)}"
    elif validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        word = {"minimum": "at least", "maximum": "at most",
                "exclusiveMinimum": "more than", "exclusiveMaximum": "less than"}[validator]
        message = f"found {shown}; must be {word} {expected_value}"
    elif validator == "required":
        missing = [k for k in expected_value if k not in instance]
        message = f"missing required key {missing[0]!r}" if missing else error.message
    elif validator in ("maxLength", "minLength", "maxItems", "maxProperties"):
        message = f"found {shown}; {error.message.split(' is ')[-1]}"
    else:
        message = f"found {shown}; {error.message}"
    problems.add(doc.location(path), message)


def _quote_hint(doc: Document, path: KeyPath, text: str) -> str:
    """YAML reads `1.30` as the number 1.3: show what was written, quoted."""
    location = doc.location(path)
    lines = text.splitlines()
    if location.line is None or not 0 < location.line <= len(lines):
        return ""
    written = lines[location.line - 1][(location.column or 1) - 1:].split(" #")[0].strip()
    written = written.rstrip(",}]").strip()
    if not written:
        return ""
    return f" (YAML reads {written} as a number; quote it: '{written}')"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "mapping" if isinstance(value, dict) else "list"


def _pattern_help(path: KeyPath, pattern: str) -> str:
    last = str(path[-1]) if path else ""
    if last in ("storageClass", "secretName", "priorityClassName"):
        return ("must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', "
                "starting and ending with a letter or digit")
    if last == "namespace":
        return "must be a DNS-1123 label: lower-case letters, digits and '-', at most 63"
    if last == "kubernetesVersion":
        return "must be a Kubernetes minor version such as '1.35' (quote it)"
    if len(path) >= 2 and path[-2] == "tags":
        return "must be an image tag: letters, digits, '_', '.', '-' (at most 128)"
    return f"must match {pattern}"


def _close_match(key: str, allowed: list[str]) -> str:
    import difflib

    match = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _load_chain(ref: ProfileRef) -> list[_Loaded]:
    """The profile and its parents, child first; cycles and missing parents are errors."""
    chain: list[_Loaded] = []
    seen: list[Path] = []
    root = ref.path.resolve().parent
    current_path = ref.path
    current_name = ref.name
    while True:
        resolved = current_path.resolve()
        if resolved in seen:
            names = " -> ".join([c.ref_name for c in chain] + [current_name])
            first = chain[0].doc
            raise ProfileError("extends cycle", [_problem(
                chain[-1].doc, ("extends",),
                f"extends cycle: {names}; a profile cannot inherit from itself")
            ] if chain else [_problem(first, ("extends",), "extends cycle")])
        if len(chain) >= MAX_EXTENDS_DEPTH:
            raise ProfileError("too deep", [_problem(
                chain[-1].doc, ("extends",),
                f"extends chain is longer than {MAX_EXTENDS_DEPTH} profiles")])
        seen.append(resolved)
        doc = _load_doc(current_path)
        chain.append(_Loaded(current_name, doc))
        parent = doc.data.get("extends")
        if parent is None:
            return chain
        current_path, current_name = _parent(doc, parent, current_path, root)


def _parent(doc: Document, parent: str, child: Path, root: Path) -> tuple[Path, str]:
    if any(ord(c) < 0x20 or c == "\x7f" for c in parent):
        raise ProfileError("control character", [_problem(
            doc, ("extends",),
            f"found {parent!r}; a parent is a built-in name or a relative path, without "
            "control characters (NUL, newline, tab)")])
    if "/" not in parent and not parent.endswith((".yaml", ".yml")):
        if parent not in BUILTIN_PROFILES:
            raise ProfileError("missing parent", [_problem(
                doc, ("extends",),
                f"found {parent!r}; a bare name must be a built-in profile "
                f"({', '.join(BUILTIN_PROFILES)}); give a custom parent as a relative "
                "path such as './base.yaml'")])
        return profiles_dir() / f"{parent}.yaml", parent
    candidate = Path(parent)
    if candidate.is_absolute():
        raise ProfileError("absolute parent", [_problem(
            doc, ("extends",),
            f"found {parent!r}; a parent path must be relative to this file, so the "
            "profile tree renders the same on every machine")])
    target = (child.resolve().parent / candidate).resolve()
    builtin_root = profiles_dir().resolve()
    inside = target.is_relative_to(root) or target.is_relative_to(builtin_root)
    if not inside:
        raise ProfileError("escaping parent", [_problem(
            doc, ("extends",),
            f"found {parent!r}; it points outside the profile's directory ({root}); "
            "parents must live in the same directory tree")])
    if not target.is_file():
        raise ProfileError("missing parent", [_problem(
            doc, ("extends",), f"found {parent!r}; no such file {display_path(target)}")])
    return target, target.stem


# ---------------------------------------------------------------------------- merging

_Origin = dict[KeyPath, Document]


def _merge_chain(chain: list[_Loaded]) -> tuple[dict[str, Any], _Origin]:
    merged: dict[str, Any] = {}
    origin: _Origin = {}
    for loaded in reversed(chain):  # root parent first, the child last
        _merge_into(merged, loaded.doc.data, (), loaded.doc, origin)
    merged.pop("extends", None)
    return merged, origin


def _merge_into(base: dict[str, Any], child: dict[str, Any], path: KeyPath,
                doc: Document, origin: _Origin) -> None:
    if len(path) == 2 and path[0] == "components":
        # replicas and autoscaling are alternatives: choosing one drops the inherited other
        if "replicas" in child:
            base.pop("autoscaling", None)
        if "autoscaling" in child:
            base.pop("replicas", None)
    for key, value in child.items():
        here = (*path, key)
        if value is None:
            base.pop(key, None)
            continue
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            origin[here] = doc
            _merge_into(base[key], value, here, doc, origin)
        else:
            base[key] = _copy(value)
            for sub, _ in iter_paths(value, here):
                origin[sub] = doc


def _copy(value: Any) -> Any:
    # A `null` in a mapping no parent has set yet removes nothing, but it still means
    # "use the default": drop it, as the merge into an existing mapping does.
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _loc(origin: _Origin, chain: list[_Loaded], path: KeyPath) -> Location:
    probe = path
    while probe and probe not in origin:
        probe = probe[:-1]
    doc = origin.get(probe, chain[0].doc)
    loc = doc.location(path)
    return loc


# ---------------------------------------------------------------------------- rules

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



def _q(merged: dict[str, Any], path: KeyPath, origin: _Origin, chain: list[_Loaded],
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


def _check_merged(merged: dict[str, Any], origin: _Origin, chain: list[_Loaded],
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
    origin_from_ingress = _ingress(merged.get("ingress")).public_origin
    if _enabled(catalog.COMPONENTS["api-websocket"], websocket) and not (
            public_url or origin_from_ingress):
        problems.add(_loc(origin, chain, ("components", "api-websocket", "enabled")),
                     "api-websocket needs publicUrl: browsers connect to "
                     "wss://<host>/socket.io, and no host is known without it (set "
                     "publicUrl or an ingress host, or turn api-websocket off)")


def _check_worker_pools(merged: dict[str, Any], origin: _Origin, chain: list[_Loaded],
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


# What a LimitRange's defaults are when the profile does not set them (see _build).
LIMIT_RANGE_DEFAULTS = {"defaultRequest": ("100m", "128Mi"), "default": ("500m", "512Mi")}


def _check_limit_range(merged: dict[str, Any], given: dict[str, dict[str, Fraction | None]],
                       origin: _Origin, chain: list[_Loaded], problems: ProblemList) -> None:
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


def _check_tolerations(base: KeyPath, spec: dict[str, Any], origin: _Origin,
                       chain: list[_Loaded], problems: ProblemList) -> None:
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


def external_components(merged: dict[str, Any]) -> set[str]:
    """In-cluster components a profile replaces with services outside the cluster, and
    the in-cluster vector stores it does not choose."""
    out = set()
    if "external" in merged.get("database", {}):
        out.add("postgres")
    if "external" in merged.get("redis", {}):
        out.add("redis")
    vector = merged.get("vectorDatabase", {})
    chosen = vector.get("type", catalog.DEFAULT_VECTOR_STORE)
    for store in catalog.VECTOR_STORES:
        if store.component is not None and (store.kind != chosen or "external" in vector):
            out.add(store.component)
    return out


def _check_external(merged: dict[str, Any], origin: _Origin, chain: list[_Loaded],
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


def _check_pod_metadata(spec: dict[str, Any], base: KeyPath, origin: _Origin,
                        chain: list[_Loaded], problems: ProblemList) -> None:
    for key, prefix in (("podLabels", RESERVED_LABEL_PREFIX),
                        ("podAnnotations", RESERVED_ANNOTATION_PREFIX)):
        for name in spec.get(key, {}):
            if name.startswith(prefix):
                problems.add(_loc(origin, chain, (*base, key, name)),
                             f"found {name!r}; keys under {prefix} are set by difygen "
                             "and cannot be given in a profile")


def _check_ingress(spec: dict[str, Any] | None, origin: _Origin, chain: list[_Loaded],
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


def _check_network_policies(spec: dict[str, Any], origin: _Origin, chain: list[_Loaded],
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


def _network(text: Any, path: KeyPath, origin: _Origin, chain: list[_Loaded],
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


def _enabled(comp: catalog.Component, spec: dict[str, Any]) -> bool:
    return bool(spec.get("enabled", comp.enabled_by_default))


def _check_component(name: str, spec: dict[str, Any], merged: dict[str, Any],
                     origin: _Origin, chain: list[_Loaded], problems: ProblemList) -> None:
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
    for kind in ("requests", "limits"):
        for key in ("cpu", "memory"):
            _q(merged, (*base, "resources", kind, key), origin, chain, problems)
    req_cpu, req_mem, lim_cpu, lim_mem = _effective_resources(comp, res)
    for key, req, lim in (("cpu", req_cpu, lim_cpu), ("memory", req_mem, lim_mem)):
        if req is not None and lim is not None and lim < req:
            problems.add(
                _loc(origin, chain, (*base, "resources", "limits", key)),
                f"limit {_fmt(res, 'limits', key, comp)} is below the request "
                f"{_fmt(res, 'requests', key, comp)}; a limit must be at least the request")
    if name in catalog.GUARANTEED_QOS:
        # Strict on purpose: a stateful component whose request is below its limit is
        # the first pod evicted or starved under node pressure, and with it all of Dify.
        for key, req, lim in (("cpu", req_cpu, lim_cpu), ("memory", req_mem, lim_mem)):
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
                "startup": comp.defaults.startup or _STARTUP_DEFAULT}
    for pname, timing in probes.items():
        if isinstance(timing, dict):
            # A probe may set one of the two and inherit the other from the catalog: the
            # rule is about the probe that will run, so compare effective values.
            default = defaults.get(pname, _STARTUP_DEFAULT)
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


# ---------------------------------------------------------------------------- building


def neutral() -> ProfileSizing:
    """Catalog defaults, every component on, local storage: the sizing of the shared base."""
    every = {c.name: {"enabled": True} for c in catalog.CATALOG if c.follows is None}
    return _build(ProfileRef("base", Path("catalog"), True), ("base",), "catalog",
                  {"components": every})


def _build(ref: ProfileRef, chain: tuple[str, ...], source: str,
           merged: dict[str, Any]) -> ProfileSizing:
    images = merged.get("images", {})
    tags = images.get("tags", {})
    storage = merged.get("fileStorage", {})
    s3 = storage.get("s3")
    node = merged.get("node")
    quota = merged.get("resourceQuota", {})
    limit_range = merged.get("limitRange", {})
    pdb = merged.get("podDisruptionBudgets", {})
    external = external_components(merged)
    specs = merged.get("components", {})
    components = {}
    for comp in catalog.CATALOG:
        spec = specs.get(comp.name, {})
        leader = comp.follows
        enabled = _enabled(catalog.COMPONENTS[leader], specs.get(leader, {})) if leader \
            else _enabled(comp, spec)
        # An external service replaces the in-cluster component.
        components[comp.name] = _build_component(comp, spec,
                                                 enabled and comp.name not in external)
    pools = _worker_pools(merged.get("workerPools"))
    if pools is not None:
        # The pools replace the worker Deployment: its replica range is theirs, summed,
        # so quota, node fit and explain count every pool pod.
        worker = components["worker"]
        components["worker"] = replace(worker, scaling=Scaling(
            True, sum(p.min_replicas for p in pools.pools),
            sum(p.max_replicas for p in pools.pools), worker.scaling.target_cpu_percent))
    return ProfileSizing(
        name=ref.name,
        source=source,
        chain=chain,
        description=merged.get("description", ""),
        kubernetes_version=merged.get("kubernetesVersion", DEFAULT_KUBERNETES_VERSION),
        namespace=merged.get("namespace", "dify"),
        images=Images(
            registry=images.get("registry", ""),
            pull_policy=images.get("pullPolicy", "IfNotPresent"),
            tags=tuple((c.name, tags.get(c.name, c.tag)) for c in catalog.CATALOG
                       if image_key(c.name) == c.name),
            pull_secrets=tuple(images.get("pullSecrets", ())),
        ),
        secret_name=merged.get("secretName", "dify-secrets"),
        file_storage=_file_storage(storage, s3),
        vector_database=merged.get("vectorDatabase", {}).get("type", "weaviate"),
        # publicUrl wins; without it an Ingress's first host is where browsers come from.
        public_url=(merged.get("publicUrl")
                    or _ingress(merged.get("ingress")).public_origin or "").rstrip("/"),
        node=NodeCapacity(parse_quantity(node["cpu"]), parse_quantity(node["memory"]),
                          node.get("reservedPercent", 10)) if node else None,
        quota=QuotaPolicy(quota.get("enabled", True), quota.get("headroomPercent", 20)),
        limit_range=LimitRangePolicy(
            enabled=limit_range.get("enabled", True),
            default_request=_cpu_mem(limit_range.get("defaultRequest"),
                                     LIMIT_RANGE_DEFAULTS["defaultRequest"]),
            default=_cpu_mem(limit_range.get("default"), LIMIT_RANGE_DEFAULTS["default"]),
        ),
        disruption=DisruptionPolicy(pdb.get("enabled", False), pdb.get("maxUnavailable", 1)),
        components=components,
        ingress=_ingress(merged.get("ingress")),
        pod_metadata=_pod_metadata(merged),
        external_postgres=_external_postgres(merged.get("database", {}).get("external")),
        external_redis=_external_redis(merged.get("redis", {}).get("external")),
        external_vector_store=_external_vector(merged.get("vectorDatabase", {})
                                               .get("external")),
        worker_pools=pools,
        monitoring=Monitoring(
            enabled=merged.get("monitoring", {}).get("enabled", False),
            grafana_dashboard=merged.get("monitoring", {}).get("grafanaDashboard", False),
            prometheus_labels=tuple(sorted(
                merged.get("monitoring", {}).get("prometheusLabels", {}).items())),
        ),
        network_policies=_network_policies(merged.get("networkPolicies", {})),
    )


def _worker_pools(spec: dict[str, Any] | None) -> WorkerPools | None:
    if not spec or not spec.get("enabled", True) or not spec.get("pools"):
        return None
    return WorkerPools(
        polling_interval_seconds=spec.get("pollingIntervalSeconds", 15),
        cooldown_period_seconds=spec.get("cooldownPeriodSeconds", 300),
        pools=tuple(WorkerPool(p["name"], tuple(p["queues"]), p.get("minReplicas", 1),
                               p["maxReplicas"], p.get("tasksPerReplica"))
                    for p in spec["pools"]),
    )


def _file_storage(storage: dict[str, Any], s3: dict[str, Any] | None) -> FileStorage:
    backend = storage.get("backend", "local")
    azure, gcs, oss = (storage.get(k) for k in ("azureBlob", "gcs", "aliyunOss"))
    return FileStorage(
        backend=backend,
        s3=S3Storage(endpoint=s3["endpoint"], bucket=s3["bucket"],
                     region=s3.get("region", "us-east-1"),
                     addressing_style=s3.get("addressingStyle", "path"))
        if backend == "s3" and s3 else None,
        azure_blob=AzureBlobStorage(
            account_name=azure["accountName"], container=azure["container"],
            account_url=azure.get("accountUrl",
                                  f"https://{azure['accountName']}.blob.core.windows.net"))
        if backend == "azure-blob" and azure else None,
        gcs=GcsStorage(gcs["bucket"]) if backend == "gcs" and gcs else None,
        aliyun_oss=AliyunOssStorage(
            endpoint=oss["endpoint"], bucket=oss["bucket"], region=oss["region"],
            auth_version=oss.get("authVersion", "v4"), path=oss.get("path", ""))
        if backend == "aliyun-oss" and oss else None,
    )


def _external_postgres(spec: dict[str, Any] | None) -> ExternalPostgres | None:
    if spec is None:
        return None
    return ExternalPostgres(
        host=spec["host"], port=spec.get("port", 5432),
        username=spec.get("username", "postgres"), database=spec.get("database", "dify"),
        plugin_database=spec.get("pluginDatabase", "dify_plugin"),
        ssl_mode=spec.get("sslMode", "require"),
        max_connections=spec.get("maxConnections"),
        pgbouncer_pool_size=spec.get("pgbouncerPoolSize"))


def _external_redis(spec: dict[str, Any] | None) -> ExternalRedis | None:
    if spec is None:
        return None
    sentinel = spec.get("sentinel", {})
    return ExternalRedis(
        host=spec.get("host", ""), port=spec.get("port", 6379),
        username=spec.get("username", ""), db=spec.get("db", 0), tls=spec.get("tls", False),
        sentinel_master=sentinel.get("masterName"),
        sentinel_nodes=tuple(sentinel.get("nodes", ())),
        broker_db=spec.get("brokerDb", BROKER_DATABASE))


def _external_vector(spec: dict[str, Any] | None) -> ExternalVectorStore | None:
    if spec is None:
        return None
    return ExternalVectorStore(
        endpoint=spec.get("endpoint"), grpc_endpoint=spec.get("grpcEndpoint"),
        grpc_port=spec.get("grpcPort"), host=spec.get("host"), port=spec.get("port"),
        database=spec.get("database"), username=spec.get("username"))


def _ingress(spec: dict[str, Any] | None) -> Ingress:
    if not spec:
        return Ingress()
    cert = spec.get("certManager", {})
    return Ingress(
        # Writing an `ingress:` block means wanting one; `enabled: false` turns an
        # inherited one off.
        enabled=spec.get("enabled", True),
        class_name=spec.get("className"),
        hosts=tuple(spec.get("hosts", ())),
        tls_secret=spec.get("tls", {}).get("secretName"),
        cluster_issuer=cert.get("clusterIssuer"),
        issuer=cert.get("issuer"),
        annotations=tuple(sorted(spec.get("annotations", {}).items())),
    )


def _pod_metadata(spec: dict[str, Any]) -> PodMetadata:
    return PodMetadata(labels=tuple(sorted(spec.get("podLabels", {}).items())),
                       annotations=tuple(sorted(spec.get("podAnnotations", {}).items())))


def _extra_env(spec: dict[str, Any]) -> tuple[ExtraEnv, ...]:
    out = []
    for name, value in sorted(spec.get("env", {}).items()):
        if isinstance(value, dict):
            out.append(ExtraEnv(name, secret_key=value["secretKey"]))
        else:
            out.append(ExtraEnv(name, value=value))
    return tuple(out)


def _network_policies(spec: dict[str, Any]) -> NetworkPolicySettings:
    default = NetworkPolicySettings()
    dns = spec.get("dns", {})
    return NetworkPolicySettings(
        enabled=spec.get("enabled", default.enabled),
        ingress_from=tuple(_peer(p) for p in spec["ingressFrom"])
        if "ingressFrom" in spec else default.ingress_from,
        dns_to=tuple(_peer(p) for p in dns["to"]) if "to" in dns else default.dns_to,
        dns_ports=tuple(dns.get("ports", default.dns_ports)),
        internet_except=tuple(spec.get("internetExcept", default.internet_except)),
    )


def _peer(spec: dict[str, Any]) -> Peer:
    def labels(key: str) -> tuple[tuple[str, str], ...] | None:
        value = spec.get(key)
        return None if value is None else tuple(sorted(value.items()))

    return Peer(namespace_selector=labels("namespaceSelector"),
                pod_selector=labels("podSelector"), cidr=spec.get("cidr"),
                except_cidrs=tuple(spec.get("except", ())))


def _cpu_mem(spec: dict[str, Any] | None, default: tuple[str, str]) -> CpuMemory:
    spec = spec or {}
    return CpuMemory(parse_quantity(spec.get("cpu", default[0])),
                     parse_quantity(spec.get("memory", default[1])))


def _timing(spec: dict[str, Any] | None, default: tuple[int, int, int, int]) -> ProbeTiming:
    spec = spec or {}
    return ProbeTiming(
        initial_delay_seconds=spec.get("initialDelaySeconds", default[0]),
        period_seconds=spec.get("periodSeconds", default[1]),
        timeout_seconds=spec.get("timeoutSeconds", default[2]),
        failure_threshold=spec.get("failureThreshold", default[3]),
        success_threshold=spec.get("successThreshold", 1),
    )


def _build_component(comp: catalog.Component, spec: dict[str, Any],
                     enabled: bool) -> ComponentSizing:
    d = comp.defaults
    res = spec.get("resources", {})
    auto = spec.get("autoscaling")
    if auto:
        scaling = Scaling(True, auto["minReplicas"], auto["maxReplicas"],
                          auto.get("targetCPUUtilizationPercentage"),
                          auto.get("targetMemoryUtilizationPercentage"))
    else:
        n = spec.get("replicas", 1)
        scaling = Scaling(False, n, n)
    probes = spec.get("probes", {})
    startup = None
    if comp.startup is not None:
        startup = _timing(probes.get("startup"), d.startup or _STARTUP_DEFAULT)
    pers = spec.get("persistence")
    persistence = None
    if comp.data_mount is not None and (comp.stateful or pers is not None or d.storage):
        pers = pers or {}
        persistence = Persistence(
            storage_class=pers.get("storageClass", "standard"),
            size=parse_quantity(pers.get("size", d.storage or "10Gi")),
            # api's volume is shared by api and worker pods that may land on different
            # nodes: only ReadWriteMany is safe without knowing the cluster.
            access_mode=pers.get("accessMode",
                                 "ReadWriteMany" if comp.name == "api" else "ReadWriteOnce"),
        )
    sched = spec.get("scheduling", {})
    return ComponentSizing(
        name=comp.name,
        enabled=enabled,
        scaling=scaling,
        resources=Resources(
            requests=CpuMemory(parse_quantity(res.get("requests", {}).get("cpu", d.requests[0])),
                               parse_quantity(res.get("requests", {}).get("memory",
                                                                          d.requests[1]))),
            limits=CpuMemory(parse_quantity(res.get("limits", {}).get("cpu", d.limits[0])),
                             parse_quantity(res.get("limits", {}).get("memory", d.limits[1]))),
        ),
        probes=Probes(
            liveness=_timing(probes.get("liveness"), d.liveness),
            readiness=_timing(probes.get("readiness"), d.readiness),
            startup=startup,
        ),
        scheduling=Scheduling(
            node_selector=tuple(sorted(sched.get("nodeSelector", {}).items())),
            tolerations=tuple(
                Toleration(t.get("key"), t.get("operator"), t.get("value"), t.get("effect"),
                           t.get("tolerationSeconds"))
                for t in sched.get("tolerations", [])),
            spread_across_nodes=sched.get("spreadAcrossNodes", "none"),
            spread_across_zones=sched.get("spreadAcrossZones", "none"),
            priority_class_name=sched.get("priorityClassName"),
            topology_spread_zones=sched.get("topologySpread", {}).get("zones", "none"),
            topology_spread_nodes=sched.get("topologySpread", {}).get("nodes", "none"),
        ),
        persistence=persistence,
        extra_env=_extra_env(spec),
        pod_metadata=_pod_metadata(spec),
    )


def locate(sizing: ProfileSizing, path: KeyPath) -> Location | None:
    """Where in the profile's files `path` is set (or its nearest ancestor): the file of
    the `extends` chain that set it last. None for a sizing not read from a file (the
    neutral base) or a file that cannot be read again."""
    if sizing.source == "catalog":
        return None
    try:
        chain = _load_chain(ProfileRef(sizing.chain[0], Path(sizing.source), False))
    except (GeneratorError, OSError):
        return None
    _, origin = _merge_chain(chain)
    return _loc(origin, chain, path)


def describe_chain(ref: ProfileRef) -> tuple[str, ...]:
    """The `extends` chain of a profile (names), without checking the whole profile."""
    return tuple(c.ref_name for c in _load_chain(ref))


__all__ = ["BUILTIN_PROFILES", "ProfileRef", "describe_chain", "discover", "dotted", "find",
           "load"]
