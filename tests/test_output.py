"""Output a person can read: --quiet and --verbose, repeated notes summarised once, JUnit
with one testcase per object, and a progress bar for fleet renders on a terminal only."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from generator.report import format_junit
from generator.validate import validate_manifests

REPO = Path(__file__).resolve().parent.parent
DIFYGEN = str(Path(sys.executable).parent / "difygen")
CASES = REPO / "tests" / "cases" / "manifests"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DIFYGEN, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, check=False)


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("render")
    return {mode: run(*flags, "render", "--all", "--out", f"out-{mode}", cwd=work)
            for mode, flags in (("normal", ()), ("quiet", ("--quiet",)),
                                ("verbose", ("--verbose",)))}


def test_render_summarises_the_helm_notes_on_one_line(renders: dict[str, Any]) -> None:
    normal = renders["normal"]
    assert normal.returncode == 0, normal.stderr
    notes = [line for line in normal.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1, normal.stderr
    assert "edge, production, small" in notes[0] and "--verbose" in notes[0]


def test_verbose_shows_each_distinct_note_once_with_its_profiles(
        renders: dict[str, Any]) -> None:
    verbose = renders["verbose"]
    assert verbose.returncode == 0, verbose.stderr
    notes = [line for line in verbose.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == len(set(notes)) > 5
    bodies = [n.split("): ", 1)[1] for n in notes]
    assert len(bodies) == len(set(bodies)), "a note is repeated"
    assert any("(edge, production, small)" in n and "ResourceQuota" in n for n in notes)
    normal = renders["normal"].stderr.splitlines()[0]
    assert f"cannot carry {len(notes)} settings" in normal


def test_quiet_render_prints_nothing_and_writes_the_same(renders: dict[str, Any],
                                                         tmp_path: Path) -> None:
    quiet = renders["quiet"]
    assert quiet.returncode == 0
    assert quiet.stdout == "" and quiet.stderr == ""


def test_quiet_still_prints_errors(tmp_path: Path) -> None:
    proc = run("--quiet", "render", "no-such-profile", cwd=tmp_path)
    assert proc.returncode == 2 and "no-such-profile" in proc.stderr


def test_quiet_and_verbose_together_are_a_usage_error(tmp_path: Path) -> None:
    proc = run("--quiet", "--verbose", "profiles", cwd=tmp_path)
    assert proc.returncode == 2 and "not both" in proc.stderr


def test_validate_shows_a_long_repeated_reason_once(tmp_path: Path) -> None:
    normal = run("validate", "small", cwd=tmp_path)
    verbose = run("--verbose", "validate", "small", cwd=tmp_path)
    quiet = run("--quiet", "validate", "small", cwd=tmp_path)
    assert normal.returncode == verbose.returncode == quiet.returncode == 0
    reason = "dify-sandbox must start as root"
    warnings = [line for line in verbose.stdout.splitlines() if "[warning]" in line]
    assert len(warnings) >= 3 and all(reason in w for w in warnings)
    assert normal.stdout.count(reason) == 1
    assert normal.stdout.count("[warning]") == len(warnings)
    assert normal.stdout.count("as above") == len(warnings) - 1
    assert max(map(len, normal.stdout.splitlines()[1:-1])) < 250
    assert "[warning]" not in quiet.stdout
    assert quiet.stdout.splitlines()[-1] == normal.stdout.splitlines()[-1]


def test_junit_has_one_testcase_per_object_with_its_failures_inside() -> None:
    result = validate_manifests([CASES / "negative" / "brief-example.yaml",
                                 CASES / "negative" / "schema.yaml"])
    root = ET.fromstring(format_junit(result).encode("utf-8"))
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == result.objects == int(root.get("tests", "-1"))
    labels = [(c.get("classname"), c.get("name")) for c in cases]
    assert len(labels) == len(set(labels))
    failed = [c for c in cases if c.find("failure") is not None]
    assert int(root.get("failures", "-1")) == len(failed) > 0
    errors = [f for f in result.findings if f.severity == "error"]
    listed = "\n".join(c.findtext("failure") or "" for c in failed)
    for f in errors:  # every error is inside its object's testcase
        assert f"({f.rule})" in listed and f.message in listed
    pod = next(c for c in cases if c.get("name") == "Pod/t/example")
    failure = pod.find("failure")
    assert failure is not None and "pss-run-as-user" in (failure.get("type") or "")
    assert root.find("./testsuite/properties/property[@name='rules']") is not None


def test_junit_of_a_full_profile_is_one_case_per_object(tmp_path: Path) -> None:
    proc = run("validate", "small", "--format", "junit", cwd=tmp_path)
    assert proc.returncode == 0
    root = ET.fromstring(proc.stdout)
    summary = run("validate", "small", cwd=tmp_path).stdout.splitlines()[-1]
    objects = int(summary.split(" in ")[1].split()[0])
    assert int(root.get("tests", "-1")) == objects == len(root.findall(".//testcase"))


# --- progress bar -------------------------------------------------------------------------

@pytest.fixture
def fleet_dir(tmp_path: Path) -> Path:
    envs = "".join(f"  - {{name: env-{i}, profile: {'edge' if i % 2 else 'small'}}}\n"
                   for i in range(6))
    (tmp_path / "fleet.yaml").write_text(f"environments:\n{envs}")
    return tmp_path


def _render_with_stderr_on_a_pty(cwd: Path, *args: str) -> tuple[int, str]:
    master, slave = pty.openpty()
    proc = subprocess.Popen([DIFYGEN, *args], cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 600)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=600), b"".join(chunks).decode("utf-8", "replace")


def test_fleet_render_shows_a_progress_bar_on_a_terminal(fleet_dir: Path) -> None:
    code, terminal = _render_with_stderr_on_a_pty(fleet_dir, "render", "--fleet",
                                                  "fleet.yaml", "--out", "out")
    assert code == 0, terminal
    frames = [f for f in terminal.replace("\r\n", "\n").split("\r") if "[" in f]
    assert any("rendering environments [" in f for f in frames), terminal
    assert "] 6/6" in terminal and "#" * 30 in terminal
    assert any("/6" in f and "." in f.split("]")[0] for f in frames), "no partial bar"


def test_no_progress_bar_when_piped_or_quiet(fleet_dir: Path) -> None:
    piped = run("render", "--fleet", "fleet.yaml", "--out", "out", cwd=fleet_dir)
    assert piped.returncode == 0, piped.stderr
    assert "rendering environments" not in piped.stderr
    code, terminal = _render_with_stderr_on_a_pty(fleet_dir, "--quiet", "render", "--fleet",
                                                  "fleet.yaml", "--out", "out2")
    assert code == 0 and "rendering environments" not in terminal, terminal
