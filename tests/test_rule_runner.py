"""Rules run in several forked processes answer exactly what one process answers, and a
child that fails hands its rules back to the parent instead of losing findings."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from generator import rule_runner
from generator.forking import can_fork
from generator.manifest_loader import Manifest, load_paths
from generator.rules import RULES, Context, Finding, Rule
from generator.validate import validate_objects
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(not can_fork(), reason="forking is used on Linux only")
NEGATIVE = REPO / "tests" / "cases" / "manifests" / "negative"


def _many() -> list[Manifest]:
    """Every negative case's objects, repeated past the size at which rules fork."""
    once = load_paths(sorted(NEGATIVE.glob("*.yaml")))
    copies = rule_runner.PARALLEL_MIN_OBJECTS // len(once) + 1
    return [m for _ in range(copies) for m in load_paths(sorted(NEGATIVE.glob("*.yaml")))]


def test_rules_in_three_processes_find_what_one_finds() -> None:
    objects = _many()
    alone = validate_objects(objects, jobs=1)
    together = validate_objects(objects, jobs=3)
    assert len(alone.findings) > 100
    assert {f.rule for f in alone.findings} >= {"schema", "pss-run-as-non-root"}
    assert together == alone


class _OnlyInTheParent(Rule):
    """A rule that fails in any process but the one that started the run, and says so
    on a pipe (so the test knows a child really took one)."""

    id = "only-in-the-parent"
    layer = "policy"

    def __init__(self, parent: int, witness: int) -> None:
        self.parent, self.witness = parent, witness

    def check(self, ctx: Context) -> Iterator[Finding]:
        if os.getpid() != self.parent:
            os.write(self.witness, b"x")
            raise RuntimeError("a bug that shows only in a child")
        time.sleep(0.01)  # leaves the child time to take rules too
        first = ctx.manifests[0]
        yield Finding(self.id, "warning", "ran", first.file, first.line, first.col)


def test_a_failing_child_hands_its_rules_back() -> None:
    ctx = Context(_many(), "1.35")
    seen, witness = os.pipe()
    os.set_blocking(seen, False)
    try:
        rules = [_OnlyInTheParent(os.getpid(), witness) for _ in range(40)]
        found = rule_runner.run_rules(rules, ctx, jobs=2)
        assert os.read(seen, 100), "no child took a rule: nothing was tested"
    finally:
        os.close(seen)
        os.close(witness)
    assert [f.message for f in found] == ["ran"] * 40


class _Broken(Rule):
    id = "broken"
    layer = "policy"

    def check(self, ctx: Context) -> Iterator[Finding]:
        raise RuntimeError("broken everywhere")


def test_a_rule_that_fails_everywhere_fails_in_the_parent() -> None:
    ctx = Context(_many(), "1.35")
    with pytest.raises(RuntimeError, match="broken everywhere"):
        rule_runner.run_rules([*RULES[:3], _Broken()], ctx, jobs=2)
