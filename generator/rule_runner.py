"""Running the rules over a manifest set, in one process or several.

Every rule reads the whole set and nothing but the set, so rules are independent of each
other: a big set is judged by several forked processes (generator.forking), each taking
whole rules. Each process sees the loaded objects as they were at the fork, without
copying them, and hands back only its findings. The rules are dealt out one at a time as
the processes ask (a number from a pipe), so a slow rule does not hold the others up. The
findings are put back in the rules' order; the caller sorts them, and a rule's own
findings keep their order, so the answer is the same with any number of processes.
"""

from __future__ import annotations

import gc
import marshal
import struct
from collections.abc import Sequence
from typing import BinaryIO

from generator.forking import Dealer, Forked, can_fork
from generator.rules import Context, Finding, Rule

# Below this many objects a second process costs more than it saves.
PARALLEL_MIN_OBJECTS = 2000


def run_rules(rules: Sequence[Rule], ctx: Context, jobs: int = 1) -> list[Finding]:
    """The findings of every rule on the set, rule by rule in the order given."""
    # The rules build views of the set (workloads, containers, pod figures) that hold no
    # cycles and live until the findings are made: the cyclic collector would walk them
    # again and again as they are made, for nothing.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        return _run(rules, ctx, jobs)
    finally:
        if gc_was_on:
            gc.enable()


def _run(rules: Sequence[Rule], ctx: Context, jobs: int) -> list[Finding]:
    if jobs <= 1 or len(rules) < 2 or len(ctx.manifests) < PARALLEL_MIN_OBJECTS or \
            not can_fork():
        return [f for rule in rules for f in rule.check(ctx)]
    dealer = Dealer(len(rules))  # each rule to exactly one process

    def work(out: BinaryIO) -> bool:
        while (index := dealer.take()) is not None:
            # Plain tuples of text and numbers: marshal writes and reads them several
            # times faster than pickle does named tuples (24,000 duplicate findings in a
            # file that repeats one namespace). Each record after its length: read from
            # bytes, not a stream (marshal reads a stream a field at a time).
            record = marshal.dumps((index, [tuple(f) for f in rules[index].check(ctx)]))
            out.write(_LENGTH.pack(len(record)))
            out.write(record)
        return True

    by_rule: dict[int, list[Finding]] = {}
    children: list[Forked] = []
    try:
        children = [Forked.start(work) for _ in range(jobs - 1)]
        while (index := dealer.take()) is not None:
            by_rule[index] = list(rules[index].check(ctx))
    finally:
        # Reaped whatever happened here (a rule failing in this process included).
        for child in children:
            by_rule.update(_answers(child.finish()))
        dealer.close()
    # A child that failed (a bug in a rule): its rules run here, and fail here, visibly.
    return [f for index, rule in enumerate(rules)
            for f in (by_rule[index] if index in by_rule else rule.check(ctx))]


_LENGTH = struct.Struct("<I")


def _answers(blob: bytes | None) -> dict[int, list[Finding]]:
    """The (rule index, findings) pairs a child wrote, one marshal record each (written by
    our own forked process, the same Python: trusted as the parent's own memory is)."""
    found: dict[int, list[Finding]] = {}
    if blob is None:
        return found
    view = memoryview(blob)
    at = 0
    while at < len(blob):
        (length,) = _LENGTH.unpack_from(view, at)
        at += _LENGTH.size
        index, findings = marshal.loads(view[at:at + length])
        at += length
        found[index] = list(map(Finding._make, findings))
    return found
