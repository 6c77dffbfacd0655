"""Loading a profile: find its file, read it with positions, check it against the JSON
Schema, follow its `extends` chain; then merge (profile_merge), check (profile_check) and
build its sizing (profile_build).

Loading derives nothing: worker counts, pool sizes and the connection budget are the
plan's (generator.plan, generator.tunables), which reports their errors at the profile
line they follow from with the positions kept here (LoadedProfile.location).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import bundled_schemas
from generator.errors import (
    GeneratorError,
    Location,
    Problem,
    ProblemList,
    ProfileError,
    UsageError,
)
from generator.profile_build import build
from generator.profile_check import check_merged
from generator.profile_merge import Loaded, Origin, location, merge_chain
from generator.resources import profiles_dir
from generator.sizing import ProfileSizing
from generator.urls import credentials_problem, url_problems
from generator.yamlio import (
    MAX_PROFILE_NODES,
    Document,
    KeyPath,
    parse_document,
    read_text,
)

if TYPE_CHECKING:  # imported only where a message is worded: jsonschema costs
    import jsonschema  # ~70 ms of start-up, and a valid input never needs it

BUILTIN_PROFILES = ("edge", "small", "production")
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_EXTENDS_DEPTH = 16


@dataclass(frozen=True)
class ProfileRef:
    """A profile that can be rendered: its name, file, and whether it ships with difygen."""

    name: str
    path: Path
    builtin: bool


PROFILE_SCHEMA = "profile.schema.json"


def profile_schema() -> dict[str, Any]:
    return bundled_schemas.load(PROFILE_SCHEMA)


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


# ---------------------------------------------------------------------------- the pipeline


@dataclass(frozen=True)
class LoadedProfile:
    """A profile's sizing, and where each key of it is set (for problems found later)."""

    sizing: ProfileSizing
    chain: tuple[Loaded, ...]
    origin: Origin

    def location(self, path: KeyPath) -> Location:
        """The file of the `extends` chain that set `path` last (or its nearest ancestor),
        at its line and column."""
        return location(self.origin, list(self.chain), path)


def load(ref: ProfileRef) -> ProfileSizing:
    """Read, merge and check one profile and build its sizing; every problem in it is
    reported at once. Derived values are checked by the plan (generator.plan.plan_for)."""
    return load_with_positions(ref).sizing


def load_with_positions(ref: ProfileRef) -> LoadedProfile:
    chain = _load_chain(ref)
    merged, origin = merge_chain(chain)
    problems = ProblemList()
    check_merged(merged, origin, chain, problems)
    problems.raise_if_any(ProfileError, f"profile {ref.name} is not valid")
    sizing = build(ref.name, tuple(c.ref_name for c in chain), chain[0].doc.source, merged)
    return LoadedProfile(sizing, tuple(chain), origin)


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
    _, origin = merge_chain(chain)
    return location(origin, chain, path)


def describe_chain(ref: ProfileRef) -> tuple[str, ...]:
    """The `extends` chain of a profile (names), without checking the whole profile."""
    return tuple(c.ref_name for c in _load_chain(ref))


# ---------------------------------------------------------------------------- reading


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
        schema_problem(doc, error, problems, text)
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


def schema_problem(doc: Document, error: jsonschema.ValidationError,
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


def _load_chain(ref: ProfileRef) -> list[Loaded]:
    """The profile and its parents, child first; cycles and missing parents are errors."""
    chain: list[Loaded] = []
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
        chain.append(Loaded(current_name, doc))
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
