"""The CI recipes as documented, run as written.

A recipe is a step of docs/ci/github-actions.yml or the script of docs/ci/gitlab-ci.yml,
or a ```sh block in README.md or docs/ that starts with `set -euo pipefail`. Each is run,
with its exact text, in a scratch GitOps repository holding a copy of this repository's
committed output/, with the real difygen and kubectl on PATH. A recipe must pass there, and
must fail when `kubectl kustomize` fails or builds nothing: a job that pipes nothing into
`difygen validate` must not go green.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
GITHUB = REPO / "docs" / "ci" / "github-actions.yml"
GITLAB = REPO / "docs" / "ci" / "gitlab-ci.yml"
RECIPE_START = "set -euo pipefail"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


@dataclass(frozen=True)
class Script:
    where: str  # file:line or file:step name
    text: str
    installs: bool  # the install step: not run here (it needs the published package)


def _markdown_files() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def shell_blocks() -> list[Script]:
    """Every ```sh block of the README and docs/."""
    found = []
    for path in _markdown_files():
        text = path.read_text(encoding="utf-8")
        for match in _FENCE.finditer(text):
            if match.group(1) in ("sh", "bash", "shell", "console"):
                line = text.count("\n", 0, match.start()) + 1
                found.append(Script(f"{path.relative_to(REPO)}:{line}", match.group(2),
                                    installs=False))
    return found


def github_steps() -> list[Script]:
    workflow = yaml.safe_load(GITHUB.read_text())
    steps = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if "run" not in step:
                continue
            if "if" in step and not _github_condition(step["if"]):
                continue  # a fleet repository's step; this scratch repository has none
            steps.append(Script(f"{GITHUB.name}: {step['name']}", step["run"],
                                installs="pip install" in step["run"]))
    return steps


def _github_condition(expression: str) -> bool:
    """The conditions the example uses: hashFiles('fleet.yaml') == '' or != ''."""
    match = re.fullmatch(r"hashFiles\('fleet\.yaml'\) (==|!=) ''", expression.strip())
    assert match, f"the test does not understand the condition {expression!r}"
    return match.group(1) == "=="  # the scratch repository has no fleet.yaml


def gitlab_script() -> Script:
    job = yaml.safe_load(GITLAB.read_text())["difygen"]
    # the runner runs the items of `script` one after the other in one shell and stops at
    # the first that fails
    return Script(f"{GITLAB.name}: difygen.script", "\n".join(job["script"]),
                  installs=False)


def recipes() -> list[Script]:
    blocks = [b for b in shell_blocks() if b.text.lstrip().startswith(RECIPE_START)]
    return [*blocks, *(s for s in github_steps() if not s.installs), gitlab_script()]


def _has_pipe(text: str) -> bool:
    for line in text.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            if "|" in list(lexer):
                return True
        except ValueError:  # an unbalanced quote in prose-like text: not a pipeline
            continue
    return False


def _sets_pipefail_before_pipe(text: str) -> bool:
    # a pipeline continued over lines (`... | kubeconform \`) is one line to the shell
    lines = text.replace("\\\n", " ").splitlines()
    first_pipe = next(i for i, line in enumerate(lines) if _has_pipe(line))
    return any(re.match(r"\s*set -[a-z]*o pipefail\b|\s*set -euo pipefail\b", line)
               for line in lines[:first_pipe])


ALL_SCRIPTS = [*shell_blocks(), *github_steps(), gitlab_script()]
RECIPES = recipes()


def test_the_recipes_are_found() -> None:
    where = {r.where.split(":")[0] for r in RECIPES}
    assert {"README.md", GITHUB.name, GITLAB.name} <= where, where
    assert any("kubectl kustomize" in r.text for r in RECIPES)


@pytest.mark.parametrize("script", [s for s in ALL_SCRIPTS if _has_pipe(s.text)],
                         ids=lambda s: s.where)
def test_every_documented_pipe_sets_pipefail_first(script: Script) -> None:
    """A pipeline's status is its last command's: without pipefail a failing kustomize in
    `kubectl kustomize DIR | difygen validate --manifests -` would not fail the job."""
    assert _sets_pipefail_before_pipe(script.text), script.text


@pytest.fixture
def gitops(tmp_path: Path) -> Path:
    """A scratch GitOps repository: the committed output/ and nothing else."""
    repo = tmp_path / "gitops"
    shutil.copytree(REPO / "output", repo / "output")
    return repo


def _path(*first: Path) -> str:
    return ":".join([*map(str, first), str(BIN), "/usr/local/bin", "/usr/bin", "/bin"])


def _run(script: Script, cwd: Path, path: str) -> subprocess.CompletedProcess[str]:
    # plain `bash -e`, the strictest shell either CI might use: the recipe's own
    # `set -euo pipefail` has to do the work
    return subprocess.run(["bash", "--noprofile", "--norc", "-e", "-c", script.text],
                          cwd=cwd, env={"PATH": path, "HOME": str(cwd), "LC_ALL": "C.UTF-8"},
                          capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("recipe", RECIPES, ids=lambda s: s.where)
def test_recipe_passes_on_difygens_own_output(recipe: Script, gitops: Path) -> None:
    proc = _run(recipe, gitops, _path())
    assert proc.returncode == 0, f"{recipe.where}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    if "--format junit" in recipe.text:
        reports = sorted(gitops.glob("*.xml"))
        assert reports and all(r.read_text().startswith("<?xml") for r in reports)


def _fake_kubectl(directory: Path, body: str) -> Path:
    directory.mkdir()
    fake = directory / "kubectl"
    fake.write_text(f"#!/bin/sh\n{body}\n")
    fake.chmod(0o755)
    return directory


KUSTOMIZE_RECIPES = [r for r in RECIPES if "kubectl kustomize" in r.text]


@pytest.mark.slow
@pytest.mark.parametrize("recipe", KUSTOMIZE_RECIPES, ids=lambda s: s.where)
def test_recipe_fails_when_kustomize_fails(recipe: Script, gitops: Path,
                                           tmp_path: Path) -> None:
    broken = _fake_kubectl(tmp_path / "broken", 'echo "error: accumulating resources" >&2\n'
                                                "exit 1")
    proc = _run(recipe, gitops, _path(broken))
    assert proc.returncode != 0, f"{recipe.where} passed with a failing kustomize"


@pytest.mark.slow
@pytest.mark.parametrize("recipe", KUSTOMIZE_RECIPES, ids=lambda s: s.where)
def test_recipe_fails_when_kustomize_builds_no_objects(recipe: Script, gitops: Path,
                                                       tmp_path: Path) -> None:
    empty = _fake_kubectl(tmp_path / "empty", "exit 0")
    proc = _run(recipe, gitops, _path(empty))
    assert proc.returncode != 0, f"{recipe.where} passed on zero objects"


@pytest.mark.slow
def test_github_step_fails_on_a_really_broken_kustomization(gitops: Path) -> None:
    step = next(s for s in github_steps() if "kubectl kustomize" in s.text)
    kustomization = gitops / "output" / "kustomize" / "overlays" / "small" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "resources:\n- missing.yaml\n")
    proc = _run(step, gitops, _path())
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "missing.yaml" in proc.stderr


def test_the_pipefail_check_would_catch_a_missing_pipefail() -> None:
    assert not _sets_pipefail_before_pipe("for o in x; do\n  kubectl kustomize $o | difygen"
                                          " validate --manifests -\ndone\n")
    assert _sets_pipefail_before_pipe("set -euo pipefail\nkubectl kustomize x | difygen v\n")
    assert not _has_pipe("difygen validate --manifests - # a | in a comment\n")
