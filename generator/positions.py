"""Where a key path sits in a block-style YAML document, read from its lines.

Composing a document with libyaml only to place one finding costs a few milliseconds; a
manifest set where every object has a finding (a repeated namespace: every object a
duplicate) would spend most of its time there. Block-style YAML, which kubectl,
kustomize and difygen write, places every key at a known indentation, so a key path can be
followed line by line. Anything this reader is not sure about (flow collections, quoted
or complex keys, anchors, tags, a line it cannot classify) answers None, and the caller
composes the document instead: the answer is always the composer's.
"""

from __future__ import annotations

import re
from array import array

from generator.yamlio import KeyPath

_KEY = re.compile(r"([A-Za-z0-9_./$-][^:#'\"{}\[\],&*!|>%@`]*?):(?:[ \t]|$)")


class Lines:
    """A document's lines without their indentation, and the indentation (-1 for a blank
    or comment line, -2 for one this reader does not handle: a tab, a CR), computed once
    per document."""

    __slots__ = ("dash", "indent", "memo", "rows", "solid")

    def __init__(self, text: str) -> None:
        raw = text.split("\n")
        stripped = [r.lstrip(" ") for r in raw]
        self.indent = array("i", (
            -1 if not s or s[0] == "#" else (-2 if s[0] in "\t\r" else len(r) - len(s))
            for r, s in zip(raw, stripped, strict=True)))
        # 1 where the line is a sequence entry ("- ..." or "-").
        self.dash = array("b", (s.startswith("- ") or s.rstrip("\r") == "-"
                                for s in stripped))
        # Each line without its indentation: a locate reads many, many times over.
        self.rows = [s.rstrip("\r") for s in stripped]
        # The indentation with blank rows as a huge number (see _Rows), once per document.
        self.solid = array("i", [i if i >= 0 else _BLANK for i in self.indent])
        # The entries of each window a locate has listed (see _entries): the findings on
        # one document share their paths' prefixes (six findings on one Deployment's
        # containers), so each window is listed, and its keys read, once per document.
        self.memo: dict[tuple[int, int, int, bool, bool], _Window | None] = {}

    def text(self, row: int) -> str:
        return self.rows[row]


def locate_lines(lines: Lines | str, path: KeyPath, line_offset: int
                 ) -> tuple[tuple[int, int], int] | None:
    """Like manifests._walk on the composed document: the (line, column) of `path` or
    of its deepest present ancestor, and how many parts were found; None when unsure."""
    table = Lines(lines) if isinstance(lines, str) else lines
    if -2 in table.indent:
        return None
    try:
        return _locate(_Rows(table), _Text(table), path, line_offset, table.dash)
    except _Done as done:
        return done.best, done.depth
    except _Unsure:
        return None


class _Unsure(Exception):
    pass


class _Done(Exception):
    def __init__(self, best: tuple[int, int], depth: int) -> None:
        super().__init__()
        self.best, self.depth = best, depth


class _Text:
    """The lines' text by row, with the rows _locate rewrites (a mapping item's first
    key, moved off its dash)."""

    def __init__(self, lines: Lines) -> None:
        self.lines = lines
        self.changed: dict[int, str] = {}

    def __getitem__(self, row: int) -> str:
        found = self.changed.get(row)
        return self.lines.text(row) if found is None else found

    def __setitem__(self, row: int, value: str) -> None:
        self.changed[row] = value


_MAYBE_KEY = re.compile(r":(?:[ \t]|$)")
_OPENERS = ("{", "[", "&", "*", "!", "|", ">", "?", "%", "@", "`")


def _is_dash(text: str) -> bool:
    return text == "-" or text.startswith("- ")


class _Rows:
    """Each row's indentation (-1: blank or comment), as _locate rewrites it, and the same
    with blank rows as a huge number: the searches below are then C loops (list.index,
    min) instead of Python ones; a locate looks at every row of a block at every step."""

    __slots__ = ("indent", "solid")

    def __init__(self, lines: Lines) -> None:
        self.indent = list(lines.indent)
        self.solid = list(lines.solid)

    def __len__(self) -> int:
        return len(self.indent)

    def __getitem__(self, row: int) -> int:
        return self.indent[row]

    def __setitem__(self, row: int, value: int) -> None:
        self.indent[row] = value
        self.solid[row] = value if value >= 0 else _BLANK


_BLANK = 1 << 30


class _Window:
    """The entries of one window at one column: their rows and, for a mapping, where each
    key is first found before the first line that is not a plain key (`bad`, its index)."""

    __slots__ = ("bad", "keys", "rows")

    def __init__(self, rows: list[int]) -> None:
        self.rows = rows
        self.keys: dict[str, tuple[int, int, str]] | None = None
        self.bad: int | None = None

    def key(self, text: _Text, part: str) -> tuple[int, int, str] | None:
        """(index, row, rest of the line) of key `part`, None when absent. Raises _Unsure
        where reading the entries in order meets a line that is not a plain key first
        (what reading them one by one for each path did)."""
        if self.keys is None:
            self.keys = {}
            for n, row in enumerate(self.rows):
                line = text[row]
                match = _KEY.match(line)
                if match is None:
                    self.bad = n
                    break
                self.keys.setdefault(match.group(1).rstrip(),
                                     (n, row, line[match.end():].strip()))
        found = self.keys.get(part)
        if found is None and self.bad is not None:
            raise _Unsure
        return found


