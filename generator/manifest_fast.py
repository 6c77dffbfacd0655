"""The fast way to read manifests: rapidyaml (C++) parses each document and writes it as
JSON, orjson turns that into data.

It is taken only where its reading cannot differ from the slow path's (libyaml's composer
with Kubernetes' YAML 1.1 reading, in generator.manifest_loader): `read` answers None
for a text with anything where the two could differ (anchors, aliases, tags, merge keys,
directives, complex keys, a plain scalar YAML 1.1 types differently, a duplicate key, a
List, a syntax error), and the slow path then reads, and words any problem, itself.

What makes it fast on a 35 MB file:
- Suspicious constructs are found from the text's distinct whitespace-separated tokens
  (a GitOps file repeats the same few thousand tokens), not by running regexes over every
  document: only a document holding a suspicious token gets the exact per-document checks.
- orjson reads JSON about three times faster than the json module, and writes it back
  (for the duplicate-key count) about ten times faster.
- A document repeated verbatim is parsed once; every copy gets data of its own.
- The exact checks that keep the reading YAML 1.1's run per document only for the
  constructs its tokens call for.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from typing import Any

import orjson

from generator.yamlio import copy_data

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
    """What a suspicious token calls for: the structure check, the scalars to look for
    written plain, the exponent check."""

    structure: bool = False
    typed: frozenset[str] = frozenset()
    exponent: bool = False

    def __or__(self, other: _Verdict) -> _Verdict:
        return _Verdict(self.structure or other.structure, self.typed | other.typed,
                        self.exponent or other.exponent)


_INNOCENT = _Verdict()


def _judge(token: str) -> _Verdict:
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
    return _Verdict(structure, frozenset(typed), exponent)


class _Suspects:
    """The checks a document needs, from its tokens: each distinct token is judged once
    (a GitOps file repeats the same few thousand tokens, prose included), each document
    costs one split and two set operations."""

    def __init__(self) -> None:
        self.judged: set[str] = set()
        self.verdicts: dict[str, _Verdict] = {}

    def of(self, chunk: str) -> _Verdict:
        tokens = set(chunk.split())
        for token in tokens - self.judged:
            self.judged.add(token)
            verdict = _judge(token)
            if verdict != _INNOCENT:
                self.verdicts[token] = verdict
        found = _INNOCENT
        for token in tokens.intersection(self.verdicts):
            found |= self.verdicts[token]
        return found


@dataclass(frozen=True)
class Document:
    """One object read by the fast path: its data, where it starts (line and column,
    1-based, in the whole text), its text and the number of lines before that text."""

    data: dict[str, Any]
    line: int
    col: int
    text: str
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


def read(text: str) -> list[Document] | None:
    """Every object of `text`, or None when the slow path must read it."""
    if _ryml is None:
        return None
    bounds = document_bounds(text)
    suspects = _Suspects()
    documents: list[Document] = []
    # Documents repeated verbatim (the same object copied into many builds) are parsed
    # and checked once: the first copy's data by its text.
    seen: dict[str, dict[str, Any]] = {}
    line = 0
    prev = 0
    with _QuietStderr():
        for start, end in bounds:
            chunk = text[start:end]
            line += text.count("\n", prev, start)
            prev = start
            first = _FIRST_LINE.search(chunk)
            if first is None:
                continue
            known = seen.get(chunk)
            if known is not None:
                # Same text, same data and checks; the data is copied (objects are never
                # shared between manifests), its strings shared (orjson would copy them
                # too: a third more memory on a file of copies).
                data = copy_data(known)
            else:
                parsed = _parse(chunk, suspects.of(chunk))
                if parsed is None:
                    return None
                data = parsed
                seen[chunk] = data
            kind = data.get("kind")
            if not isinstance(kind, str) or not kind or kind.endswith("List") or \
                    not isinstance(data.get("apiVersion"), str) or not data["apiVersion"]:
                return None  # the slow path expands Lists and words the problem
            at = line + chunk.count("\n", 0, first.start())
            col = first.end() - chunk.rfind("\n", 0, first.start()) - 1
            documents.append(Document(data, at + 1, col, chunk, line))
    return documents


def _parse(chunk: str, checks: _Verdict) -> dict[str, Any] | None:
    """The data of one document (a mapping), or None for the slow path."""
    if checks.structure and _RISKY_YAML.search(chunk):
        return None
    assert _ryml is not None
    try:
        tree = _ryml.parse_in_arena(chunk.encode())
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
    key in rapidyaml's JSON and in orjson's indented JSON is followed by `": ` (inside a
    string a quote is escaped, and both escape the same way; a string value that starts
    with `: ` counts once in both), so counting them in rapidyaml's text and in orjson's
    writing of the data finds a lost key."""
    written = dumped.count('": ') - dumped.count('\\": ')
    again = orjson.dumps(data, option=orjson.OPT_INDENT_2)
    return written != again.count(b'": ') - again.count(b'\\": ')


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
