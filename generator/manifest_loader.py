"""Kubernetes manifests read fast, with the position of every object and field.

`kustomize build` output for a fleet runs to thousands of objects, and CI runs validation on
every push, so reading must be quick. ruamel's round-trip loader is about ten times slower
than libyaml, so this module uses PyYAML's C parser to compose nodes (which carry start
marks) and builds plain data from them itself: one pass, no second load for positions. The
node tree is kept beside the data so that a finding can be placed at its field's exact
line and column, looked up only when a finding needs it.

Kubernetes reads YAML the way sigs.k8s.io/yaml does: timestamps stay strings, keys are
strings, a key may not appear twice. The builder below follows that, not PyYAML's defaults.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

from generator import manifest_fast
from generator.errors import InputError, Location, Problem
from generator.positions import Lines, locate_lines
from generator.yamlio import KeyPath, decode

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
# Real objects nest about 20 levels. libyaml's composer recurses in C and crashes the
# process on very deep nesting, so depth is checked before composing.
MAX_DEPTH = 200
# Aliases may repeat a subtree; beyond this many values past the file's own size an alias
# is expanding exponentially (a "billion laughs"), not sharing a snippet.
MAX_ALIAS_EXPANSION = 1_000_000
# JSON is read by the same parser (a JSON text is a YAML flow document), with positions.
YAML_SUFFIXES = (".yaml", ".yml", ".json")
STDIN = "<stdin>"

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
# Kubernetes keeps these as the text written: a timestamp is a string to the API server.
_AS_TEXT = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"}
_CONSTRUCTOR = SafeConstructor()
# Bytes, for the nesting bounds: a 35 MB text's indentation marks are turned into
# spaces in C (bytes.translate), where a regex scan of every character took a tenth of
# the whole run.
_MARKS_TO_SPACES = bytes.maketrans(b"?:-", b"   ")


class FileText:
    """A file's text left on disk (in the page cache, not in this process): a finding
    reads its document's lines back by byte offset. Only for a file whose text is ASCII,
    where a character's offset is its byte's (after a byte-order mark). A big file's text
    would otherwise be held for the whole run only to place a few findings."""

    __slots__ = ("path", "skip", "stamp")

    def __init__(self, path: Path, skip: int, stamp: tuple[int, int]) -> None:
        self.path, self.skip, self.stamp = path, skip, stamp

    @classmethod
    def of(cls, path: Path, text: str, raw_size: int, stamp: tuple[int, int]
           ) -> FileText | None:
        skip = raw_size - len(text)
        return cls(path, skip, stamp) if skip in (0, 3) and text.isascii() else None

    def read(self, start: int, end: int) -> str | None:
        """Characters start..end of the text as read, or None when the file is not the
        one read any more (its size or modification time changed)."""
        return _read_back(self, start, end)

    def _read(self, start: int, end: int) -> str | None:
        try:
            with open(self.path, "rb") as f:
                found = os.fstat(f.fileno())
                if (found.st_size, found.st_mtime_ns) != self.stamp:
                    return None
                f.seek(self.skip + start)
                return f.read(end - start).decode("ascii")
        except (OSError, UnicodeDecodeError):
            return None


# The documents with findings, read back once each: a rule reports at every copy of a
# document (copies point at the first one's text), several rules at one document.
@lru_cache(maxsize=1024)
def _read_back(source: FileText, start: int, end: int) -> str | None:
    return source._read(start, end)


@dataclass(frozen=True)
class ObjectRef:
    """How a finding names an object: kind, namespace (may be empty) and name."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"