def _entries(rows: _Rows, text: _Text, lo: int, hi: int, col: int, dashes: bool,
             dash: array[int]) -> _Window:
    """Rows of [lo, hi) that start an entry at `col`: "- " items, or keys (a "- " line at
    a mapping's column belongs to the sequence of the key above it).

    Memoized on the document's Lines, which is safe: the answer depends only on the rows
    of [lo, hi) and on whether row `lo` was rewritten (a mapping item's first key).
    Windows nest, and a locate rewrites a row only as it makes it the first row of its
    next window, so no other row of a window is ever rewritten."""
    memo = text.lines.memo
    key = (lo, hi, col, dashes, lo in text.changed)
    if key in memo:
        window = memo[key]
        if window is None:
            raise _Unsure
        return window
    if lo < hi and min(rows.solid[lo:hi]) < col:
        memo[key] = None
        raise _Unsure
    found: list[int] = []
    indent = rows.indent
    row = lo
    while True:
        try:
            row = indent.index(col, row, hi)
        except ValueError:
            break
        if bool(dash[row] and row not in text.changed) == dashes:
            found.append(row)
        row += 1
    memo[key] = window = _Window(found)
    return window


def _child(indent: _Rows, text: _Text, lo: int, hi: int, parent: int
           ) -> tuple[int, bool] | None:
    """The column of a nested block collection in [lo, hi) and whether it is a sequence,
    or None when the value is empty (null)."""
    for row in range(lo, hi):
        i = indent[row]
        if i < 0:
            continue
        if i > parent or (i == parent and _is_dash(text[row])):
            return i, _is_dash(text[row])
        return None
    return None


def _locate(indent: _Rows, text: _Text, path: KeyPath, offset: int, dash: array[int]
            ) -> tuple[tuple[int, int], int]:
    lo = 0
    while lo < len(indent) and indent[lo] < 0:
        lo += 1
    if lo == len(indent):
        raise _Unsure
    first = text[lo]
    if indent[lo] != 0 or first.startswith(("---", "- ", '"', "'", *_OPENERS)):
        raise _Unsure
    hi, col, is_seq = len(indent), 0, False
    best = (offset + lo + 1, 1)
    depth = 0
    for part in path:
        if isinstance(part, str):
            if is_seq:
                raise _Done(best, depth)
            entries = _entries(indent, text, lo, hi, col, False, dash)
            found = entries.key(text, part)
            if found is None:
                raise _Done(best, depth)
            n, row, rest = found
            best = (offset + row + 1, col + 1)
            depth += 1
            end = entries.rows[n + 1] if n + 1 < len(entries.rows) else hi
        else:
            if not is_seq:
                raise _Done(best, depth)
            items = _entries(indent, text, lo, hi, col, True, dash).rows
            if not 0 <= part < len(items):
                raise _Done(best, depth)
            row = items[part]
            line = text[row]
            end = items[part + 1] if part + 1 < len(items) else hi
            item = line[1:]
            rest = item.strip()
            if rest and not rest.startswith("#"):
                item_col = col + 1 + len(item) - len(item.lstrip(" "))
                best = (offset + row + 1, item_col + 1)
                depth += 1
                if rest.startswith(("- ", '"', "'", *_OPENERS)):
                    raise _Unsure if depth < len(path) else _Done(best, depth)
                if _KEY.match(rest) is None:
                    if _MAYBE_KEY.search(rest):
                        raise _Unsure
                    raise _Done(best, depth)  # a scalar item
                # A mapping item: its first key is on the dash's line, the rest below.
                indent[row], text[row] = item_col, rest
                lo, hi, col, is_seq = row, end, item_col, False
                continue
            sub = _child(indent, text, row + 1, end, col)
            if sub is None:
                raise _Unsure
            lo, hi = row + 1, end
            first_row = next(r for r in range(lo, hi) if indent[r] >= 0)
            col, is_seq = sub
            best = (offset + first_row + 1, col + 1)
            depth += 1
            continue
        # After a key: an inline value, or a block collection on the lines below.
        if rest and not rest.startswith("#"):
            if depth < len(path) and rest.startswith(_OPENERS):
                raise _Unsure
            raise _Done(best, depth)
        sub = _child(indent, text, row + 1, end, col)
        if sub is None:
            raise _Done(best, depth)
        lo, hi = row + 1, end
        col, is_seq = sub
    return best, depth
