"""Drift between the output a render would write and what is committed.

The render pipeline produces the expected files in memory; this compares them with the
tree on disk byte for byte and describes the difference as a unified diff. The CLI exits
with EXIT_STALE when `stale` is true. Nothing is written.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from generator.errors import InputError, UsageError

EXIT_STALE = 3


@dataclass(frozen=True)
class Drift:
    """Relative POSIX paths, sorted: what a render would add, change and remove."""

    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    diff: str

    @property
    def stale(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    @property
    def exit_code(self) -> int:
        return EXIT_STALE if self.stale else 0


def _checked_path(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or name != str(path):
        raise UsageError(f"expected file {name!r} is not a plain relative path")
    return name


def files_on_disk(out_dir: Path) -> dict[str, bytes]:
    """Every file under `out_dir` by relative POSIX path; dot files and dot directories
    (.gitkeep, .git) are not output and are skipped."""
    found: dict[str, bytes] = {}
    if not out_dir.exists():
        return found
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: is not a directory")
    try:
        for path in sorted(out_dir.rglob("*")):
            rel = path.relative_to(out_dir)
            if any(part.startswith(".") for part in rel.parts) or not path.is_file():
                continue
            found[rel.as_posix()] = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{out_dir}: cannot read: {exc.strerror or exc}") from None
    return found


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


def compare(expected: Mapping[str, str], out_dir: str | Path) -> Drift:
    """Compare `expected` (relative path -> text) with the files under `out_dir`."""
    wanted = {_checked_path(k): v for k, v in expected.items()}
    actual = files_on_disk(Path(out_dir))
    added = sorted(set(wanted) - set(actual))
    removed = sorted(set(actual) - set(wanted))
    changed = sorted(name for name in set(wanted) & set(actual)
                     if wanted[name].encode("utf-8") != actual[name])
    diff = "".join(_diff(name, actual.get(name), wanted.get(name))
                   for name in sorted([*added, *removed, *changed]))
    return Drift(tuple(added), tuple(changed), tuple(removed), diff)
