"""Writing the output tree: all or nothing, one writer at a time.

A render builds the complete new tree in a temporary directory beside the target, then
swaps it in with one atomic exchange (renameat2 RENAME_EXCHANGE on Linux). A failure or a
killed process at any point leaves the previous tree exactly as it was; the leftover
temporary directory is removed by the next render. An exclusive lock per target keeps
two renders from interleaving: the second waits and then wins with a complete tree.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from generator.errors import OutputError

LOCK_TIMEOUT_SECONDS = 120.0
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass(frozen=True)
class Change:
    added: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def read_tree(root: Path, prefixes: tuple[str, ...]) -> dict[str, str]:
    """Files under `root` whose relative path starts with one of `prefixes`."""
    found: dict[str, str] = {}
    if not root.is_dir():
        return found
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root).as_posix()
        if any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in prefixes):
            try:
                found[rel] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                found[rel] = "\0<unreadable>"
    return found


def diff_tree(current: dict[str, str], wanted: dict[str, str]) -> Change:
    return Change(
        added=tuple(sorted(set(wanted) - set(current))),
        changed=tuple(sorted(k for k in wanted if k in current and current[k] != wanted[k])),
        removed=tuple(sorted(set(current) - set(wanted))),
    )


def lock_path(target: Path) -> Path:
    """The lock for an output directory. It lives in the temp directory, keyed by the
    target's real path, so it never lands in the user's GitOps repository."""
    digest = hashlib.sha256(os.fsencode(target.resolve())).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / "difygen-locks" / f"{digest}.lock"


@contextlib.contextmanager
def locked(target: Path, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    path = lock_path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    except OSError as exc:
        raise OutputError(f"{target}: cannot create its lock {path}: {exc.strerror}") from exc
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OutputError(
                        f"{target}: another difygen render holds the lock for more than "
                        f"{timeout:.0f}s") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths; False where the platform cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _clean_leftovers(target: Path) -> None:
    # We hold the lock, so any temporary tree of ours beside the target is from a render
    # that died; it never replaced anything, so it can go.
    for stale in target.parent.glob(f".{target.name}.difygen-*"):
        shutil.rmtree(stale, ignore_errors=True)


def write_tree(target: Path, files: dict[str, str], managed: tuple[str, ...]) -> Change:
    """Make the files under `managed` prefixes of `target` exactly `files`.

    Files outside the managed prefixes (other profiles' overlays, a README the user keeps
    there) are carried over untouched.
    """
    target = target.absolute()
    with locked(target):
        _clean_leftovers(target)
        current = read_tree(target, managed)
        change = diff_tree(current, files)
        if change.empty and target.is_dir():
            return change
        tmp = target.parent / f".{target.name}.difygen-{uuid.uuid4().hex[:12]}"
        try:
            if target.is_dir():
                shutil.copytree(target, tmp, symlinks=True)
                for rel in current:
                    (tmp / rel).unlink()
            else:
                tmp.mkdir(parents=True)
            written = []
            for rel, text in sorted(files.items()):
                path = tmp / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "w", encoding="utf-8", newline="\n") as fh:
                    fh.write(text)
                written.append(path)
            # Made durable after all are written, not one by one: the kernel then writes
            # the data back together and each fsync has little left to wait for (a fleet
            # writes thousands of files).
            for path in written:
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            _prune_empty_dirs(tmp)
            _fsync_dir(tmp)
            if target.exists():
                if not _exchange(tmp, target):
                    old = target.parent / f".{target.name}.difygen-old-{uuid.uuid4().hex[:8]}"
                    target.rename(old)
                    tmp.rename(target)
                    tmp = old
            else:
                tmp.rename(target)
            _fsync_dir(target.parent)
        except OSError as exc:
            raise OutputError(
                f"{target}: could not write the output ({exc.strerror or exc}); the previous "
                "output is unchanged") from exc
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return change


def _prune_empty_dirs(root: Path) -> None:
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()
