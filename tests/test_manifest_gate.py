"""The CI gate (`validate --manifests`) through the real CLI, on the manifest corpus.

Every case under tests/cases/manifests/{positive,negative}/ is a file (*.yaml, *.json) or
a directory of them. Each finding it must produce is marked `# expect: <severity> <rule>`
on its line (for JSON, which has no comments, in `<file>.expect` as `LINE severity
rule`). Header lines set the run: `# kube-version: X`, `# exceptions: FILE` (beside the
case) and `# expect-exit: N` (default: 1 for negative, 0 for positive cases).
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.test_cli import run

CASES = REPO / "tests" / "cases" / "manifests"
_MARK = re.compile(r"# expect: ((?:error|warning) [a-z0-9-]+"
                   r"(?:, (?:error|warning) [a-z0-9-]+)*)$")
_HEADER = re.compile(r"^# (kube-version|exceptions|expect-exit): (\S+)$")
_SUFFIXES = (".yaml", ".json")


def cases(kind: str) -> list[Path]:
    return sorted(p for p in (CASES / kind).iterdir()
                  if p.is_dir() or p.suffix in _SUFFIXES)


def case_files(case: Path) -> list[Path]:
    if case.is_dir():
        return sorted(p for p in case.rglob("*") if p.suffix in _SUFFIXES)
    return [case]


def expected(case: Path) -> Counter[tuple[str, int, str, str]]:
    out: Counter[tuple[str, int, str, str]] = Counter()
    for path in case_files(case):
        rel = str(path.relative_to(REPO))
        marks = path.with_name(path.name + ".expect")
        if marks.is_file():
            for line in marks.read_text(encoding="utf-8").splitlines():
                number, severity, rule = line.split()
                out[(rel, int(number), severity, rule)] += 1
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = _MARK.search(line)
            if match:
                for severity, rule in re.findall(r"(error|warning) ([a-z0-9-]+)",
                                                 match.group(1)):
                    out[(rel, number, severity, rule)] += 1
    return out


def options(case: Path) -> dict[str, str]:
    if case.is_dir():
        return {}
    found = {}
    for line in case.read_text(encoding="utf-8").splitlines()[:5]:
        match = _HEADER.match(line)
        if match:
            found[match.group(1)] = match.group(2)
    return found


def validate(case: Path) -> tuple[int, list[dict[str, object]], str]:
    opts = options(case)
    args = ["validate", "--manifests", str(case.relative_to(REPO)), "--format", "json"]
    if "kube-version" in opts:
        args += ["--kube-version", opts["kube-version"]]
    if "exceptions" in opts:
        args += ["--exceptions", str((case.parent / opts["exceptions"]).relative_to(REPO))]
    proc = run(*args)
    findings = json.loads(proc.stdout)["findings"] if proc.returncode in (0, 1) else []
    return proc.returncode, findings, proc.stderr


@pytest.mark.parametrize("case", cases("negative") + cases("positive"),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_case_through_the_cli(case: Path) -> None:
    opts = options(case)
    default_exit = 1 if case.parent.name == "negative" else 0
    want_exit = int(opts.get("expect-exit", default_exit))
    code, findings, stderr = validate(case)
    assert code == want_exit, stderr
    if want_exit == 2:
        assert stderr.startswith("error: ") and "Traceback" not in stderr
        assert re.search(r"\S+:\d+(:\d+)?: ", stderr) or "no Kubernetes objects" in stderr
        return
    got = Counter((str(f["file"]), int(f["line"]), str(f["severity"]), str(f["rule"]))  # type: ignore[call-overload]
                  for f in findings)
    assert got == expected(case)


def test_security_exception_warnings_quote_the_catalog_reason() -> None:
    _, findings, _ = validate(CASES / "positive" / "security-exception.yaml")
    assert findings and all("must start as root" in str(f["message"]) for f in findings)
    assert all("catalog, component sandbox" in str(f["message"]) for f in findings)


def test_empty_stdin_fails_the_gate() -> None:
    for text in ("", "---\n# nothing\n"):
        proc = run("validate", "--manifests", "-", stdin=text)
        assert proc.returncode == 2
        assert "<stdin>: no Kubernetes objects" in proc.stderr


def test_empty_directory_fails_the_gate(tmp_path: Path) -> None:
    proc = run("validate", "--manifests", str(tmp_path))
    assert proc.returncode == 2 and "no Kubernetes objects" in proc.stderr


def test_own_output_tree_is_built_per_overlay() -> None:
    proc = run("validate", "--manifests", "output/", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    files = {str(f["file"]) for f in report["findings"]}
    assert not any("/helm/" in f for f in files)
    # Warnings from the shared base name the overlay they were built for.
    base = [f for f in report["findings"] if "/kustomize/base/" in str(f["file"])]
    assert base and all("(in output/kustomize/overlays/" in str(f["message"]) for f in base)
    text = run("validate", "--manifests", "output/")
    # Each overlay once: the base is never counted on its own as well.
    from generator.manifest_sources import collect
    sets = collect([REPO / "output"])
    assert sorted(Path(s.label).name for s in sets) == ["edge", "production", "small"]
    total = sum(len(s.manifests) for s in sets)
    assert f"in {total} objects" in text.stdout


def test_own_output_tree_overlays_equal_the_render(tmp_path: Path) -> None:
    from generator import profile_load
    from generator.manifest_sources import collect
    from generator.plan import plan_for
    from generator.targets.kustomize import render_overlay

    for built in collect([REPO / "output"]):
        plan = plan_for(profile_load.find(Path(built.label).name, None))
        want = sorted(render_overlay(plan).objects, key=_identity)
        assert sorted((m.obj for m in built.manifests), key=_identity) == want


def _identity(obj: dict[str, object]) -> tuple[str, str]:
    meta = obj["metadata"]
    assert isinstance(meta, dict)
    return str(obj["kind"]), str(meta["name"])


def test_edited_output_tree_fails_at_the_patch_line(tmp_path: Path) -> None:
    tree = tmp_path / "output"
    shutil.copytree(REPO / "output", tree)
    patch = tree / "kustomize/overlays/small/patches/deployment-dify-web.yaml"
    header = patch.read_text(encoding="utf-8").splitlines()[0]
    patch.write_text(header + "\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                     "  name: dify-web\nspec:\n  template:\n    spec:\n      containers:\n"
                     "      - name: web\n        securityContext:\n"
                     "          privileged: true\n", encoding="utf-8")
    proc = run("validate", "--manifests", str(tree), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    [bad] = [f for f in json.loads(proc.stdout)["findings"] if f["rule"] == "pss-privileged"]
    lines = patch.read_text(encoding="utf-8").splitlines()
    assert bad["file"] == str(patch)
    assert lines[int(bad["line"]) - 1].strip() == "privileged: true"
