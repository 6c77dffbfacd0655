"""The README's kubeconform recipe, run verbatim with the real kubeconform (docs/engines.md).

The recipe is read from README.md (the fenced block after the `kubeconform-recipe` marker) and
executed with bash in a directory whose `output/` is a fresh render: the built-in profiles, and
the example profiles of docs/examples/profiles when that directory has any.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from generator.profile_load import BUILTIN_PROFILES

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_PROFILES = REPO / "docs" / "examples" / "profiles"
MARKER = "<!-- kubeconform-recipe:"
SUMMARY = re.compile(r"^Summary: (\d+) resources? found parsing stdin - Valid: (\d+), "
                     r"Invalid: (\d+), Errors: (\d+), Skipped: (\d+)$", re.MULTILINE)

pytestmark = [pytest.mark.engines, pytest.mark.kustomize]


def readme_recipe() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.count(MARKER) == 1, "README.md must mark exactly one kubeconform recipe"
    after = text[text.index(MARKER):]
    block = re.search(r"```sh\n(.*?)```", after, re.DOTALL)
    assert block, "no ```sh block after the kubeconform-recipe marker in README.md"
    return block.group(1)


def _render(out: Path, profiles: list[str], profiles_dir: Path | None = None) -> None:
    command = [str(Path(sys.executable).parent / "difygen"), "render", *profiles,
               "--out", str(out)]
    if profiles_dir is not None:
        command += ["--profiles-dir", str(profiles_dir)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def _trees(tmp_path: Path) -> dict[str, tuple[Path, list[str]]]:
    """Working directories whose output/ holds a fresh render, with the overlays expected."""
    trees = {}
    builtin = tmp_path / "builtin"
    _render(builtin / "output", list(BUILTIN_PROFILES))
    trees["builtin"] = (builtin, sorted(BUILTIN_PROFILES))
    examples = sorted(p.stem for p in EXAMPLE_PROFILES.glob("*.yaml")) \
        if EXAMPLE_PROFILES.is_dir() else []
    if examples:
        where = tmp_path / "examples"
        _render(where / "output", examples, EXAMPLE_PROFILES)
        trees["examples"] = (where, examples)
    return trees


def _run_recipe(cwd: Path, kubeconform: Path, kubectl: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(kubeconform.parent), str(Path(kubectl).parent),
                            str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return subprocess.run(["bash", "-c", readme_recipe()], cwd=cwd, capture_output=True,
                          text=True, check=False, env={**os.environ, "PATH": path})


def _documents(kubectl: str, overlay: Path) -> int:
    built = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True,
                           check=True).stdout
    return sum(1 for chunk in re.split(r"^---$", built, flags=re.MULTILINE) if chunk.strip())


def test_readme_recipe_passes_every_overlay(tmp_path: Path, kubeconform: Path,
                                            kubectl: str) -> None:
    for name, (cwd, overlays) in _trees(tmp_path).items():
        done = _run_recipe(cwd, kubeconform, kubectl)
        assert done.returncode == 0, f"{name}: recipe failed:\n{done.stdout}\n{done.stderr}"
        summaries = SUMMARY.findall(done.stdout)
        # The loop visits overlays in glob order: sorted names.
        assert len(summaries) == len(overlays), done.stdout
        for overlay, (found, valid, invalid, errors, skipped) in zip(
                overlays, summaries, strict=True):
            expected = _documents(kubectl, cwd / "output" / "kustomize" / "overlays" / overlay)
            # kubeconform saw every object kustomize built, and judged each one valid
            # against a schema (none skipped for want of one).
            assert (int(found), int(valid)) == (expected, expected), (overlay, done.stdout)
            assert (invalid, errors, skipped) == ("0", "0", "0"), (overlay, done.stdout)


def test_readme_recipe_fails_on_an_unknown_field(tmp_path: Path, kubeconform: Path,
                                                 kubectl: str) -> None:
    cwd, _ = _trees(tmp_path)["builtin"]
    quota = cwd / "output" / "kustomize" / "overlays" / "small" / "quota.yaml"
    text = quota.read_text(encoding="utf-8")
    assert "\n  hard:\n" in text
    quota.write_text(text.replace("\n  hard:\n", "\n  hardLimits:\n"), encoding="utf-8")
    done = _run_recipe(cwd, kubeconform, kubectl)
    assert done.returncode != 0
    assert "hardLimits" in done.stdout + done.stderr
    # Only the tampered overlay is invalid; the loop stops at it (set -e).
    assert re.search(r"ResourceQuota dify-quota is invalid", done.stdout), done.stdout

