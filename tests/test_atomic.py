"""Atomic output: a render that fails at any point leaves the previous tree exactly as it was.

`render` computes and validates everything in memory, writes the new tree into a temporary
directory beside the target and swaps it in with one rename. These tests break it on
purpose: bad input, a path that cannot be written (as root, where chmod would not stop
anything), and SIGKILL at random moments of real renders.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
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
    """Temporary trees of difygen's beside or inside the output directory."""
    return sorted([p.name for p in out.parent.glob(f".{out.name}.difygen-*")]
                  + [p.name for p in out.glob(".difygen-staging-*")])


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
    assert "is a file where difygen needs the directory helm/" in proc.stderr
    assert tree(out) == before
    assert leftovers(out) == []


_DISK_FULL = """
import errno, sys
import generator.writer as w
original, count = w._write_file, [0]
def failing(*args, **kwargs):
    count[0] += 1
    if count[0] > 30:
        raise OSError(errno.ENOSPC, "No space left on device")
    return original(*args, **kwargs)
w._write_file = failing
sys.argv = ["difygen", *sys.argv[1:]]
from generator.cli import main
main()
"""


def test_disk_full_while_staging_changes_nothing(tmp_path: Path) -> None:
    """The disk fills up while the new directories are staged (after validation passed,
    before any is swapped in): exit 2, every directory as it was, nothing left behind."""
    out = tmp_path / "out"
    assert run("render", "edge", "small", "--out", out).returncode == 0
    custom = tmp_path / "profiles"
    custom.mkdir()
    (custom / "small.yaml").write_text("extends: small\nnamespace: elsewhere\n")
    (custom / "edge.yaml").write_text("extends: edge\nnamespace: elsewhere-too\n")
    before = tree(out)
    proc = subprocess.run([sys.executable, "-c", _DISK_FULL, "render", "edge", "small",
                           "--profiles-dir", str(custom), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "No space left on device" in proc.stderr and "Traceback" not in proc.stderr
    assert tree(out) == before
    assert leftovers(out) == []


# Runs the real CLI with one writer function wrapped so that the process SIGKILLs itself
# at an exact moment: after the Nth staged file, or after the Nth directory swapped in.
_KILLER = """
import os, signal, sys
import generator.writer as w
where, n = sys.argv[1], int(sys.argv[2])
count = [0]
def hook(original, before):
    def wrapped(*args, **kwargs):
        if before and count[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)
        result = original(*args, **kwargs)
        count[0] += 1
        if not before and count[0] == n:
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    return wrapped
if where == "file":
    w._write_file = hook(w._write_file, False)
elif where == "swap":
    w._swap = hook(w._swap, True)
else:
    w.shutil.rmtree = hook(w.shutil.rmtree, True)
sys.argv = ["difygen", *sys.argv[3:]]
from generator.cli import main
main()
"""


def units_of_tree(files: dict[str, bytes]) -> dict[str, dict[str, bytes]]:
    """A tree's files grouped by the directory difygen swaps as one."""
    out: dict[str, dict[str, bytes]] = {}
    for rel, data in files.items():
        if data == b"<dir>":
            continue
        parts = rel.split("/")
        depth = 3 if parts[:2] == ["kustomize", "overlays"] else 2
        out.setdefault("/".join(parts[:depth]), {})[rel] = data
    return out


_VERSIONS = 6  # custom profiles, so that at least 6 directories differ between versions


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Complete renders of the old and the new version of the custom profiles."""
    root = tmp_path_factory.mktemp("versions")
    refs = {}
    for version in ("old", "new"):
        write_profiles(root / "profiles", _VERSIONS, version)
        refs[version] = root / f"ref-{version}"
        proc = run("render", "--all", "--profiles-dir", root / "profiles", "--out",
                   refs[version])
        assert proc.returncode == 0, proc.stderr
    return refs


@pytest.mark.slow
@pytest.mark.parametrize(("where", "n"), [
    ("file", 1), ("file", 40), ("file", 100), ("swap", 0), ("swap", 1), ("swap", 3),
    ("swap", 5), ("cleanup", 0),
])
def test_sigkill_at_any_moment_leaves_each_directory_old_or_new(
        tmp_path: Path, two_versions: dict[str, Path], where: str, n: int) -> None:
    """SIGKILL a real render while it stages files, between two directory swaps, and
    before it cleans up: every managed directory is then entirely old or entirely new,
    the user's files are untouched, and the next render completes and leaves nothing
    behind."""
    profiles = tmp_path / "profiles"
    out = tmp_path / "out"
    count = _VERSIONS
    args = ["render", "--all", "--profiles-dir", str(profiles), "--out", str(out)]
    expected = {v: tree(two_versions[v]) for v in ("old", "new")}
    old_units, new_units = (units_of_tree(expected[v]) for v in ("old", "new"))
    assert old_units.keys() == new_units.keys()
    assert sum(old_units[u] != new_units[u] for u in old_units) >= 6

    shutil.copytree(two_versions["old"], out)
    (out / "README.md").write_text("the user's\n")
    (out / "kustomize/overlays/team-01/extra.yaml").write_text("mine: true\n")
    write_profiles(profiles, count, "new")
    proc = subprocess.run([sys.executable, "-c", _KILLER, where, str(n), *args],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr

    now = tree(out)
    assert now.pop("README.md") == b"the user's\n"
    assert now.pop("kustomize/overlays/team-01/extra.yaml") == b"mine: true\n"
    staging = [k for k in now if k.startswith(".difygen-staging-")]
    for key in staging:
        del now[key]
    outcome = units_of_tree(now)
    assert outcome.keys() == old_units.keys()
    for unit, files in outcome.items():
        assert files in (old_units[unit], new_units[unit]), f"{unit} mixes old and new"
    swapped = sum(outcome[u] == new_units[u] != old_units[u] for u in outcome)
    if where == "file":
        assert swapped == 0, "a directory was swapped before every one was staged"
    elif where == "swap":
        assert swapped == n
    else:
        assert outcome == new_units

    assert run(*args).returncode == 0
    final = tree(out)
    assert final.pop("README.md") == b"the user's\n"
    assert final.pop("kustomize/overlays/team-01/extra.yaml") == b"mine: true\n"
    assert final == expected["new"], "the next render must complete the tree"