@dataclass(slots=True)
class Manifest:
    """One Kubernetes object: its data, its file, where it starts, and its YAML nodes.
    Slots, not a dict per object: a big file holds tens of thousands of these."""

    obj: dict[str, Any]
    file: str
    line: int = 1
    col: int = 1
    # The object's YAML node, or None: for objects built in memory (positions then fall
    # back to the object's start), and for objects read by the fast path, whose node is
    # composed from `text` only when a finding needs a position.
    yaml_node: yaml.MappingNode | None = field(default=None, repr=False, compare=False)
    # Where the document's text is (for `text`): the whole file's text (or the file, see
    # FileText), start and end; and the number of lines before the document in its file.
    span: tuple[str | FileText, int, int] | None = field(default=None, repr=False,
                                                         compare=False)
    line_offset: int = field(default=0, repr=False, compare=False)
    # Patches applied on top (a Kustomize overlay built in memory), last applied first:
    # a field a patch set is placed in the patch file.
    layers: tuple[tuple[str, Manifest], ...] = field(default=(), repr=False, compare=False)
    # True while `obj` is exactly what the fast reader read from the text at `span`
    # (nothing has changed it since): two such objects with one span hold equal data.
    as_read: bool = field(default=False, repr=False, compare=False)
    # For an object read as a copy of another document in another namespace (the fast
    # reader's, see manifest_fast): where that document's text starts, else -1.
    copy_of: int = field(default=-1, repr=False, compare=False)
    # Identity fields are read by every rule, many times per object: computed once, from
    # `obj` as given. Nothing changes them afterwards except set_namespace.
    api_version: str = field(init=False, repr=False, compare=False)
    kind: str = field(init=False, repr=False, compare=False)
    name: str = field(init=False, repr=False, compare=False)
    namespace: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        obj = self.obj
        self.api_version = str(obj.get("apiVersion", ""))
        self.kind = str(obj.get("kind", ""))
        meta = obj.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        self.name = str(meta.get("name") or "")
        self.namespace = str(meta.get("namespace") or "")

    @property
    def text(self) -> str | None:
        """The document's own text (fast path), until its nodes are composed; None also
        when its file changed since it was read (positions then fall back to the
        object's start, which was exact when read)."""
        if self.span is None:
            return None
        whole, start, end = self.span
        return whole[start:end] if isinstance(whole, str) else whole.read(start, end)

    @property
    def node(self) -> yaml.MappingNode | None:
        if self.yaml_node is None:
            text = self.text
            if text is not None:
                composed = yaml.compose(text, Loader=_PositionLoader)
                self.span = None
                if isinstance(composed, yaml.MappingNode):
                    self.yaml_node = composed
        return self.yaml_node

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.obj.get("metadata")
        return meta if isinstance(meta, dict) else {}

    def set_namespace(self, namespace: str) -> None:
        """What Kustomize's `namespace:` does to a namespaced object."""
        self.obj.setdefault("metadata", {})["namespace"] = namespace
        self.namespace = str(namespace or "")
        self.as_read = False

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(self.kind, self.namespace, self.name)

    def place(self, path: KeyPath) -> tuple[str, int, int]:
        """File, line and column of `path`: the patch that set it, else `locate`."""
        for file, patch in self.layers:
            found = patch.find(path)
            if found[1] == len(path):
                return file, *found[0]
        return self.file, *self.locate(path)

    def find(self, path: KeyPath) -> tuple[tuple[int, int], int]:
        """The position of `path` or of its deepest present ancestor, and how many parts
        were found: from the lines when that is sure, else from the composed nodes."""
        text = self.text if self.yaml_node is None else None
        if text is not None:
            quick = _locate_in_text(text, path)
            if quick is not None:
                (line, col), depth = quick
                return (line + self.line_offset, col), depth
        node = self.node
        if node is None:
            return (self.line, self.col), 0
        return _walk(node, path, self.line_offset)

    def locate(self, path: KeyPath) -> tuple[int, int]:
        """Line and column of `path` (a key's own position), or of its deepest ancestor
        present in the file; the object's start when it has no nodes."""
        return self.find(path)[0]


_Answer = tuple[tuple[int, int], int] | None


def _locate_in_text(text: str, path: KeyPath) -> _Answer:
    """locate_lines on a document's own text (lines counted from its start). Positions
    depend on nothing but the text's structure, so documents repeated verbatim, or with
    other plain values only (the same overlay rendered into many namespaces), share one
    answer per path."""
    lines, answers = _positions_of(_structure(text))
    if path not in answers:
        answers[path] = locate_lines(lines, path, 0)
    return answers[path]


# A plain word ending a line, after a key's `: ` or a dash (`namespace: dify-007`,
# `- NET_BIND_SERVICE`). Every decision locate_lines makes about a line is the same
# whatever the word is: it reads the line's indentation, whether it starts with a dash,
# its key (the text before the first `: `, which the word, with no colon in it, is
# after), and of the rest only whether it is empty, and whether it starts with a
# comment, quote, flow, block or node mark, or holds a `: `, none of which such a word
# can change. So the word becomes `x`, and documents that differ only in such words have
# one structure (a literal replacement: no template to expand per match).
_PLAIN_WORD = re.compile(r"(?<=[:-] )[A-Za-z0-9_][A-Za-z0-9_./-]*$", re.MULTILINE)


