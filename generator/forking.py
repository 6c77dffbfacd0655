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
            _, status = os.waitpid(self.pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                return None
            return os.pread(self.fd, os.fstat(self.fd).st_size, 0)
        finally:
            os.close(self.fd)
