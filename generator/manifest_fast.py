"""The fast way to read manifests: rapidyaml (C++) parses each document and writes it as
JSON, orjson turns that into data.

It is taken only where its reading cannot differ from the slow path's (libyaml's composer
with Kubernetes' YAML 1.1 reading, in generator.manifest_loader): `read` answers None
for a text with anything where the two could differ (anchors, aliases, tags, merge keys,
directives, complex keys, a plain scalar YAML 1.1 types differently, a duplicate key, a
List, a syntax error), and the slow path then reads, and words any problem, itself.

What makes it fast on a 35 MB file:
- Suspicious constructs are found from the text's distinct lines and whitespace-separated
  tokens (a GitOps file repeats the same lines and the same few thousand tokens), each
  judged once, not by running regexes over every document: only a document holding a
  suspicious token gets the exact checks, and only for the constructs its tokens call
  for (the structure check only on the lines that hold marks).
- One rapidyaml tree per process, cleared and reused for each document.
- orjson reads JSON about three times faster than the json module, and writes it back
  (for the duplicate-key count) about ten times faster.
- A document repeated verbatim is parsed once; every copy gets data of its own.
- A big text is read by several forked processes, each a share of the documents
  (`read(text, jobs)`), the children handing their objects back as JSON.
"""

from __future__ import annotations

import os
import re
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, NamedTuple

import orjson

from generator.forking import Forked, can_fork, cpus

try:
    import ryml as _ryml
except ImportError:  # the slow path reads everything, only slower
    _ryml = None

# A document starts after a line that is `---` alone (trailing blanks allowed). The
# search starts at a literal newline, so the regex engine skips ahead by memchr instead of
# trying every position as a MULTILINE `^` would (ten times faster on big files).
_DOC_START = re.compile(r"\n---[ \t]*(?=\n|\Z)")
_TEXT_START = re.compile(r"---[ \t]*(?:\n|\Z)")
_FIRST_LINE = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)

# The exact per-document checks, run only on documents holding a suspicious token.
_RISKY_YAML = re.compile(
    r"(?:^[ \t]*|[:-][ \t]+|[\[{,][ \t]*)[&*!]"  # anchors, aliases, tags
    r"|^%|^[ \t]*\?(?:[ \t]|$)|<<[ \t]*:",  # directives, complex keys, merge keys
    re.MULTILINE)
