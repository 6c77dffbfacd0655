"""Work in a forked process, its answer handed back through memory.

`validate --manifests` reads big files, and runs its rules, in several processes: CPython
runs one thread of Python at a time, and both jobs are Python-bound. A forked child sees
the parent's memory as it was (the text, the loaded objects) without copying it; it writes
its answer into an in-memory file (memfd: on no file system, gone with the last
descriptor) that the parent reads after the child exits.

Only where that is safe and cheap: Linux (fork and memfd_create). Elsewhere `can_fork()`
is False and callers do the work in their own process; the answer is the same.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Callable
from typing import BinaryIO

# A child's exit status when its work answered "not here" (the parent takes over).
DECLINED = 3


def can_fork() -> bool:
    return hasattr(os, "fork") and hasattr(os, "memfd_create") and \
        sys.platform.startswith("linux")


def cpus() -> int:
    """CPUs this process may use (its affinity, as a container's cpuset limits it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class Forked:
    """A child process running `work(out)`: `work` writes its answer to `out` and returns
    True, or returns False to decline (the parent then does the work itself)."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd

    @classmethod
    def start(cls, work: Callable[[BinaryIO], bool]) -> Forked:
        fd = os.memfd_create("difygen-work", os.MFD_CLOEXEC)
        # Buffered output would otherwise be written twice, once by each process.
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns, never runs the parent's exit handlers
            status = DECLINED
            try:
                with os.fdopen(os.dup(fd), "wb", buffering=1 << 20) as out:
                    if work(out):
                        status = 0
            except BaseException:  # whatever it was, the parent redoes the work and reports
                status = DECLINED
            finally:
                os._exit(status)
        return cls(pid, fd)

    def finish(self) -> bytes | None:
        """What the child wrote, or None when it declined or did not finish."""
        try:
            if not self.wait():
                return None
            return self.written_since(0)
        finally:
            os.close(self.fd)

    def wait(self) -> bool:
        """Waits for the child to exit: True when its work answered."""
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status) == 0

    def written_since(self, offset: int) -> bytes:
        """What the child has written past `offset` so far (it may still be writing:
        whatever it flushed is there)."""
        return os.pread(self.fd, max(0, os.fstat(self.fd).st_size - offset), offset)

    def close(self) -> None:
        os.close(self.fd)


_TOKEN = struct.Struct("<H")
# What a new pipe is sure to hold: one page (Linux gives a user past its pipe quota
# one-page pipes), so writing the tokens before anyone reads never blocks.
_PIPE_MIN = 4096


class Dealer:
    """Hands out the numbers 0..count-1, each to exactly one of the processes that ask,
    in order, as they ask: the numbers sit in a pipe whose writing end is closed, a read
    of one token is atomic, and the end of the pipe says there is none left. Made before
    forking, so that the children share it; a slow piece of work then holds up no other
    (a process that is done takes the next)."""

    LIMIT = _PIPE_MIN // _TOKEN.size

    def __init__(self, count: int) -> None:
        # Written whole before anyone reads: it must fit in the pipe's buffer.
        if count > self.LIMIT:
            raise ValueError(f"{count} pieces of work; at most {self.LIMIT} can be dealt")
        self._take, deal = os.pipe()
        try:
            os.write(deal, b"".join(_TOKEN.pack(i) for i in range(count)))
        finally:
            os.close(deal)

    def take(self) -> int | None:
        token = os.read(self._take, _TOKEN.size)
        return _TOKEN.unpack(token)[0] if token else None

    def drain(self) -> None:
        """Takes every number left, so that the other processes stop asking."""
        while os.read(self._take, 65536):
            pass

    def close(self) -> None:
        os.close(self._take)