@lru_cache(maxsize=4096)
def _structure(text: str) -> str:
    return _PLAIN_WORD.sub("x", text)


# One entry per distinct document structure with findings: its lines and the answers
# found so far (the text is held once, however many of its paths are asked for).
@lru_cache(maxsize=4096)
def _positions_of(text: str) -> tuple[Lines, dict[KeyPath, _Answer]]:
    return Lines(text), {}


def _walk(node: yaml.Node, path: KeyPath, offset: int = 0) -> tuple[tuple[int, int], int]:
    """The position of `path` under `node` (whose lines start after `offset` lines) or of
    its deepest present ancestor, and how many parts of the path were found."""
    best = (offset + node.start_mark.line + 1, node.start_mark.column + 1)
    depth = 0
    for part in path:
        nxt: yaml.Node | None = None
        mark = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    nxt, mark = value, key.start_mark
                    break
        elif (isinstance(node, yaml.SequenceNode) and isinstance(part, int)
              and 0 <= part < len(node.value)):
            nxt = node.value[part]
            mark = nxt.start_mark
        if nxt is None or mark is None:
            break
        best = (offset + mark.line + 1, mark.column + 1)
        node = nxt
        depth += 1
    return best, depth


def in_memory(obj: dict[str, Any], file: str, line: int | None = None) -> Manifest:
    """A Manifest for an object that was never YAML text (the render pipeline's objects)."""
    return Manifest(obj, file, line or 1, 1)


def load_text(text: str, source: str = STDIN) -> list[Manifest]:
    """Every object in a multi-document YAML text. Empty documents are skipped."""
    problems: list[Problem] = []
    manifests = _load(text, source, problems)
    if problems:
        raise InputError(f"{source}: not valid Kubernetes YAML", problems)
    return manifests


def load_bytes(raw: bytes, source: str = STDIN) -> list[Manifest]:
    return load_text(decode(raw, source, MAX_MANIFEST_BYTES), source)


def yaml_files(paths: Iterable[str | Path]) -> list[tuple[Path, str]]:
    """Files to read, each with the name findings use: a file as given, a directory's
    *.yaml and *.yml files recursively in sorted order."""
    found: list[tuple[Path, str]] = []
    problems: list[Problem] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*")
                            if p.suffix in YAML_SUFFIXES and p.is_file())
            found.extend((p, str(p)) for p in inside)
        elif path.is_file():
            found.append((path, str(given)))
        else:
            problems.append(Problem(Location(str(given)), "no such file or directory"))
    if problems:
        raise InputError("cannot read input", problems)
    return found


def load_paths(paths: Sequence[str | Path], stdin_text: str | None = None) -> list[Manifest]:
    """Objects from files and directories; `-` stands for `stdin_text`.

    Every bad file is reported, not just the first, in one InputError.
    """
    problems: list[Problem] = []
    manifests: list[Manifest] = []
    files: list[tuple[Path, str]] = []
    use_stdin = False
    for given in paths:
        if str(given) == "-":
            use_stdin = True
        else:
            files.extend(yaml_files([given]))
    if use_stdin:
        if stdin_text is None:
            raise InputError("'-' given but no standard input was provided")
        manifests.extend(_load(stdin_text, STDIN, problems))
    for path, source in files:
        try:
            text, disk = _read(path, source)
        except InputError as exc:
            problems.extend(exc.problems or [Problem(Location(source), exc.message)])
            continue
        manifests.extend(_load(text, source, problems, disk=disk))
    if problems:
        raise InputError("not valid Kubernetes YAML", problems)
    return manifests


def load_file(path: Path, source: str, problems: list[Problem], jobs: int = 1
              ) -> list[Manifest]:
    """The objects of one file; what is wrong with it goes to `problems`. `jobs`:
    processes that may read a big file (generator.manifest_fast.read)."""
    try:
        text, disk = _read(path, source)
    except InputError as exc:
        problems.extend(exc.problems or [Problem(Location(source), exc.message)])
        return []
    return _load(text, source, problems, jobs, disk)


def load_stdin(text: str, problems: list[Problem], jobs: int = 1) -> list[Manifest]:
    return _load(text, STDIN, problems, jobs)


