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
- Documents are read a piece at a time (about 128 KiB of text): a piece's new documents
  are parsed by one rapidyaml call as one stream, written as one JSON array into a
  buffer reused from piece to piece, and read by one orjson call.
- One rapidyaml tree per process, cleared and reused for each piece.
- orjson reads JSON about three times faster than the json module, and writes it back
  (for the duplicate-key count) about ten times faster.
- A document repeated verbatim is parsed once; every copy gets data of its own. So is a
  document that differs from one already read only in its `metadata.namespace` (the same
  overlay deployed to many namespaces: kustomize's `namespace:` writes exactly that line).
- A big text is read by several forked processes (`read(text, jobs)`), the pieces dealt
  to whichever process asks next; the children write each piece's objects as JSON as
  soon as it is read, and the parent loads them between pieces of its own.
"""

from __future__ import annotations

import os
import re
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from itertools import filterfalse
from typing import Any, BinaryIO, NamedTuple, TypeVar

import orjson

from generator.forking import Dealer, Forked, can_fork, cpus

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
# `@` and a backquote are reserved: YAML (libyaml, and Kubernetes' go-yaml) refuses a
# plain scalar that starts with one, rapidyaml reads it as text; the slow path words it.
_RISKY_YAML = re.compile(
    r"(?:^[ \t]*|[:-][ \t]+|[\[{,][ \t]*)[&*!@`]"  # anchors, aliases, tags, reserved
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
# The same, on JSON's bytes (a number in JSON follows one of those marks or ASCII
# whitespace; `\s` of bytes is ASCII whitespace).
_JSON_EXPONENT_BYTES = re.compile(_JSON_EXPONENT.pattern.encode())

# A copy of a document in another namespace. The line is looked for as kustomize and
# difygen write it; the value is a namespace (a DNS label) that starts with a letter and
# that YAML reads as text in both readings (no YAML 1.1 or JSON boolean or null word).
_NAMESPACE_LINE = "\n  namespace: "
_NAMESPACE_VALUE = re.compile(r"[a-z](?:[-a-z0-9]*[a-z0-9])?")
_NOT_TEXT = frozenset({"true", "false", "null", "y", "n"})
# A line that cannot open anything that spans lines (a quoted or block scalar, a flow
# collection, a plain scalar continued): a plain key with nothing, a plain value or a
# single-quoted value closed on the line; or a comment or blank line. Lines the reader
# cannot prove this way only cost the shortcut, never a wrong answer.
_KEY = r"[A-Za-z0-9_][A-Za-z0-9_./-]*"
_CLOSED_LINE = re.compile(
    rf" *{_KEY}:(?: +(?:[A-Za-z0-9_./(][^\n]*|'(?:[^'\n]|'')*' *))? *| *(?:#[^\n]*)?")

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
    structure = token[0] in "&*!%?@`" or "<<" in token
    typed: set[str] = set()
    exponent = False
    for piece in _FLOW.split(token):
        # Colons split too (`{"a":yes}`), and the whole piece is kept (`1:30`).
        for part in (piece, *piece.split(":")) if ":" in piece else (piece,):
            if not part:
                continue
            if part[0] in "&*!@`":
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

    def of(self, chunks: list[str]) -> _Verdict:
        """What the documents `chunks` call for, together."""
        # The lines not known innocent, in one pass in C (the common case: none).
        unknown = set(filterfalse(self.innocent_lines.__contains__,
                                  "\n".join(chunks).split("\n")))
        found = _INNOCENT
        for line in unknown:
            found |= self._verdict(line)
        return found

    def _verdict(self, line: str) -> _Verdict:
        verdict = self.suspect_lines.get(line)
        return self._judge_line(line) if verdict is None else verdict

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


def _namespace_value(chunk: str) -> tuple[int, int] | None:
    """Where the value of a document's first `  namespace: ` line is (start, end in the
    document's text), when it is a namespace both readings read as that text."""
    at = chunk.find(_NAMESPACE_LINE)
    if at < 0:
        return None
    start = at + len(_NAMESPACE_LINE)
    end = chunk.find("\n", start)
    end = len(chunk) if end < 0 else end
    if not _NAMESPACE_VALUE.fullmatch(chunk, start, end):
        return None
    value = chunk[start:end]
    if value in _NOT_TEXT or _YAML11_TYPED.fullmatch(value):
        return None
    return start, end


def _under_metadata(prefix: str) -> bool:
    """Whether the line that follows `prefix` (a document's text up to its first
    `  namespace: ` line) is, by the text alone, a key of the document's top-level
    `metadata` block mapping: the last line at column 0 (blank lines and comments
    aside) is `metadata:`, the lines after it are indented by two or more, and no line
    opens anything that could hold the next one (every line is a closed one). Checked
    once, on the document that becomes the model of its copies: they share this text."""
    lines = prefix.split("\n")
    if not all(_CLOSED_LINE.fullmatch(line) for line in lines):
        return False
    keys = [i for i, line in enumerate(lines) if line[:1] not in ("", " ", "#")]
    if not keys or lines[keys[-1]].rstrip(" ") != "metadata:":
        return False
    return all(line.startswith("  ") or not line.strip(" ") or line.lstrip(" ")[:1] == "#"
               for line in lines[keys[-1] + 1:])


class Document(NamedTuple):
    """One object read by the fast path: its data, where it starts (line and column,
    1-based, in the whole text), where its document's text is in the whole text (start
    and end: the text is sliced only when a finding needs a position, so a big file is
    kept once, not twice) and the number of lines before that document; for a copy of
    a document in another namespace, where that document's text starts (its `model`),
    else -1."""

    data: dict[str, Any]
    line: int
    col: int
    start: int
    end: int
    line_offset: int
    model: int = -1


def document_bounds(text: str, start: int | None = None, end: int | None = None
                    ) -> list[tuple[int, int]]:
    """(start, end) of every document's text, separators excluded; with `start` and
    `end`, of the documents from the one that starts at `start` to the one that ends at
    `end` (a piece of the text, see `_pieces`): the same bounds the whole text's list
    holds for them."""
    if start is None:
        first = _TEXT_START.match(text)
        start = first.end() if first else 0
        scan_from = 0
    else:
        # A document starts after a newline (or at the text's start): a separator right
        # at `start` begins at that newline, as it does in the whole text.
        scan_from = max(start - 1, 0)
    end = len(text) if end is None else end
    starts = [start]
    ends: list[int] = []
    # (A separator's search never reads past `end`: it ends in a newline or at the end
    # of the text, and a piece's text ends in the newline before its next separator.)
    for match in _DOC_START.finditer(text, scan_from, end):
        ends.append(match.start() + 1)
        starts.append(match.end() + 1)
    ends.append(end)
    return [(a, max(a, b)) for a, b in zip(starts, ends, strict=True)]

T = TypeVar("T")

# Below this much text a second process costs more (fork, copying its results back)
# than it saves.
PARALLEL_MIN_CHARS = 2 * 1024 * 1024
# Documents are read a piece at a time, each piece about this much text: small enough
# that the processes reading side by side finish together (each takes the next piece
# when done with one), big enough that handing out a piece and parsing its documents in
# one rapidyaml call cost little next to reading them.
PIECE_CHARS = 128 * 1024
# A text gets bigger pieces past this many times PIECE_CHARS. Every piece but the last
# holds at least a piece's size, so there are at most this many pieces plus one: within
# what the dealer can deal (forking.Dealer.LIMIT).
_MAX_PIECES = 1000


def default_jobs() -> int:
    """Processes for a big file: one per CPU this process may use, at most four (past
    that, forking and handing results back cost more than the share saves)."""
    return max(1, min(cpus(), 4))


class _Piece(NamedTuple):
    """Consecutive whole documents: the text from the first one's start to the last
    one's end."""

    start: int
    end: int


def _pieces(text: str) -> list[_Piece]:
    """Consecutive runs of whole documents, each about PIECE_CHARS of text (a document
    bigger than that is a piece of its own), covering every document once, in order.
    Cut at the first separator past each piece's size: one search per piece, not a
    step per document (each process finds its piece's documents, side by side)."""
    first = _TEXT_START.match(text)
    start = first.end() if first else 0
    size = max(PIECE_CHARS, (len(text) - start) // _MAX_PIECES + 1)
    pieces: list[_Piece] = []
    while True:
        cut = _DOC_START.search(text, start + size) if start + size < len(text) else None
        end = len(text) if cut is None else cut.start() + 1
        pieces.append(_Piece(start, end))
        if cut is None:
            return pieces
        start = cut.end() + 1


def _lines_before(text: str, pieces: list[_Piece]) -> list[int]:
    """The number of lines before each piece. (Counting a 35 MB text's newlines takes
    30 ms: done by the parent while its children read, who count from their piece's
    start.)"""
    lines: list[int] = []
    line = counted = 0
    for piece in pieces:
        line += text.count("\n", counted, piece.start)
        counted = piece.start
        lines.append(line)
    return lines


# A check of a run of the text's documents, given their bounds (see `read`).
Precheck = Callable[[list[tuple[int, int]]], bool]


def read(text: str, jobs: int = 1, precheck: Precheck | None = None
         ) -> list[Document] | None:
    """Every object of `text`, or None when the slow path must read it. With `jobs` > 1
    and a big text, `jobs` - 1 forked processes read pieces of it beside this one (where
    the platform can fork and hand data back in memory: Linux); the answer is the same as
    with one. `precheck`, a check that must pass before documents are parsed, is given
    the bounds of each run of consecutive documents about to be parsed (a piece's new
    documents: not the copies of documents parsed before), in whichever process reads
    them (a check of the whole text first would hold the others up); when it answers
    False for any run, the answer is None."""
    return read_built(text, _same, jobs, precheck)


def _same(document: Document) -> Document:
    return document


def read_built(text: str, build: Callable[[Document], T], jobs: int = 1,
               precheck: Precheck | None = None) -> list[T] | None:
    """As `read`, each object turned into what `build` makes of it as soon as its piece
    is read (or, for a piece a child read, loaded): this process does that while the
    children still read, not all at the end."""
    if _ryml is None:
        return None
    pieces = _pieces(text)
    if jobs <= 1 or len(text) < PARALLEL_MIN_CHARS or not can_fork() or len(pieces) < 2:
        reader = _Reader(text, precheck)
        built: list[T] = []
        with _QuietStderr():
            for piece, line in zip(pieces, _lines_before(text, pieces), strict=True):
                found = reader.read(piece, line)
                if found is None:
                    return None
                built += map(build, found)
        return built
    return _read_together(text, pieces, jobs, precheck, build)


def _read_together(text: str, pieces: list[_Piece], jobs: int, precheck: Precheck | None,
                   build: Callable[[Document], T]) -> list[T] | None:
    """The pieces dealt out to this process and `jobs` - 1 forked ones as each asks for
    the next. A child writes each piece's objects as soon as it has read them; this
    process loads them between pieces of its own, so that little is left to load when
    the last piece is read."""
    dealer = Dealer(len(pieces))
    by_piece: dict[int, list[T]] = {}
    ok = True
    lines: list[int] | None = None
    with _QuietStderr():  # before forking: the children inherit it
        children: list[_Child] = []
        try:
            children = [_Child.start(text, pieces, dealer, precheck)
                        for _ in range(jobs - 1)]
            lines = _lines_before(text, pieces)  # meanwhile the children read
            reader = _Reader(text, precheck)
            while (index := dealer.take()) is not None:
                found = reader.read(pieces[index], lines[index])
                if found is None:
                    ok = False
                    break
                by_piece[index] = list(map(build, found))
                for child in children:
                    child.load(by_piece, build, lines)
        finally:
            dealer.drain()  # nothing more to take: the children stop after their piece
            if lines is None:
                lines = _lines_before(text, pieces)
            for child in children:
                ok = child.finish(by_piece, build, lines) and ok
            dealer.close()
    if not ok or len(by_piece) != len(pieces):
        return None
    return [item for index in range(len(pieces)) for item in by_piece[index]]


class _Reader:
    """Reads documents of one text; remembers, within one process, the tokens judged and
    the documents repeated verbatim or in another namespace."""

    def __init__(self, text: str, precheck: Precheck | None = None) -> None:
        self.text = text
        self.precheck = precheck
        self.suspects = _Suspects()
        assert _ryml is not None
        self.tree = _ryml.Tree()
        self.out = bytearray(1 << 22)
        # Documents repeated verbatim (the same object copied into many builds) are
        # parsed and checked once: the first copy's data, by its text's hash (keeping
        # every text as a key would hold a second copy of the file).
        self.seen: dict[int, list[_Seen]] = {}
        # Documents that others copy into another namespace, by the hash of their text
        # around the namespace's value (see `_copy_of`).
        self.models: dict[int, list[_Seen]] = {}

    def read(self, piece: _Piece, line: int) -> list[Document] | None:
        """The objects of a piece's documents, or None when the slow path must read.
        `line`: the number of lines before the piece (lines are counted from there)."""
        text = self.text
        bounds = document_bounds(text, piece.start, piece.end)
        documents: list[Document] = []
        # The documents to parse: (their index in `bounds`, their index in `documents`,
        # their text, their record). The others are copies of documents parsed in an
        # earlier piece (verbatim, or in another namespace): their reading was proven
        # there, checks included, so only the new ones are checked and parsed. (A first
        # copy in this piece is not parsed yet: its repeats in this piece are parsed too.)
        fresh: list[tuple[int, int, str, _Seen]] = []
        for index, (start, end) in enumerate(bounds):
            chunk = text[start:end]
            key = hash(chunk)
            known = None
            for seen in self.seen.get(key, ()):
                if seen.data is not None and text[seen.start:seen.end] == chunk:
                    known = seen
                    break
            if known is not None:
                # Same text, same data; the copy is data of its own (objects are never
                # shared between manifests), read by orjson from the first copy's JSON:
                # a third of the time a copy in Python takes. The copy points at the
                # first one's text (the same characters): a finding reads and places it
                # once for every copy.
                documents.append(Document(orjson.loads(known.json()), line + known.at,
                                          known.col, known.start, known.end, line))
                line += known.lines
                continue
            value = _namespace_value(chunk)
            # The text around the namespace's value: the same in every copy.
            shape = None if value is None else (chunk[:value[0]], chunk[value[1]:])
            model = None if shape is None else self._copy_of(shape)
            if model is not None and value is not None:
                # The same text but for one plain scalar that both readings read as
                # itself, at a place proven to be metadata.namespace (`_under_metadata`):
                # the model's data with that value; the same lines (a namespace holds no
                # line break). Its text is its own (for findings).
                data = orjson.loads(model.json())
                data["metadata"]["namespace"] = chunk[value[0]:value[1]]
                documents.append(Document(data, line + model.at, model.col, start, end,
                                          line, model.start))
                line += model.lines
                continue
            # Lines up to the next document: its own and the separator's.
            lines = chunk.count("\n") + 1
            first = _FIRST_LINE.search(chunk)
            if first is not None:
                at = chunk.count("\n", 0, first.start()) + 1
                col = first.end() - chunk.rfind("\n", 0, first.start()) - 1
                seen = _Seen(start, end, at, col, lines)
                self.seen.setdefault(key, []).append(seen)
                if shape is not None:  # a model for later copies, once proven one
                    seen.namespace = value
                    self.models.setdefault(hash(shape), []).append(seen)
                fresh.append((index, len(documents), chunk, seen))
                documents.append(Document({}, line + at, col, start, end, line))
            line += lines
        if fresh and not self._parse(bounds, fresh, documents):
            return None
        return documents

    def _parse(self, bounds: list[tuple[int, int]], fresh: list[tuple[int, int, str, _Seen]],
               documents: list[Document]) -> bool:
        """Checks and parses a piece's new documents and puts their data in `documents`;
        False when the slow path must read."""
        if self.precheck is not None:
            # Each run of consecutive new documents checked as one.
            run_start = 0
            for at in range(1, len(fresh) + 1):
                if at == len(fresh) or fresh[at][0] != fresh[at - 1][0] + 1:
                    run = bounds[fresh[run_start][0]:fresh[at - 1][0] + 1]
                    if not self.precheck(run):
                        return False
                    run_start = at
        # One verdict for all the new documents: the common case, every line known
        # innocent, costs one split and one pass. The checks it calls for are a superset
        # of each document's own, so running them on every new document can only send
        # more to the slow path, never fewer; and the structure check, which sends the
        # whole text there, is the same whether a risky line is looked for in its
        # document or in all of them.
        chunks = [chunk for _, _, chunk, _ in fresh]
        checks = self.suspects.of(chunks)
        # The structure check is line by line (nothing it looks for spans lines), so only
        # the lines with marks are searched.
        if any(_RISKY_YAML.search(mark) for mark in checks.structure):
            return False
        parsed = _parse_stream(chunks, self.tree, self.out, checks)
        if parsed is None:
            return False
        for data, (_, where, _, seen) in zip(parsed, fresh, strict=True):
            kind = data.get("kind")
            if not isinstance(kind, str) or not kind or kind.endswith("List") or \
                    not isinstance(data.get("apiVersion"), str) or not data["apiVersion"]:
                return False  # the slow path expands Lists and words the problem
            _, at, col, start, end, line, _ = documents[where]
            documents[where] = Document(data, at, col, start, end, line)
            seen.data = data
        return True

    def _copy_of(self, shape: tuple[str, str]) -> _Seen | None:
        """A model (parsed in an earlier piece) whose text is `shape`'s two parts around
        its namespace's value, when it is proven a model (checked at its first copy:
        most documents have none)."""
        before, after = shape
        text = self.text
        for model in self.models.get(hash(shape), ()):
            assert model.namespace is not None
            at, to = model.namespace
            if model.data is not None and at == len(before) and \
                    text[model.start:model.start + at] == before and \
                    text[model.start + to:model.end] == after:
                if model.proven is None:
                    model.proven = self._proven(model)
                return model if model.proven else None
        return None

    def _proven(self, model: _Seen) -> bool:
        """Whether `model`'s namespace line is its metadata.namespace: by its text
        (`_under_metadata`), and by its data holding the value its line says (the
        value is not continued on the next line)."""
        assert model.namespace is not None and model.data is not None
        at, to = model.namespace
        text = self.text
        metadata = model.data.get("metadata")
        return _under_metadata(text[model.start:model.start + at - len(_NAMESPACE_LINE)]) \
            and isinstance(metadata, dict) and \
            metadata.get("namespace") == text[model.start + at:model.start + to]


def _parse_stream(chunks: list[str], tree: Any, out: bytearray, checks: _Verdict
                  ) -> list[dict[str, Any]] | None:
    """The data of every document (a piece's new ones), parsed by one rapidyaml call as
    one stream (its parser and emitter run once, not once per document) and read by one
    orjson call; or None for the slow path. `checks`: the scalar checks to run on each
    document."""
    chunks = [chunk if chunk.endswith("\n") else chunk + "\n" for chunk in chunks]
    # A document-end marker (`...`) would let one text hold two documents and
    # another none, and the stream would still hold as many as were joined. (After
    # a separator a document starts on a new line: one search finds it anywhere.)
    stream = "---\n".join(chunks)
    if stream.startswith("...") or "\n..." in stream:
        return None
    assert _ryml is not None
    try:
        tree.clear()
        tree.clear_arena()
        _ryml.parse_in_arena(stream.encode(), tree)
        root = tree.root_id()
        several = tree.is_stream(root)
        if (tree.num_children(root) if several else 1) != len(chunks):
            return None
        # A stream is written as one JSON array of its documents, in one call.
        whole = _emit_json(tree, root, out)
    except _ryml.ExceptionBasic:
        return None
    if not several:
        whole = b"[" + whole + b"]"
    try:
        loaded: list[dict[str, Any]] = orjson.loads(whole)
    except orjson.JSONDecodeError:
        return None
    if not all(isinstance(data, dict) for data in loaded) or _lost_keys(whole, loaded):
        return None
    # The verdict comes from every token of the documents, prose in comments included
    # (a `no` or `on` in a sentence): most of what it calls for is in no document's
    # JSON as a string at all. Looked for once in the stream's JSON, the checks left
    # are run on each document, on its own JSON (written again, one document at a
    # time: rare).
    checks = _in_json(whole, checks)
    if checks.typed or checks.exponent:
        try:
            documents = _documents_of(tree)
            jsons = [_emit_json(tree, node, out) for node in documents]
        except _ryml.ExceptionBasic:
            return None
        for dumped, chunk in zip(jsons, chunks, strict=True):
            if _risky_scalars(dumped.decode(), chunk, checks):
                return None
    return loaded


def _documents_of(tree: Any) -> list[int]:
    """The document nodes of a parsed stream (the root itself for a single document)."""
    assert _ryml is not None
    root = tree.root_id()
    if not tree.is_stream(root):
        return [root]
    nodes = []
    node = tree.first_child(root)
    while node != _ryml.NONE:
        nodes.append(node)
        node = tree.next_sibling(node)
    return nodes


def _emit_json(tree: Any, node: int, out: bytearray) -> bytes:
    """The node as JSON, written by rapidyaml into `out` (grown when too small)."""
    assert _ryml is not None
    while True:
        with memoryview(out) as view:
            failed, size = _ryml.emit_json_to_substr(tree, node, view)
            if not failed:
                return bytes(view[:size])
        out.extend(bytes(max(size, len(out))))


class _Seen:
    """A document read once: where its text is, its data (once its piece is parsed),
    and (made at its first repeat, kept for the next ones) that data as JSON. Only
    documents that repeat pay for the JSON. Its copies have its lines: `at`, the line
    its object starts on counted from its text's start (1 for the first line), `col`,
    the object's column, and `lines`, the number of lines from its start to the next
    document's (its separator's included)."""

    __slots__ = ("_json", "at", "col", "data", "end", "lines", "namespace", "proven",
                 "start")

    def __init__(self, start: int, end: int, at: int, col: int, lines: int) -> None:
        self.start, self.end = start, end
        self.at, self.col, self.lines = at, col, lines
        self.data: dict[str, Any] | None = None
        self._json: bytes | None = None
        # Where the value of its first `  namespace: ` line is in its text, when that
        # value is a namespace; whether that line is proven its metadata.namespace (a
        # model for copies in other namespaces: see _Reader._copy_of), once asked.
        self.namespace: tuple[int, int] | None = None
        self.proven: bool | None = None

    def json(self) -> bytes:
        if self._json is None:
            self._json = orjson.dumps(self.data)
        return self._json


# A piece: its number, the length of its documents' headers and of their data (one JSON
# array: one orjson call reads a piece). A document's header: its text's start and end,
# line, column, lines before its text (lines counted from the piece's start), and its
# model's start (-1 for none).
_PIECE = struct.Struct("<III")
_HEADER = struct.Struct("<IIIIIq")


class _Child:
    """A forked process reading the pieces dealt to it. It writes each piece's objects
    (orjson's JSON with their positions) as soon as they are read; the parent reads them
    back (orjson reads JSON faster than pickle reads its own format) while it reads
    pieces itself."""

    def __init__(self, forked: Forked) -> None:
        self.forked = forked
        self.offset = 0

    @classmethod
    def start(cls, text: str, pieces: list[_Piece], dealer: Dealer,
              precheck: Precheck | None) -> _Child:
        def work(out: BinaryIO) -> bool:
            reader = _Reader(text, precheck)
            while (index := dealer.take()) is not None:
                # Lines counted from the piece's start: the parent adds the lines before
                # it (it counts them while this process reads).
                documents = reader.read(pieces[index], 0)
                if documents is None:
                    dealer.drain()  # the slow path reads the whole text: stop everyone
                    return False
                heads = b"".join(_HEADER.pack(d.start, d.end, d.line, d.col, d.line_offset,
                                              d.model)
                                 for d in documents)
                data = orjson.dumps([d.data for d in documents])
                out.write(_PIECE.pack(index, len(heads), len(data)))
                out.write(heads)
                out.write(data)
                out.flush()  # the parent may read it now
            return True

        return cls(Forked.start(work))

    def load(self, by_piece: dict[int, list[T]], build: Callable[[Document], T],
             lines: list[int]) -> None:
        """Reads the pieces the child has written whole since the last call. `lines`:
        the number of lines before each piece."""
        blob = memoryview(self.forked.written_since(self.offset))
        at = 0
        while at + _PIECE.size <= len(blob):
            index, heads, length = _PIECE.unpack_from(blob, at)
            if at + _PIECE.size + heads + length > len(blob):
                break
            at += _PIECE.size
            data = orjson.loads(blob[at + heads:at + heads + length])
            before = lines[index]
            by_piece[index] = [build(Document(d, line + before, col, start, end,
                                              offset + before, model))
                               for d, (start, end, line, col, offset, model) in zip(
                                   data, _HEADER.iter_unpack(blob[at:at + heads]),
                                   strict=True)]
            at += heads + length
        self.offset += at

    def finish(self, by_piece: dict[int, list[T]], build: Callable[[Document], T],
               lines: list[int]) -> bool:
        """Waits for the child and reads the rest of its pieces; False when it found a
        document for the slow path (or did not finish: the slow path then reads, and
        words any problem)."""
        try:
            if not self.forked.wait():
                return False
            self.load(by_piece, build, lines)
            return True
        finally:
            self.forked.close()


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


def _in_json(dumped: bytes, checks: _Verdict) -> _Verdict:
    """`checks` narrowed to what `_risky_scalars` could find in `dumped`: the scalars
    that are a JSON string in it (they are plain ASCII, written alike in every JSON), and
    the exponent check when a number with an exponent may be in it."""
    if not checks.typed and not checks.exponent:
        return checks
    typed = frozenset(s for s in checks.typed if b'"%s"' % s.encode() in dumped)
    exponent = checks.exponent and _JSON_EXPONENT_BYTES.search(dumped) is not None
    return _Verdict((), typed, exponent)


def _lost_keys(dumped: bytes, data: Any) -> bool:
    """A JSON reader keeps the last of two equal keys; the slow path refuses them. Every
    key in rapidyaml's JSON and in orjson's is followed by `":`; strings hold the
    sequence the same number of times in both (a quote inside is escaped as `\\"` by
    both). Without a lost key both texts hold the same keys and strings, so the counts
    are equal; a lost key (and its value) is missing only from orjson's. (Summed over a
    piece's documents: a lost key in any of them makes the sums differ.)"""
    return dumped.count(b'":') != orjson.dumps(data).count(b'":')


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
