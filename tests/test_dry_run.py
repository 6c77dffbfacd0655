"""`render --dry-run` reports what would be added, changed and removed, and writes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "generator"]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(root.rglob("*"))}


def reported(stdout: str, verb: str, out: Path) -> set[str]:
    prefix = f"would {verb}: {out}/"
    return {line[len(prefix):] for line in stdout.splitlines() if line.startswith(prefix)}


def test_dry_run_on_a_missing_tree_lists_every_file_and_creates_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = run("render", "small", "--dry-run", "--out", out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [], "not even a lock file"
    added = reported(proc.stdout, "add", out)
    ref = tmp_path / "ref"
    run("render", "small", "--out", ref)
    written = {p.relative_to(ref).as_posix() for p in ref.rglob("*") if p.is_file()}
    assert added == written
    assert reported(proc.stdout, "change", out) == set()
    assert reported(proc.stdout, "remove", out) == set()
    assert "did " not in proc.stdout


def test_dry_run_reports_added_changed_removed_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run("render", "small", "edge", "--out", out)
    # what the dry run must find: one file edited, one deleted, one stale file in a managed
    # prefix; plus a file of the user's outside the managed prefixes it must not mention
    changed = "kustomize/overlays/small/kustomization.yaml"
    deleted = "kustomize/base/api.yaml"
    stale = "kustomize/overlays/small/patches/old-patch.yaml"
    (out / changed).write_text((out / changed).read_text() + "# edited by hand\n")
    (out / deleted).unlink()
    (out / stale).write_text("kind: ConfigMap\n")
    (out / "NOTES.md").write_text("mine\n")
    before = snapshot(out)
    parent_before = sorted(p.name for p in tmp_path.iterdir())

    proc = run("render", "small", "--dry-run", "--out", out)

    assert reported(proc.stdout, "add", out) == {deleted}
    assert reported(proc.stdout, "change", out) == {changed}
    assert reported(proc.stdout, "remove", out) == {stale}
    # edge is not in this render: its overlay is not this run's to remove
    assert not any("overlays/edge" in line for line in proc.stdout.splitlines())
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == parent_before


def test_dry_run_after_render_is_up_to_date(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run("render", "production", "--out", out)
    before = snapshot(out)
    proc = run("render", "production", "--dry-run", "--out", out)
    assert "would " not in proc.stdout
    assert f"{out}: up to date (production)" in proc.stdout
    assert snapshot(out) == before
