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

from generator.yamlio import KeyPath

_KEY = re.compile(r"([A-Za-z0-9_./$-][^:#'\"{}\[\],&*!|>%@`]*?):(?:[ \t]|$)")


def locate_lines(text: str, path: KeyPath, line_offset: int
                 ) -> tuple[tuple[int, int], int] | None:
    """Like manifests._walk on the composed document: the (line, column) of `path` or
    of its deepest present ancestor, and how many parts were found; None when unsure."""
    try:
        return _locate(text.split("\n"), path, line_offset)
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


_MAYBE_KEY = re.compile(r":(?:[ \t]|$)")
_OPENERS = ("{", "[", "&", "*", "!", "|", ">", "?", "%", "@", "`")


def _content(line: str) -> tuple[int, str] | None:
    """(indent, text) of a line with content; None for blank and comment lines."""
    stripped = line.lstrip(" ")
    if not stripped or stripped.startswith("#"):
        return None
    if stripped[0] in "\t\r":
        raise _Unsure
    return len(line) - len(stripped), stripped.rstrip("\r")


def _is_dash(text: str) -> bool:
    return text == "-" or text.startswith("- ")


def _entries(lines: list[str], lo: int, hi: int, col: int, dashes: bool
             ) -> list[tuple[int, str]]:
    """Rows of [lo, hi) that start an entry at `col`: "- " items, or keys (a "- " line at
    a mapping's column belongs to the sequence of the key above it)."""
    out = []
    for row in range(lo, hi):
        got = _content(lines[row])
        if got is None:
            continue
        indent, text = got
        if indent < col:
            raise _Unsure
        if indent == col and _is_dash(text) == dashes:
            out.append((row, text))
    return out


def _child(lines: list[str], lo: int, hi: int, parent: int) -> tuple[int, bool] | None:
    """The column of a nested block collection in [lo, hi) and whether it is a sequence,
    or None when the value is empty (null)."""
    for row in range(lo, hi):
        got = _content(lines[row])
        if got is None:
            continue
        indent, text = got
        if indent > parent or (indent == parent and _is_dash(text)):
            return indent, _is_dash(text)
        return None
    return None


def _locate(lines: list[str], path: KeyPath, offset: int) -> tuple[tuple[int, int], int]:
    lo = 0
    while lo < len(lines) and _content(lines[lo]) is None:
        lo += 1
    if lo == len(lines):
        raise _Unsure
    indent, first = _content(lines[lo])  # type: ignore[misc]
    if indent != 0 or first.startswith(("---", "- ", '"', "'", *_OPENERS)):
        raise _Unsure
    hi, col, is_seq = len(lines), 0, False
    best = (offset + lo + 1, 1)
    depth = 0
    for part in path:
        if isinstance(part, str):
            if is_seq:
                raise _Done(best, depth)
            entries = _entries(lines, lo, hi, col, dashes=False)
            found = None
            for n, (row, text) in enumerate(entries):
                match = _KEY.match(text)
                if match is None:
                    raise _Unsure
                if match.group(1).rstrip() == part:
                    found = (n, row, text[match.end():].strip())
                    break
            if found is None:
                raise _Done(best, depth)
            n, row, rest = found
            best = (offset + row + 1, col + 1)
            depth += 1
            end = entries[n + 1][0] if n + 1 < len(entries) else hi
        else:
            if not is_seq:
                raise _Done(best, depth)
            items = _entries(lines, lo, hi, col, dashes=True)
            if not 0 <= part < len(items):
                raise _Done(best, depth)
            row, text = items[part]
            end = items[part + 1][0] if part + 1 < len(items) else hi
            item = text[1:]
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
                lines = [*lines[:row], " " * item_col + rest, *lines[row + 1:]]
                lo, hi, col, is_seq = row, end, item_col, False
                continue
            sub = _child(lines, row + 1, end, col)
            if sub is None:
                raise _Unsure
            lo, hi = row + 1, end
            first_row = next(r for r in range(lo, hi) if _content(lines[r]) is not None)
            col, is_seq = sub
            best = (offset + first_row + 1, col + 1)
            depth += 1
            continue
        # After a key: an inline value, or a block collection on the lines below.
        if rest and not rest.startswith("#"):
            if depth < len(path) and rest.startswith(_OPENERS):
                raise _Unsure
            raise _Done(best, depth)
        sub = _child(lines, row + 1, end, col)
        if sub is None:
            raise _Done(best, depth)
        lo, hi = row + 1, end
        col, is_seq = sub
    return best, depth