def _read(path: Path, source: str) -> tuple[str, FileText | None]:
    """A file's text, and where to read it back later (None: keep the text)."""
    try:
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise InputError("too large", [Problem(
                Location(source), f"file is {size} bytes; the limit is "
                                  f"{MAX_MANIFEST_BYTES // (1024 * 1024)} MiB")])
        with open(path, "rb") as f:
            raw = f.read()
            found = os.fstat(f.fileno())
    except PermissionError:
        raise InputError("unreadable", [Problem(Location(source), "permission denied")]) \
            from None
    except OSError as exc:
        raise InputError("unreadable", [Problem(
            Location(source), f"cannot read: {exc.strerror or exc}")]) from None
    text = decode(raw, source, MAX_MANIFEST_BYTES)
    stamp = (found.st_size, found.st_mtime_ns)
    return text, FileText.of(path, text, len(raw), stamp) if stamp[0] == len(raw) else None


def _load(text: str, source: str, problems: list[Problem], jobs: int = 1,
          disk: FileText | None = None) -> list[Manifest]:
    if len(text) > MAX_MANIFEST_BYTES:
        problems.append(Problem(Location(source), f"input is {len(text)} characters; "
                                                  f"the limit is {MAX_MANIFEST_BYTES} bytes"))
        return []
    text = text.removeprefix("\ufeff")
    # The nesting check runs on the documents the fast path parses, before it parses
    # them, in whichever process reads them. A text it fails anywhere is checked again,
    # here, for the place.
    fast = _load_fast(text, source, jobs, disk,
                      lambda bounds: _too_deep(text, bounds, strict=True) is None)
    if fast is not None:
        return fast
    deep = _too_deep(text)
    if deep is not None:
        problems.append(Problem(Location(source, deep[0], deep[1]),
                                f"nesting is deeper than {MAX_DEPTH} levels"))
        return []
    return _load_slow(text, source, problems)


def _load_slow(text: str, source: str, problems: list[Problem]) -> list[Manifest]:
    """libyaml's composer and our builder: every YAML feature, exact error positions,
    the node tree kept for positions."""
    builder = _Builder(source, len(text) + MAX_ALIAS_EXPANSION)
    manifests: list[Manifest] = []
    loader = _Loader(text)
    # Composing allocates millions of small objects that hold no cycles; the cyclic
    # collector walking them as they are made doubles the load time.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            try:
                data = builder.build(node, 0)
            except _BuildError as exc:
                problems.append(exc.problem)
                return manifests
            manifests.extend(_as_manifests(node, data, source, problems))
    except yaml.MarkedYAMLError as exc:
        problems.append(_syntax_problem(exc, source, text))
    except yaml.YAMLError as exc:
        problems.append(Problem(Location(source, 1, 1), f"not valid YAML: {exc}"))
    finally:
        loader.dispose()
        if gc_was_on:
            gc.enable()
    return manifests


def _load_fast(text: str, source: str, jobs: int = 1, disk: FileText | None = None,
               precheck: manifest_fast.Precheck | None = None) -> list[Manifest] | None:
    """Every object of `text` read by generator.manifest_fast, or None to take the slow
    path (a document where the two readings could differ, a List, a syntax error: the
    slow path words the error). The data is frozen out of the collector's sight."""
    gc_was_on = gc.isenabled()
    # Reading allocates millions of small objects that hold no cycles; the cyclic
    # collector walking them as they are made doubles the load time.
    gc.disable()
    try:
        whole: str | FileText = text if disk is None else disk

        def build(d: manifest_fast.Document) -> Manifest:
            return Manifest(d.data, source, d.line, d.col, None, (whole, d.start, d.end),
                            d.line_offset, (), True, d.model)

        return manifest_fast.read_built(text, build, jobs, precheck)
    finally:
        if gc_was_on:
            gc.enable()
            # The objects just built hold no cycles and live as long as the run: moved
            # out of the collector's sight so no later collection walks them.
            gc.freeze()


