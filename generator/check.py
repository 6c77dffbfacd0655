"""Drift between the output a render would write and what is committed.

The render pipeline produces the expected files in memory; this compares them with
difygen's files on disk (read and diffed by generator.writer, the same functions `render`
uses) byte for byte and describes the difference as a unified diff. The CLI exits with
EXIT_STALE when `stale` is true. Nothing is written.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from generator.writer import check_paths, diff_tree, scan

EXIT_STALE = 3


@dataclass(frozen=True)
class Drift:
    """Relative POSIX paths, sorted: what a render would add, change and remove, and the
    files in difygen's directories that are not difygen's (kept)."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    diff: str
    kept: tuple[str, ...] = ()

    @property
    def stale(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    @property
    def exit_code(self) -> int:
        return EXIT_STALE if self.stale else 0


def _lines(data: bytes | str) -> list[str] | None:
    if isinstance(data, str):
        return data.splitlines(keepends=True)
    try:
        return data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def _diff(name: str, old: bytes | None, new: str | None) -> str:
    before = _lines(old) if old is not None else []
    after = _lines(new) if new is not None else []
    if before is None or after is None:
        return f"Binary files a/{name} and b/{name} differ\n"
    lines = list(difflib.unified_diff(
        before, after,
        fromfile=f"a/{name}" if old is not None else "/dev/null",
        tofile=f"b/{name}" if new is not None else "/dev/null"))
    # A last line without a newline would run into the next header; say so like git does.
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def compare(expected: Mapping[str, str], out_dir: str | Path, units: Iterable[str]) -> Drift:
    """Compare `expected` (relative path -> text) with difygen's files in the `units` of
    `out_dir`. A file that is not difygen's where a render writes one counts as changed."""
    units = tuple(units)
    check_paths(expected, units)
    root = Path(out_dir)
    tree = scan(root, units)
    change = diff_tree(tree, expected)
    actual = dict(tree.owned)
    for rel in change.conflicts:
        actual[rel] = (root / rel).read_bytes()
    changed = sorted({*change.changed, *change.conflicts})
    added = [p for p in change.added if p not in change.conflicts]
    diff = "".join(_diff(name, actual.get(name), expected.get(name))
                   for name in sorted([*added, *change.removed, *changed]))
    return Drift(tuple(added), tuple(changed), change.removed, diff, change.kept)
