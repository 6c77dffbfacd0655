"""Atomic output: a render that fails at any point leaves the previous tree exactly as it was.

`render` computes and validates everything in memory, writes the new tree into a temporary
directory beside the target and swaps it in with one rename. These tests break it on
purpose: bad input, a path that cannot be written (as root, where chmod would not stop
anything), and SIGKILL at random moments of real renders.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "generator"]


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd, check=False)


def tree(root: Path) -> dict[str, bytes]:
    """Every file and directory under root, with the bytes of each file."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        out[rel] = path.read_bytes() if path.is_file() else b"<dir>"
    return out


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.glob(f".{out.name}.difygen-*"))


def write_profiles(directory: Path, count: int, namespace_prefix: str) -> None:
    """`count` custom profiles; the prefix changes every overlay that names a namespace."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.yaml"):
        old.unlink()
    for i in range(count):
        (directory / f"team-{i:02d}.yaml").write_text(
            f"description: team {i}\nextends: small\nnamespace: {namespace_prefix}-{i}\n"
            "components:\n  api:\n    autoscaling: {minReplicas: 2, maxReplicas: "
            f"{3 + i % 2}, targetCPUUtilizationPercentage: {60 + i % 20}}}\n")


def test_invalid_profile_changes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    profiles = tmp_path / "profiles"
    write_profiles(profiles, 2, "good")
    assert run("render", "--all", "--profiles-dir", profiles, "--out", out).returncode == 0
    (out / "README.md").write_text("kept by the user\n")
    before = tree(out)
    before_parent = sorted(p.name for p in tmp_path.iterdir())

    (profiles / "team-01.yaml").write_text("extends: small\ncomponents:\n  api:\n"
                                           "    resources: {limits: {memory: 512Mb}}\n")
    proc = run("render", "--all", "--profiles-dir", profiles, "--out", out)

    assert proc.returncode == 2, proc.stderr
    assert "team-01.yaml:4:34: components.api.resources.limits.memory" in proc.stderr
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == before_parent
    assert leftovers(out) == []


def test_sizing_error_changes_nothing(tmp_path: Path) -> None:
    """Fails later than the schema: while deriving the plan (connection budget)."""
    out = tmp_path / "out"
    assert run("render", "small", "--out", out).returncode == 0
    before = tree(out)
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "small.yaml").write_text(
        "extends: small\ncomponents:\n  api:\n    autoscaling: {minReplicas: 2, "
        "maxReplicas: 300, targetCPUUtilizationPercentage: 70}\n")
    proc = run("render", "small", "--profiles-dir", profiles, "--out", out)
    assert proc.returncode == 2, proc.stderr
    assert "connection pools" in proc.stderr
    assert tree(out) == before


def test_target_parent_is_a_file(tmp_path: Path) -> None:
    """A failure root cannot chmod its way past: the output's parent is a regular file."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory must go\n")
    proc = run("render", "small", "--out", blocker / "out")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "error:" in proc.stderr and "not-a-dir" in proc.stderr
    assert blocker.read_text() == "a file where a directory must go\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-dir"]


def test_write_failure_midway_keeps_old_tree(tmp_path: Path) -> None:
    """The new tree cannot be completed (a file sits where the render needs a directory):
    the failure happens while writing the temporary tree, after validation passed."""
    out = tmp_path / "out"
    assert run("render", "edge", "--out", out).returncode == 0
    # `helm` outside every managed prefix, so it is carried over, but helm/small/ must be
    # created under it
    for path in sorted((out / "helm").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    (out / "helm").rmdir()
    (out / "helm").write_text("not a directory\n")
    before = tree(out)

    proc = run("render", "small", "--out", out)

    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "previous output is unchanged" in proc.stderr
    assert tree(out) == before
    assert leftovers(out) == []


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_a_mix(tmp_path: Path) -> None:
    """SIGKILL real renders at random moments; the tree is always all old or all new.

    Two versions of 12 custom profiles differ in every overlay. Kill times are drawn
    around the end of a measured full run, where the write and the swap happen; the loop
    goes on until several kills landed mid-write (a temporary tree was left behind).
    """
    profiles = tmp_path / "profiles"
    out = tmp_path / "out"
    count = 12
    expected: dict[str, dict[str, bytes]] = {}
    for version in ("old", "new"):
        write_profiles(profiles, count, version)
        ref = tmp_path / f"ref-{version}"
        assert run("render", "--all", "--profiles-dir", profiles, "--out", ref).returncode == 0
        expected[version] = tree(ref)
    assert expected["old"] != expected["new"]

    def reset_to_old() -> None:
        write_profiles(profiles, count, "old")
        proc = run("render", "--all", "--profiles-dir", profiles, "--out", out)
        assert proc.returncode == 0, proc.stderr
        assert tree(out) == expected["old"]
        assert leftovers(out) == [], "a complete render must clean up what a killed one left"

    reset_to_old()
    write_profiles(profiles, count, "new")
    started = time.monotonic()
    assert run("render", "--all", "--profiles-dir", profiles, "--out", out).returncode == 0
    full = time.monotonic() - started
    reset_to_old()

    rng = random.Random(20261121)
    mid_write = kills = outcomes_new = 0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and (mid_write < 3 or kills < 8):
        write_profiles(profiles, count, "new")
        proc = subprocess.Popen([*CLI, "render", "--all", "--profiles-dir", str(profiles),
                                 "--out", str(out)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(full * rng.uniform(0.55, 1.05))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        left = leftovers(out)
        mid_write += bool(left)
        now = tree(out)
        assert now in (expected["old"], expected["new"]), (
            "a killed render left a tree that is neither the old nor the new one")
        outcomes_new += now == expected["new"]
        if left or now != expected["old"]:
            reset_to_old()  # also proves the next render removes what was left behind
    print(f"{kills} kills, {mid_write} mid-write, {outcomes_new} completed renders")
    assert kills >= 5, f"only {kills} renders were killed while running"
    assert mid_write >= 1, "no kill landed while the new tree was being written"