def _as_manifests(node: yaml.Node, data: Any, source: str,
                  problems: list[Problem]) -> list[Manifest]:
    """The object a document holds, or the items of a `kind: List` (or any `*List` kind
    with `items`, as `kubectl get -o yaml` prints): kubectl applies each item, so each is
    validated, at its own position."""
    manifest = _as_manifest(node, data, source, problems)
    if manifest is None or not _is_list(data):
        return [] if manifest is None else [manifest]
    items_node = next((v for k, v in node.value
                       if isinstance(k, yaml.ScalarNode) and k.value == "items"), None)
    if not isinstance(items_node, yaml.SequenceNode):
        return []
    item_kind = "" if data["kind"] == "List" else data["kind"][:-len("List")]
    out: list[Manifest] = []
    for item_node, item in zip(items_node.value, data["items"], strict=True):
        if isinstance(item, dict) and item_kind:
            # Typed lists (DeploymentList) may leave the kind and version to the list.
            item.setdefault("kind", item_kind)
            item.setdefault("apiVersion", data["apiVersion"])
        out.extend(_as_manifests(item_node, item, source, problems))
    return out


def _is_list(data: dict[str, Any]) -> bool:
    return data["kind"].endswith("List") and isinstance(data.get("items"), list)


def _as_manifest(node: yaml.Node, data: Any, source: str,
                 problems: list[Problem]) -> Manifest | None:
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        problems.append(Problem(Location(source, line, col),
                                f"a document is a {_type_name(data)}; a Kubernetes object "
                                "is a mapping with apiVersion, kind and metadata"))
        return None
    missing = [k for k in ("apiVersion", "kind")
               if not isinstance(data.get(k), str) or not data.get(k)]
    if missing:
        problems.append(Problem(Location(source, line, col),
                                f"object has no {' or '.join(missing)}; every Kubernetes "
                                "object names its apiVersion and kind"))
        return None
    return Manifest(data, source, line, col, node)


def _type_name(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number",
            bool: "boolean"}.get(type(value), type(value).__name__)


def _syntax_problem(exc: yaml.MarkedYAMLError, source: str, text: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    message = exc.problem or "invalid YAML"
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        message += " (a tab: YAML forbids tabs for indentation; use spaces)"
    if exc.context and exc.problem:
        message += f" ({exc.context})"
    if mark is None:
        return Problem(Location(source, 1, 1), f"not valid YAML: {message}")
    return Problem(Location(source, mark.line + 1, mark.column + 1),
                   f"not valid YAML: {message}")


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column:column + 1] if line < len(lines) else ""


def _too_deep(text: str, bounds: list[tuple[int, int]] | None = None,
              strict: bool = False) -> tuple[int, int] | None:
    """Where nesting first passes MAX_DEPTH, or None. Cheap upper bounds first: the exact
    count walks every parser event, which costs as much as loading; it walks only the
    documents the bounds cannot clear. `bounds`: the documents to check, consecutive
    (manifest_fast.document_bounds of the whole text, or a run of them: the fast reader
    checks each run of new documents before it parses them); the whole text when None.
    `strict`: a walk stopped by a syntax error answers the error's place too, since
    nothing after it was walked (the fast reader's check, which must prove the nesting
    before rapidyaml, which may accept what libyaml refuses, parses; the slow path words
    the error)."""
    if bounds is None:
        bounds = manifest_fast.document_bounds(text)
    if not bounds:
        return None
    # The documents' span: it starts where a line starts (a document's first line).
    first, last = bounds[0][0], bounds[-1][1]
    span = text if (first, last) == (0, len(text)) else text[first:last]
    # Block nesting is at most the longest run of indentation and indicators that starts
    # a line: with the indicators turned into spaces, one search for a newline and more
    # spaces than the budget left (a literal: the fast substring search, no regex). Only
    # ASCII characters matter, and dropping the others can only join runs, never split
    # one: a bound from these bytes is never lower than from the text.
    marks = span.encode("ascii", "ignore").translate(_MARKS_TO_SPACES)

    def block_over(limit: int) -> bool:
        run = b" " * (limit + 1)
        return marks.startswith(run) or b"\n" + run in marks

    # A document's flow nesting is at most the number of `[` and `{` in it (those in
    # strings, comments and block scalars only make the bound larger), and flow nests
    # inside block, never the other way: its depth is at most the two bounds added. Not
    # a running balance of brackets, which a string full of `]` lowers below the true
    # depth: that let a deep document past this check and crash the parsers. The count
    # over all the documents bounds each one's; counted one by one only when that
    # bound is not enough.
    total = span.count("[") + span.count("{")
    if total <= MAX_DEPTH and not block_over(MAX_DEPTH - total):
        return None
    openers = [text.count("[", a, b) + text.count("{", a, b) for a, b in bounds]
    if max(openers) <= MAX_DEPTH and not block_over(MAX_DEPTH - max(openers)):
        return None
    # A document with many brackets (a JSON dashboard in a ConfigMap) is walked alone,
    # as long as no line is indented past half the limit; else all of them are.
    half = MAX_DEPTH // 2
    if block_over(MAX_DEPTH - half):
        return _deepest(span, text.count("\n", 0, first), strict)
    for (a, b), count in zip(bounds, openers, strict=True):
        if count > half:
            found = _deepest(text[a:b], text.count("\n", 0, a), strict)
            if found is not None:
                return found
    return None


