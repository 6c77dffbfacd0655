"""Rendering is a pure function of the profiles: same bytes every time, from anywhere."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "generator"]
REPO = Path(__file__).resolve().parent.parent


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def render(out: Path, *args: str, cwd: Path | None = None,
           hashseed: str | None = None) -> dict[str, bytes]:
    env = dict(os.environ)
    if hashseed is not None:
        env["PYTHONHASHSEED"] = hashseed
    # the package is installed editable, so `-m generator` works from any directory
    proc = subprocess.run([*CLI, "render", *args, "--out", str(out)], capture_output=True,
                          text=True, timeout=120, cwd=cwd, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    files = tree(out)
    assert files, "nothing rendered"
    return files


@pytest.fixture
def custom(tmp_path: Path) -> Path:
    """A custom profile with a custom parent, so paths and `extends` resolution matter."""
    d = tmp_path / "profiles"
    d.mkdir()
    (d / "base.yaml").write_text("extends: production\nnamespace: team\n")
    (d / "team.yaml").write_text(
        "extends: ./base.yaml\ncomponents:\n  api:\n    scheduling:\n      nodeSelector: "
        "{pool: apps, zone: b, arch: amd64}\n      tolerations:\n        - {key: dedicated, "
        "operator: Equal, value: dify, effect: NoSchedule}\n")
    return d


def test_two_runs_are_byte_identical(tmp_path: Path) -> None:
    first = render(tmp_path / "a", "--all")
    second = render(tmp_path / "b", "--all")
    assert first == second
    for name, data in first.items():
        assert data.endswith(b"\n") and b"\r" not in data, name


def test_hash_seed_does_not_matter(tmp_path: Path, custom: Path) -> None:
    seeds = ["0", "1", "12345", str(random.SystemRandom().randrange(1, 2**32 - 1))]
    outputs = [render(tmp_path / f"seed-{seed}", "--all", "--profiles-dir", str(custom),
                      hashseed=seed) for seed in seeds]
    for seed, files in zip(seeds[1:], outputs[1:], strict=True):
        assert files == outputs[0], f"PYTHONHASHSEED={seed} changed the output"


def test_working_directory_and_path_style_do_not_matter(tmp_path: Path, custom: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    from_root = render(tmp_path / "from-root", "--all", "--profiles-dir", str(custom),
                       cwd=Path("/"))
    relative = os.path.relpath(custom, work)
    from_tmp = render(tmp_path / "from-tmp", "--all", "--profiles-dir", relative, cwd=work)
    from_repo = render(tmp_path / "from-repo", "--all", "--profiles-dir", str(custom),
                       cwd=REPO)
    assert from_root == from_tmp == from_repo
    assert any(k.startswith("kustomize/overlays/team/") for k in from_root)


def test_profile_order_does_not_matter(tmp_path: Path) -> None:
    assert render(tmp_path / "a", "small", "edge") == render(tmp_path / "b", "edge", "small")
