"""What every rule shares: the Finding, the Rule shape, and the context rules read.

A rule is a class with an `id`, a `layer` and a docstring (the docstring is its user
documentation; docs/rules.md is generated from it). Object rules look at one object at a
time; set rules see the whole manifest set, which is what lets the sizing rules work on any
`kustomize build` output instead of on difygen's own plan.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property, lru_cache
from operator import itemgetter
from typing import Any, ClassVar, Literal, NamedTuple

from generator.manifest_loader import Manifest, ObjectRef
from generator.security_exceptions import SecurityException, catalog_exceptions
from generator.yamlio import KeyPath, dotted

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"

# Informational only: the validator never honours an exception a manifest gives itself.
SECURITY_EXCEPTION = "difygen.io/security-exception"
SINGLE_NODE = "difygen.io/single-node"
NEEDS_TOKEN = "difygen.io/needs-service-account-token"


class Finding(NamedTuple):
    """One thing a rule found, placed at a file, line and column. (A named tuple, not a
    frozen dataclass: a big manifest set makes tens of thousands, which a forked rule
    process hands back; a tuple is made, and handed over, several times faster.)"""

    rule: str
    severity: Severity
    message: str
    file: str
    line: int
    col: int
    kind: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind, self.namespace, self.name)

    def sort_key(self) -> tuple[str, int, int, str, str, str]:
        """File, line, column, rule, path, message."""
        key: tuple[str, int, int, str, str, str] = FINDING_ORDER(self)
        return key


# Finding.sort_key's fields by index: a key made in C (24,000 findings are sorted).
FINDING_ORDER = itemgetter(3, 4, 5, 0, 9, 2)


def finding(rule: str, severity: Severity, manifest: Manifest, path: KeyPath,
            message: str, locate: KeyPath | None = None) -> Finding:
    """A finding about `path` in `manifest`, placed at `locate` (default: `path`)."""
    file, line, col = manifest.place(path if locate is None else locate)
    return Finding(rule, severity, message, file, line, col, manifest.kind,
                   manifest.namespace, manifest.name, _dotted(path) if path else "")


@lru_cache(maxsize=4096)
def _dotted(path: KeyPath) -> str:
    # Rules report the same few hundred paths over and over.
    return dotted(path)


class Context:
    """The manifest set plus the indexes several rules need, built once."""

    def __init__(self, manifests: Sequence[Manifest], kube_version: str,
                 exceptions: Sequence[SecurityException] = ()) -> None:
        self.manifests = manifests
        self.kube_version = kube_version
        # Declared exceptions: the catalog's, then those of an --exceptions file.
        self.exceptions: tuple[SecurityException, ...] = (*catalog_exceptions(),
                                                          *exceptions)
        # Derived views other modules compute once per run (e.g. the workload list).
        self.memo: dict[str, Any] = {}

    @cached_property
    def repeats(self) -> dict[int, Manifest]:
        """The verbatim repeats of an object, by id: the first object read from the same
        document text (a file's copies of one document point at the first copy's text,
        see manifest_fast), both still as read (so their data is equal). A repeat gets
        the findings of an object rule or a workload rule that its first copy got, moved
        by the lines between them (see `RepeatedFindings`)."""
        first: dict[tuple[int, int, int], Manifest] = {}
        out: dict[int, Manifest] = {}
        for m in self.manifests:
            span = m.span
            if span is None or not m.as_read or m.layers:
                continue
            model = first.setdefault((id(span[0]), span[1], span[2]), m)
            if model is not m and model.file == m.file:
                out[id(m)] = model
        return out

    @cached_property
    def namespace_copies(self) -> dict[int, Manifest]:
        """The objects read as a copy of another in another namespace (their data is that
        object's with another metadata.namespace, both still as read), by id: that
        object. A namespace-blind rule finds nothing on such a copy when it found
        nothing on the other (see `RepeatedFindings`)."""
        starts: dict[tuple[int, int], Manifest] = {}
        out: dict[int, Manifest] = {}
        for m in self.manifests:
            span = m.span
            if span is None or not m.as_read:
                continue
            starts.setdefault((id(span[0]), span[1]), m)
            if m.copy_of >= 0:
                model = starts.get((id(span[0]), m.copy_of))
                if model is not None and model.file == m.file:
                    out[id(m)] = model
        return out

    @cached_property
    def repeated(self) -> set[int]:
        """The objects that have verbatim repeats or copies in other namespaces, by id."""
        return {id(model) for copies in (self.repeats, self.namespace_copies)
                for model in copies.values()}

    @cached_property
    def by_kind(self) -> dict[str, list[Manifest]]:
        out: dict[str, list[Manifest]] = {}
        for m in self.manifests:
            out.setdefault(m.kind, []).append(m)
        return out

    def of_kind(self, *kinds: str) -> list[Manifest]:
        return [m for k in kinds for m in self.by_kind.get(k, [])]

    @cached_property
    def _named(self) -> dict[tuple[str, str, str], Manifest]:
        return {(m.kind, m.namespace, m.name): m for m in self.manifests}

    def get(self, kind: str, namespace: str, name: str) -> Manifest | None:
        return self._named.get((kind, namespace, name))

    @cached_property
    def hpa_max(self) -> dict[tuple[str, str, str], int]:
        """(kind, namespace, name) of a scale target -> its HPA's (or ScaledObject's) maximum."""
        out: dict[tuple[str, str, str], int] = {}
        for hpa in self.of_kind("HorizontalPodAutoscaler"):
            spec = hpa.obj.get("spec") or {}
            target = spec.get("scaleTargetRef") or {}
            top = spec.get("maxReplicas")
            if isinstance(top, int) and isinstance(target, dict):
                out[(str(target.get("kind")), hpa.namespace, str(target.get("name")))] = top
        # A KEDA ScaledObject creates its HPA at run time: its maxReplicaCount (KEDA's
        # default 100) is the maximum scale of its target.
        for scaled in self.of_kind("ScaledObject"):
            spec = scaled.obj.get("spec") or {}
            target = spec.get("scaleTargetRef") or {}
            top = spec.get("maxReplicaCount", 100)
            if isinstance(top, int) and isinstance(target, dict):
                kind = str(target.get("kind") or "Deployment")
                out[(kind, scaled.namespace, str(target.get("name")))] = top
        return out


class Rule:
    """Base of all rules; subclasses set id, layer and a docstring."""

    id: ClassVar[str] = ""
    layer: ClassVar[str] = ""
    # True for a rule whose findings on an object do not depend on the object's
    # namespace (its schema, its labels): a copy in another namespace of an object it
    # found nothing on is not judged again (see RepeatedFindings).
    namespace_blind: ClassVar[bool] = False

    def check(self, ctx: Context) -> Iterator[Finding]:
        raise NotImplementedError


class RepeatedFindings:
    """A rule's findings on the objects that have verbatim repeats (Context.repeats),
    for the repeats. An object rule's (or a workload rule's) findings on an object
    depend on its data, on the set through what the object names (equal for equal
    data), and on its text for positions: a repeat's are its first copy's, moved down
    by the lines between the two documents. Kept only when every finding is placed in
    the object itself. A rule whose findings do not depend on an object's namespace
    (`namespace_blind`) also finds nothing on a copy in another namespace
    (Context.namespace_copies) of an object it found nothing on."""

    def __init__(self, ctx: Context, namespace_blind: bool = False) -> None:
        self.repeats = ctx.repeats
        self.copies = ctx.namespace_copies if namespace_blind else {}
        self.repeated = ctx.repeated
        self.found: dict[tuple[int, Any], tuple[Manifest, list[Finding]]] = {}

    def of(self, m: Manifest, part: Any = None) -> list[Finding] | None:
        """The findings of repeat `m` (its `part`: a workload's template path), or None
        when they must be worked out."""
        model = self.repeats.get(id(m))
        if model is None:
            # A copy in another namespace: nothing, when nothing was found on its model.
            model = self.copies.get(id(m))
            known = None if model is None else self.found.get((id(model), part))
            return [] if known is not None and not known[1] else None
        known = self.found.get((id(model), part))
        if known is None:
            return None
        found = known[1]
        shift = m.line_offset - model.line_offset
        return [f._replace(line=f.line + shift) for f in found] if shift else found

    def keep(self, m: Manifest, found: list[Finding], part: Any = None) -> None:
        """Remembers the findings of `m` when it has repeats."""
        if id(m) in self.repeated and all(
                f.file == m.file and f.name == m.name and f.namespace == m.namespace and
                f.kind == m.kind for f in found):
            self.found.setdefault((id(m), part), (m, found))


class ObjectRule(Rule):
    """A rule that judges each object on its own: its findings on an object are placed
    in that object and depend on its data and on what it names in the set (so a
    verbatim repeat gets its first copy's, see RepeatedFindings)."""

    def check(self, ctx: Context) -> Iterator[Finding]:
        repeated = RepeatedFindings(ctx, self.namespace_blind)
        for manifest in ctx.manifests:
            found = repeated.of(manifest)
            if found is None:
                found = list(self.check_object(manifest, ctx))
                repeated.keep(manifest, found)
            yield from found

    def check_object(self, manifest: Manifest, ctx: Context) -> Iterator[Finding]:
        raise NotImplementedError


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
