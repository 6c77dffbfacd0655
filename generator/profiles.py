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
import json
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import jsonschema

from generator import bundled_schemas, catalog
from generator.errors import (
    Location,
    Problem,
    ProblemList,
    ProfileError,
    SizingError,
    UsageError,
)
from generator.quantity import QuantityError, parse_quantity
from generator.resources import profiles_dir
from generator.sizing import (
    ComponentSizing,
    CpuMemory,
    DisruptionPolicy,
    FileStorage,
    Images,
    LimitRangePolicy,
    NodeCapacity,
    Persistence,
    Probes,
    ProbeTiming,
    ProfileSizing,
    QuotaPolicy,
    Resources,
    S3Storage,
    Scaling,
    Scheduling,
    Toleration,
    image_key,
)
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
                found[path.stem] = ProfileRef(path.stem, path, False)
    return sorted(found.values(), key=lambda r: (not r.builtin, r.name))


def find(name: str, profiles_dir_override: Path | None = None) -> ProfileRef:
    if "/" in name or "\\" in name or name in (".", ".."):
        raise UsageError(
            f"profile {name!r}: give a profile name, not a path (put custom profiles in a "
            "directory and pass --profiles-dir)")
    if not NAME_RE.match(name) or len(name) > 63:
        raise UsageError(
            f"profile {name!r}: names are DNS-1123 labels (lower-case letters, digits, '-'; "
            "at most 63 characters) because they name the overlay directory")
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
    return sizing


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
    problems.raise_if_any(ProfileError, f"{source} does not match the profile schema")
    return doc


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
        if "string" in expected and isinstance(found, int | float) and text is not None:
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
    for part in ("defaultRequest", "default"):
        for key in ("cpu", "memory"):
            _q(merged, ("limitRange", part, key), origin, chain, problems)
    storage = merged.get("fileStorage", {})
    if storage.get("backend") == "s3":
        s3 = storage.get("s3", {})
        for key in ("endpoint", "bucket"):
            if key not in s3:
                problems.add(_loc(origin, chain, ("fileStorage", "s3")),
                             f"backend 's3' needs fileStorage.s3.{key}")
    components = merged.get("components", {})
    for name, spec in components.items():
        _check_component(name, spec, merged, origin, chain, problems)


def _check_component(name: str, spec: dict[str, Any], merged: dict[str, Any],
                     origin: _Origin, chain: list[_Loaded], problems: ProblemList) -> None:
    comp = catalog.COMPONENTS[name]
    base: KeyPath = ("components", name)
    if spec.get("enabled") is False and comp.required:
        problems.add(_loc(origin, chain, (*base, "enabled")),
                     f"found false; {name} is required (only "
                     f"{', '.join(c.name for c in catalog.CATALOG if not c.required)} "
                     "may be turned off)")
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
    return _build(ProfileRef("base", Path("catalog"), True), ("base",), "catalog", {})


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
    components = {
        comp.name: _build_component(comp, merged.get("components", {}).get(comp.name, {}))
        for comp in catalog.CATALOG
    }
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
        ),
        secret_name=merged.get("secretName", "dify-secrets"),
        file_storage=FileStorage(
            backend=storage.get("backend", "local"),
            s3=S3Storage(endpoint=s3["endpoint"], bucket=s3["bucket"],
                         region=s3.get("region", "us-east-1"),
                         addressing_style=s3.get("addressingStyle", "path"))
            if storage.get("backend") == "s3" and s3 else None,
        ),
        vector_database=merged.get("vectorDatabase", {}).get("type", "weaviate"),
        node=NodeCapacity(parse_quantity(node["cpu"]), parse_quantity(node["memory"]),
                          node.get("reservedPercent", 10)) if node else None,
        quota=QuotaPolicy(quota.get("enabled", True), quota.get("headroomPercent", 20)),
        limit_range=LimitRangePolicy(
            enabled=limit_range.get("enabled", True),
            default_request=_cpu_mem(limit_range.get("defaultRequest"), ("100m", "128Mi")),
            default=_cpu_mem(limit_range.get("default"), ("500m", "512Mi")),
        ),
        disruption=DisruptionPolicy(pdb.get("enabled", False), pdb.get("maxUnavailable", 1)),
        components=components,
    )


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


def _build_component(comp: catalog.Component, spec: dict[str, Any]) -> ComponentSizing:
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
        enabled=spec.get("enabled", True),
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
        ),
        persistence=persistence,
    )


def describe_chain(ref: ProfileRef) -> tuple[str, ...]:
    """The `extends` chain of a profile (names), without checking the whole profile."""
    return tuple(c.ref_name for c in _load_chain(ref))


__all__ = ["BUILTIN_PROFILES", "ProfileRef", "describe_chain", "discover", "dotted", "find",
           "load"]