# The scalars YAML 1.1 (PyYAML's resolver, which the slow path uses) reads as a boolean,
# null, int or float where rapidyaml writes a string: octal, hex and binary, underscores,
# sexagesimal, a leading or trailing dot. Quoted, they read the same in both.
_YAML11_TYPED = re.compile(
    r"yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|True|TRUE|False|FALSE|Null|NULL|~|="
    r"|[-+]?0[0-7_]+|[-+]?0[xXbBoO][0-9a-fA-F_]*|[-+]?[0-9][0-9_]*_[0-9_.]*"
    r"|[-+]?\.[0-9a-zA-Z]+|[-+]?[0-9][0-9_]*\.|[-+]?[0-9]+(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
# rapidyaml writes a plain `1e3` as a JSON number; YAML 1.1 wants a dot in a float: text.
_EXPONENT_PIECE = re.compile(r"[-+]?\.?[0-9][0-9_.]*[eE][-+]?[0-9_]*")
_EXPONENT = re.compile(r"[0-9][eE][-+]?[0-9]")
_JSON_EXPONENT = re.compile(r"[\s:,\[][-+]?[0-9.]+[eE]")

# The token prefilter. Every construct above sits in one whitespace-separated token; a
# token is split further at flow indicators, comment marks and colons into pieces (more
# splitting than YAML does only adds suspects, never hides one). A token is suspicious
# when it starts with an anchor, alias, tag, directive or complex-key mark, holds a merge
# key, or has a piece that is one of those marks or a scalar YAML 1.1 types.
_FLOW = re.compile(r"[\[\]{},#]")


@dataclass(frozen=True)
class _Verdict:
    """What a suspicious token (or line, or document) calls for: the structure check on
    the lines that hold marks, the scalars to look for written plain, the exponent
    check."""

    structure: tuple[str, ...] = ()
    typed: frozenset[str] = frozenset()
    exponent: bool = False

    def __or__(self, other: _Verdict) -> _Verdict:
        return _Verdict(self.structure + other.structure, self.typed | other.typed,
                        self.exponent or other.exponent)


_INNOCENT = _Verdict()


def _judge(token: str) -> _Verdict:
    """A token's verdict; `structure` holds the token itself when it has a mark (the
    line it is on is looked up by the line's verdict)."""
    structure = token[0] in "&*!%?" or "<<" in token
    typed: set[str] = set()
    exponent = False
    for piece in _FLOW.split(token):
        # Colons split too (`{"a":yes}`), and the whole piece is kept (`1:30`).
        for part in (piece, *piece.split(":")) if ":" in piece else (piece,):
            if not part:
                continue
            if part[0] in "&*!":
                structure = True
            if _YAML11_TYPED.fullmatch(part):
                typed.add(part)
            if _EXPONENT_PIECE.fullmatch(part):
                exponent = True
    return _Verdict((token,) if structure else (), frozenset(typed), exponent)


# Lines judged are remembered up to this many (a file of all-different lines gains
# nothing from remembering them and would hold a second copy of itself).
_LINES_REMEMBERED = 200_000


class _Suspects:
    """The checks a document needs, from its tokens. GitOps files repeat the same lines
    (labels, images, resources in every copy of an overlay) and the same few thousand
    tokens, prose included: each distinct line is split into tokens once, each distinct
    token judged once, and a document costs one split into lines and two set operations."""

    def __init__(self) -> None:
        self.innocent_lines: set[str] = set()
        self.suspect_lines: dict[str, _Verdict] = {}
        self.verdicts: dict[str, _Verdict] = {}

    def of(self, chunk: str) -> _Verdict:
        lines = chunk.split("\n")
        if self.innocent_lines.issuperset(lines):  # the common case: one C call
            return _INNOCENT
        found = _INNOCENT
        for line in set(lines) - self.innocent_lines:
            verdict = self.suspect_lines.get(line)
            if verdict is None:
                verdict = self._judge_line(line)
            found |= verdict
        return found

    def _judge_line(self, line: str) -> _Verdict:
        found = _INNOCENT
        for token in line.split():
            verdict = self.verdicts.get(token)
            if verdict is None:
                verdict = self.verdicts[token] = _judge(token)
            found |= verdict
        if found.structure:  # the structure check reads whole lines: this one
            found = _Verdict((line,), found.typed, found.exponent)
        if len(self.innocent_lines) + len(self.suspect_lines) < _LINES_REMEMBERED:
            if found == _INNOCENT:
                self.innocent_lines.add(line)
            else:
                self.suspect_lines[line] = found
        return found


class Document(NamedTuple):
    """One object read by the fast path: its data, where it starts (line and column,
    1-based, in the whole text), where its document's text is in the whole text (start
    and end: the text is sliced only when a finding needs a position, so a big file is
    kept once, not twice) and the number of lines before that document."""

    data: dict[str, Any]
    line: int
    col: int
    start: int
    end: int
    line_offset: int


def document_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of every document's text, separators excluded."""
    first = _TEXT_START.match(text)
    starts = [first.end() if first else 0]
    ends: list[int] = []
    for match in _DOC_START.finditer(text):
        ends.append(match.start() + 1)
        starts.append(match.end() + 1)
    ends.append(len(text))
    return [(start, max(start, end)) for start, end in zip(starts, ends, strict=True)]


# Below this much text a second process costs more (fork, copying its results back)
# than it saves.
PARALLEL_MIN_CHARS = 2 * 1024 * 1024


def default_jobs() -> int:
    """Processes for a big file: one per CPU this process may use, at most four (past
    that, forking and handing results back cost more than the share saves)."""
    return max(1, min(cpus(), 4))


def read(text: str, jobs: int = 1) -> list[Document] | None:
    """Every object of `text`, or None when the slow path must read it. With `jobs` > 1
    and a big text, `jobs` - 1 forked processes read shares of the documents beside this
    one (where the platform can fork and hand data back in memory: Linux); the answer is
    the same as with one."""
    if _ryml is None:
        return None
    bounds = document_bounds(text)
    if jobs <= 1 or len(text) < PARALLEL_MIN_CHARS or not can_fork() or len(bounds) < jobs:
        return _Reader(text).read(bounds, 0, len(bounds))
    cuts = _cuts(bounds, jobs)
    with _QuietStderr():  # before forking: the children inherit it
        children = [_Child.start(text, bounds, lo, hi) for lo, hi in cuts[1:]]
        try:
            own = _Reader(text).read(bounds, *cuts[0])
        finally:
            results = [child.finish() for child in children]
    if own is None or any(result is None for result in results):
        return None
    return own + [doc for result in results if result is not None for doc in result]


def _cuts(bounds: list[tuple[int, int]], jobs: int) -> list[tuple[int, int]]:
    """`jobs` consecutive ranges of document indexes holding about equal text each. (This
    process also loads the children's objects afterwards, but a child is slower per
    document, writing them out: measured, equal shares finish first.)"""
    start = bounds[0][0]
    total = bounds[-1][1] - start
    cuts: list[tuple[int, int]] = []
    lo = 0
    for share in range(1, jobs):
        target = start + total * share // jobs
        hi = lo
        while hi < len(bounds) and bounds[hi][0] < target:
            hi += 1
        cuts.append((lo, hi))
        lo = hi
    cuts.append((lo, len(bounds)))
    return cuts


class _Reader:
    """Reads documents of one text; remembers, within one process, the tokens judged and
    the documents repeated verbatim."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.suspects = _Suspects()
        assert _ryml is not None
        self.tree = _ryml.Tree()
        # Documents repeated verbatim (the same object copied into many builds) are
        # parsed and checked once: the first copy's data, by its text's hash (keeping
        # every text as a key would hold a second copy of the file).
        self.seen: dict[int, list[_Seen]] = {}

    def read(self, bounds: list[tuple[int, int]], lo: int, hi: int) -> list[Document] | None:
        """The objects of documents lo..hi-1, or None when the slow path must read."""
        text = self.text
        documents: list[Document] = []
        prev = bounds[lo][0] if lo < hi else 0
        line = text.count("\n", 0, prev)
        with _QuietStderr():
            for start, end in bounds[lo:hi]:
                chunk = text[start:end]
                line += text.count("\n", prev, start)
                prev = start
                first = _FIRST_LINE.search(chunk)
                if first is None:
                    continue
                key = hash(chunk)
                known = next((seen for seen in self.seen.get(key, ())
                              if text[seen.start:seen.end] == chunk), None)
                if known is not None:
                    # Same text, same data and checks; the copy is data of its own
                    # (objects are never shared between manifests), read by orjson from
                    # the first copy's JSON: a third of the time a copy in Python takes.
                    # The copy points at the first one's text (the same characters): a
                    # finding reads and places it once for every copy.
                    start, end = known.start, known.end
                    data = orjson.loads(known.json())
                else:
                    parsed = _parse(chunk, self.suspects.of(chunk), self.tree)
                    if parsed is None:
                        return None
                    data = parsed
                    self.seen.setdefault(key, []).append(_Seen(start, end, data))
                kind = data.get("kind")
                if not isinstance(kind, str) or not kind or kind.endswith("List") or \
                        not isinstance(data.get("apiVersion"), str) or \
                        not data["apiVersion"]:
                    return None  # the slow path expands Lists and words the problem
                at = line + chunk.count("\n", 0, first.start())
                col = first.end() - chunk.rfind("\n", 0, first.start()) - 1
                documents.append(Document(data, at + 1, col, start, end, line))
        return documents


class _Seen:
    """A document read once: where its text is, its data, and (made at its first repeat,
    kept for the next ones) that data as JSON. Only documents that repeat pay for it."""

    __slots__ = ("_json", "data", "end", "start")

    def __init__(self, start: int, end: int, data: dict[str, Any]) -> None:
        self.start, self.end, self.data = start, end, data
        self._json: bytes | None = None

    def json(self) -> bytes:
        if self._json is None:
            self._json = orjson.dumps(self.data)
        return self._json


# JSON length, the document text's start and end, line, column, lines before its text
_HEADER = struct.Struct("<IIIIII")


class _Child:
    """A forked process reading a share of the documents. It writes each object as
    orjson's JSON with its position; the parent reads that back (orjson reads JSON
    faster than pickle reads its own format)."""

    def __init__(self, forked: Forked) -> None:
        self.forked = forked

    @classmethod
    def start(cls, text: str, bounds: list[tuple[int, int]], lo: int, hi: int) -> _Child:
        def work(out: BinaryIO) -> bool:
            documents = _Reader(text).read(bounds, lo, hi)
            if documents is None:
                return False
            for d in documents:
                blob = orjson.dumps(d.data)
                out.write(_HEADER.pack(len(blob), d.start, d.end, d.line, d.col,
                                       d.line_offset))
                out.write(blob)
            return True

        return cls(Forked.start(work))

    def finish(self) -> list[Document] | None:
        """The child's objects, in order; None when it found a document for the slow
        path (or did not finish: the slow path then reads, and words any problem)."""
        blob = self.forked.finish()
        return None if blob is None else list(self._documents(memoryview(blob)))

    @staticmethod
    def _documents(blob: memoryview) -> Iterator[Document]:
        at = 0
        size = _HEADER.size
        while at < len(blob):
            length, start, end, line, col, offset = _HEADER.unpack_from(blob, at)
            at += size
            data = orjson.loads(blob[at:at + length])
            at += length
            yield Document(data, line, col, start, end, offset)


def _parse(chunk: str, checks: _Verdict, tree: Any) -> dict[str, Any] | None:
    """The data of one document (a mapping), or None for the slow path. `tree` is a
    rapidyaml tree reused from document to document (cleared first: parsing into a tree
    appends): its node and text buffers are allocated once, not per document."""
    # The structure check is line by line (nothing it looks for spans lines), so only
    # the lines with marks are searched.
    if any(_RISKY_YAML.search(line) for line in checks.structure):
        return None
    assert _ryml is not None
    try:
        tree.clear()
        tree.clear_arena()
        _ryml.parse_in_arena(chunk.encode(), tree)
        dumped = _ryml.emit_json_malloc(tree, tree.root_id())
    except _ryml.ExceptionBasic:
        return None
    if dumped is None:
        return None
    try:
        data = orjson.loads(dumped)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or _risky_scalars(dumped, chunk, checks) or \
            _lost_keys(dumped, data):
        return None
    return data


def _risky_scalars(dumped: str, chunk: str, checks: _Verdict) -> bool:
    """A scalar rapidyaml and YAML 1.1 read differently: a string (in rapidyaml's JSON)
    YAML 1.1 would type, written plain (unquoted) in the document, or a number with a
    bare exponent."""
    if checks.exponent and _EXPONENT.search(dumped) and _JSON_EXPONENT.search(dumped):
        return True
    for scalar in checks.typed:
        if f'"{scalar}"' in dumped and re.search(
                r"(?:^[ \t]*|[:-][ \t]+|[\[{,][ \t]*)" + re.escape(scalar) +
                r"[ \t]*(?:$|#|[,\]}])", chunk, re.MULTILINE):
            return True
    return False


def _lost_keys(dumped: str, data: Any) -> bool:
    """A JSON reader keeps the last of two equal keys; the slow path refuses them. Every
    key in rapidyaml's JSON and in orjson's indented JSON is followed by `": `; strings
    hold the sequence the same number of times in both (a quote inside is escaped the
    same way). Without a lost key both texts hold the same keys and strings, so the
    counts are equal; a lost key (and its value) is missing only from orjson's."""
    again = orjson.dumps(data, option=orjson.OPT_INDENT_2)
    return dumped.count('": ') != again.count(b'": ')


class _QuietStderr:
    """rapidyaml prints its parse errors on file descriptor 2; the slow path reports them
    properly, so they are kept off the user's terminal."""

    def __enter__(self) -> None:
        try:
            sys.stderr.flush()
            self.saved: int | None = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        except OSError:
            self.saved = None

    def __exit__(self, *exc: object) -> None:
        if self.saved is not None:
            os.dup2(self.saved, 2)
            os.close(self.saved)
