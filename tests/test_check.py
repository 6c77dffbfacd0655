"""Drift detection between expected output and a directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.check import EXIT_STALE, compare
from generator.errors import UsageError

EXPECTED = {
    "kustomize/base/kustomization.yaml": "resources:\n- api.yaml\n",
    "kustomize/base/api.yaml": "kind: Deployment\nreplicas: 2\n",
    "helm/small/values.yaml": "api:\n  replicas: 2\n",
}


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))


def test_identical_tree_is_clean(tmp_path: Path) -> None:
    write(tmp_path, EXPECTED)
    (tmp_path / ".gitkeep").write_text("", encoding="utf-8")
    drift = compare(EXPECTED, tmp_path)
    assert not drift.stale and drift.diff == "" and drift.exit_code == 0


def test_one_byte_edit_is_reported(tmp_path: Path) -> None:
    write(tmp_path, EXPECTED)
    (tmp_path / "kustomize/base/api.yaml").write_bytes(b"kind: Deployment\nreplicas: 3\n")
    drift = compare(EXPECTED, tmp_path)
    assert drift.changed == ("kustomize/base/api.yaml",)
    assert drift.added == () and drift.removed == ()
    assert drift.exit_code == EXIT_STALE
    assert "--- a/kustomize/base/api.yaml\n+++ b/kustomize/base/api.yaml\n" in drift.diff
    assert "-replicas: 3\n+replicas: 2\n" in drift.diff


def test_added_and_removed(tmp_path: Path) -> None:
    write(tmp_path, {k: v for k, v in EXPECTED.items() if not k.startswith("helm")})
    write(tmp_path, {"kustomize/overlays/old/kustomization.yaml": "x: 1"})
    drift = compare(EXPECTED, tmp_path)
    assert drift.added == ("helm/small/values.yaml",)
    assert drift.removed == ("kustomize/overlays/old/kustomization.yaml",)
    assert "+++ /dev/null" in drift.diff and "--- /dev/null" in drift.diff
    assert "\\ No newline at end of file" in drift.diff


def test_missing_dir_means_everything_is_added(tmp_path: Path) -> None:
    drift = compare(EXPECTED, tmp_path / "nothing")
    assert drift.added == tuple(sorted(EXPECTED))


def test_paths_must_be_relative(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        compare({"../x.yaml": ""}, tmp_path)
