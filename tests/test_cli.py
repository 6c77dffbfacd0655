"""The CLI end to end, through a real subprocess: exit codes, formats, files written."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import REPO, cli_in_process

BRIEF = REPO / "tests" / "cases" / "manifests" / "negative" / "brief-example.yaml"


def run(*args: str, cwd: Path | None = None, stdin: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True,
                          text=True, cwd=cwd or REPO, input=stdin, env=full_env,
                          timeout=120, check=False)


def test_version_and_help() -> None:
    version = run("--version")
    assert version.returncode == 0 and version.stdout.startswith("difygen ")
    for command in ("render", "validate", "check", "explain", "profiles", "init"):
        helped = run(command, "--help")
        assert helped.returncode == 0, command
        assert "Usage:" in helped.stdout


def test_render_without_profiles_is_a_usage_error(tmp_path: Path) -> None:
    proc = run("render", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "--all" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_profiles_lists_the_extends_chain() -> None:
    proc = run("profiles")
    assert proc.returncode == 0
    line = next(x for x in proc.stdout.splitlines() if x.startswith("production"))
    assert "production -> small -> edge" in line


def test_explain_shows_totals_budget_and_helm_gaps() -> None:
    proc = run("explain", "production")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "total at maximum" in out and "total at minimum" in out
    assert "database connections at maximum scale" in out
    assert "api               3-10" in out
    assert "what the Helm values cannot carry" in out
    assert "sandbox: dify-sandbox must start as root" in out


def test_init_scaffolds_a_profile_that_renders(tmp_path: Path) -> None:
    made = run("init", "team-a", "--extends", "small", "--profiles-dir", str(tmp_path / "p"))
    assert made.returncode == 0, made.stderr
    again = run("init", "team-a", "--profiles-dir", str(tmp_path / "p"))
    assert again.returncode == 2 and "already exists" in again.stderr
    out = tmp_path / "out"
    proc = run("render", "team-a", "--profiles-dir", str(tmp_path / "p"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert (out / "kustomize" / "overlays" / "team-a" / "kustomization.yaml").is_file()
    assert (out / "helm" / "team-a" / "values.yaml").is_file()


def test_validate_builtin_profiles_is_clean() -> None:
    proc = run("validate", "edge", "small", "production")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 errors" in proc.stdout or proc.stdout.startswith("0 errors") or (
        "0 errors" in proc.stdout)


def test_validate_the_brief_example_finds_each_problem_at_its_line() -> None:
    proc = run("validate", "--manifests", str(BRIEF))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    expected = []
    for number, line in enumerate(BRIEF.read_text().splitlines(), start=1):
        if "# expect: error" in line:
            expected.append((number, line.split("# expect: error", 1)[1].split()[0]))
    assert len(expected) >= 3
    for number, rule in expected:
        assert f":{number}:" in proc.stdout and f"({rule})" in proc.stdout, (number, rule)


def test_validate_formats_parse() -> None:
    as_json = run("validate", "--manifests", str(BRIEF), "--format", "json")
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    assert data["findings"] and all("rule" in f and "line" in f for f in data["findings"])
    junit = run("validate", "--manifests", str(BRIEF), "--format", "junit")
    root = ET.fromstring(junit.stdout)
    assert root.iter("testcase") and any(True for _ in root.iter("failure"))
    github = run("validate", "--manifests", str(BRIEF), env={"GITHUB_ACTIONS": "true"})
    assert github.stdout.startswith("::error file=")


def test_validate_reads_kustomize_output_from_stdin(kubectl: str) -> None:
    built = subprocess.run([kubectl, "kustomize", str(REPO / "output/kustomize/overlays/edge")],
                           capture_output=True, text=True, check=True, timeout=120).stdout
    proc = run("validate", "--manifests", "-", stdin=built)
    assert proc.returncode == 0, proc.stdout
    assert "(pss-run-as-user)" in proc.stdout  # the sandbox exception, as a warning


def test_validate_bad_input_is_exit_2() -> None:
    proc = run("validate", "--manifests", "-", stdin="kind: [unclosed\n")
    assert proc.returncode == 2 and "<stdin>:" in proc.stderr
    assert "Traceback" not in proc.stderr
    bad_format = run("validate", "small", "--format", "xml")
    assert bad_format.returncode == 2


@pytest.fixture
def copy_of_output(tmp_path: Path) -> Path:
    out = tmp_path / "output"
    shutil.copytree(REPO / "output", out)
    return out


def test_check_passes_on_the_committed_output(copy_of_output: Path) -> None:
    proc = run("check", "--out", str(copy_of_output))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_check_exits_3_after_any_byte_changes(copy_of_output: Path) -> None:
    target = copy_of_output / "kustomize" / "overlays" / "small" / "hpa.yaml"
    data = bytearray(target.read_bytes())
    data[-2] = ord("x") if data[-2] != ord("x") else ord("y")
    target.write_bytes(bytes(data))
    proc = run("check", "--out", str(copy_of_output))
    assert proc.returncode == 3
    assert "--- " in proc.stdout and "+++ " in proc.stdout and "hpa.yaml" in proc.stdout


def test_check_notices_a_missing_and_an_extra_file(copy_of_output: Path) -> None:
    (copy_of_output / "helm" / "edge" / "values.yaml").unlink()
    (copy_of_output / "kustomize" / "base" / "stray.yaml").write_text(
        "# Generated by difygen (base)\nx: 1\n")
    (copy_of_output / "kustomize" / "base" / "mine.yaml").write_text("x: 1\n")
    proc = run("check", "--out", str(copy_of_output))
    assert proc.returncode == 3
    assert "values.yaml" in proc.stdout and "stray.yaml" in proc.stdout
    # a file without difygen's header is the user's: not drift, but named as kept
    assert "mine.yaml" not in proc.stdout
    assert "kept (not difygen's" in proc.stderr and "base/mine.yaml" in proc.stderr


def test_schemas_export_writes_kubeconform_files(tmp_path: Path) -> None:
    proc = run("schemas", "export", str(tmp_path / "s"), "--kube-version", "1.35")
    assert proc.returncode == 0, proc.stderr
    schema = json.loads((tmp_path / "s" / "deployment-apps-v1.json").read_text())
    assert schema["additionalProperties"] is False


def test_jobs_read_a_big_file_side_by_side_with_the_same_findings(tmp_path: Path) -> None:
    """`--jobs` changes how many processes read, never what is found: the brief's bad
    example repeated past the size at which reading forks, read by one and by three."""
    from generator.manifest_fast import PARALLEL_MIN_CHARS

    doc = BRIEF.read_text(encoding="utf-8").strip("\n")
    copies = PARALLEL_MIN_CHARS // len(doc) + 2
    big = tmp_path / "big.yaml"
    big.write_text("\n---\n".join(doc.replace("name: ", f"name: c{i}-", 1)
                                  for i in range(copies)) + "\n", encoding="utf-8")
    one = run("validate", "--manifests", str(big), "--jobs", "1", "--format", "json")
    three = run("validate", "--manifests", str(big), "-j", "3", "--format", "json")
    piped = run("validate", "--manifests", "-", "-j", "2", "--format", "json",
                stdin=big.read_text(encoding="utf-8"))
    assert one.returncode == three.returncode == piped.returncode == 1
    assert one.stdout == three.stdout
    assert piped.stdout == one.stdout.replace(str(big), "<stdin>")
    assert len(json.loads(one.stdout)["findings"]) >= copies
    for bad in ("0", "x"):
        refused = run("validate", "--manifests", str(big), "--jobs", bad)
        assert refused.returncode == 2 and "--jobs" in refused.stderr
    assert run("validate", "small", "--jobs", "2").returncode == 2


def test_the_command_leaves_without_teardown_yet_delivers_all_output_and_exit_codes(
        tmp_path: Path) -> None:
    """`difygen` (generator.cli.entry) ends with os._exit, skipping the interpreter's
    teardown: everything printed must still arrive through a pipe, and each exit code must
    be what main() raised. The in-process main() is the reference."""
    from generator import cli

    big = tmp_path / "many.yaml"
    # Many findings: far more output than one pipe buffer holds (64 KiB).
    big.write_text("---\n".join(BRIEF.read_text(encoding="utf-8") for _ in range(200)),
                   encoding="utf-8")
    unbuffered_off = {k: v for k, v in os.environ.items()
                      if k not in ("PYTHONUNBUFFERED", "GITHUB_ACTIONS")}
    for args in (["validate", "--manifests", str(big)],
                 ["validate", "--manifests", str(big), "--format", "json"],
                 ["--version"],  # written with sys.stdout.write: only the flush sends it
                 ["render", "--bogus"],
                 ["explain", "no-such-profile"]):
        expected = cli_in_process(args)
        # Block-buffered, as a pipe is by default (a developer shell may set
        # PYTHONUNBUFFERED, which would hide a missing flush).
        proc = subprocess.run([sys.executable, "-m", "generator", *args],
                              capture_output=True, text=True, cwd=REPO, timeout=120,
                              check=False, env=unbuffered_off)
        assert proc.returncode == expected[0], args
        assert proc.stdout == expected[1], args
        assert proc.stdout or proc.returncode == 2, args
        if args[0] == "validate":
            assert len(proc.stdout) > 65536, args
    assert cli._exit_code(None) == 0 and cli._exit_code(3) == 3
    assert cli._exit_code(256 + 2) == 2


def test_the_console_script_runs_the_entry_point() -> None:
    """pyproject's `difygen` script and `python -m generator` both end in cli.entry."""
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["difygen"] == "generator.cli:entry"
    assert "entry()" in (REPO / "generator" / "__main__.py").read_text()


def test_version_imports_neither_the_cli_framework_nor_typing() -> None:
    """`difygen --version` answers from plain constants: click and even typing stay
    unimported, which is what keeps its start-up short."""
    # entry() leaves with os._exit: the probe wraps it to list the modules loaded by then.
    probe = ("import os, runpy, sys\n"
             "real_exit = os._exit\n"
             "def leave(code):\n"
             "    sys.stderr.write(','.join(sorted(sys.modules)) + '\\n')\n"
             "    sys.stderr.flush()\n"
             "    real_exit(code)\n"
             "os._exit = leave\n"
             "sys.argv = ['difygen', '--version']\n"
             "runpy.run_module('generator', run_name='__main__')\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=REPO, timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("difygen ")
    loaded = set(proc.stderr.strip().split(","))
    assert "generator.cli" in loaded
    assert not loaded & {"click", "typing", "generator.commands"}