def _deepest(text: str, line_offset: int, strict: bool = False) -> tuple[int, int] | None:
    """Line and column of the first collection deeper than MAX_DEPTH in `text` (whose
    first line is line `line_offset` + 1 of its file), by the parser's events; with
    `strict`, of the first syntax error too."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_SAFE_LOADER):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return (line_offset + mark.line + 1, mark.column + 1) if mark else \
                        (line_offset + 1, 1)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError as exc:
        if strict:
            mark = getattr(exc, "problem_mark", None)
            return (line_offset + mark.line + 1, mark.column + 1) if mark else \
                (line_offset + 1, 1)
        # The loader reports the syntax error with its position.
        return None
    return None


# libyaml when PyYAML was built with it; the pure-Python loader reads the same YAML.
if TYPE_CHECKING:
    _SAFE_LOADER = yaml.CSafeLoader
else:
    _SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SAFE_LOADER):
    """libyaml's composer with a memo on implicit tag resolution: PyYAML resolves every
    plain scalar by trying regexes in Python, and manifests repeat the same few hundred
    scalars thousands of times."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._memo: dict[str, str] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = self._memo.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
                self._memo[value] = tag
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]

    # No path resolvers are registered, so there is nothing to track per node.
    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


# PyYAML built without libyaml has no CSafeLoader; the pure-Python one gives the same data.
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _PositionLoader(_BaseLoader):  # type: ignore[misc]
    """libyaml's composer for positions only: the fast path already has the data, so no
    scalar needs its type resolved (that is most of composing's cost in Python)."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        return _STR

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


class _BuildError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _Builder:
    """Plain data from composed nodes, with Kubernetes' reading of scalars and keys."""

    def __init__(self, source: str, budget: int) -> None:
        self.source = source
        self.budget = budget

    def _fail(self, node: yaml.Node, message: str) -> _BuildError:
        mark = node.start_mark
        return _BuildError(Problem(Location(self.source, mark.line + 1, mark.column + 1),
                                   message))

    def build(self, node: yaml.Node, depth: int) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise self._fail(node, "aliases expand to more than "
                                   f"{MAX_ALIAS_EXPANSION} extra values (an alias bomb?)")
        if depth > MAX_DEPTH:
            raise self._fail(node, f"nesting is deeper than {MAX_DEPTH} levels "
                                   "(a recursive alias?)")
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, depth + 1) for item in node.value]
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        raise self._fail(node, "unsupported YAML node")

    def _mapping(self, node: yaml.MappingNode, depth: int) -> dict[str, Any]:
        if any(key.tag == _MERGE for key, _ in node.value):
            try:
                _CONSTRUCTOR.flatten_mapping(node)
            except ConstructorError as exc:
                raise self._fail(node, f"bad merge key: {exc.problem}") from None
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self._fail(key_node, "a key is a mapping or list; Kubernetes keys "
                                           "are strings")
            key = key_node.value
            if key in out:
                raise self._fail(key_node, f"duplicate key {key!r}; each key may appear "
                                           "once in a mapping")
            out[key] = self.build(value_node, depth + 1)
        return out

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        tag = node.tag
        if tag == _STR or tag in _AS_TEXT:
            return node.value
        construct = _CONSTRUCTOR.yaml_constructors.get(tag)
        if construct is None:
            # An explicit unknown tag (`!foo bar`): Kubernetes ignores it and keeps text.
            return node.value
        try:
            return construct(_CONSTRUCTOR, node)
        except (ConstructorError, ValueError) as exc:
            raise self._fail(node, f"bad {tag.rsplit(':', 1)[-1]} value "
                                   f"{node.value!r}: {exc}") from None
