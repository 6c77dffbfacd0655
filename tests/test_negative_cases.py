"""The negative corpus: every bad input gets a positioned answer, exit 2, and no output.

Each directory under tests/cases/negative/ is one case: the input files (profile.yaml and
any parents, or manifest.yaml) and expected.yaml with

  args      the CLI arguments; "{dir}" is the case directory, "{out}" the output directory
  exit      the expected exit code
  fragment  a piece of the message
  file, line, column, key_path   where the input parsed far enough to say where
  generate  "big": write a multi-megabyte profile.yaml at test time (not committed)

The real CLI runs in a subprocess from a scratch directory holding a copy of the inputs,
so messages name files as "case/<file>".
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

CASES = Path(__file__).parent / "cases" / "negative"
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())
# Only a guard against a hang: how fast an answer comes is the benchmark's business.
TIMEOUT_SECONDS = 300.0
EXPECTED_KEYS = {"args", "exit", "fragment", "file", "line", "column", "key_path", "generate"}


def _expected(name: str) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load((CASES / name / "expected.yaml").read_text())
    unknown = set(spec) - EXPECTED_KEYS
    assert not unknown, f"{name}/expected.yaml: unknown keys {sorted(unknown)}"
    return spec


def _stage(name: str, spec: dict[str, Any], scratch: Path) -> Path:
    case_dir = scratch / "case"
    case_dir.mkdir()
    for src in (CASES / name).iterdir():
        if src.name != "expected.yaml":
            shutil.copy2(src, case_dir / src.name)
    if spec.get("generate") == "big":
        # 3.5 MB of valid YAML comments: refused for its size, before any parsing
        (case_dir / "profile.yaml").write_text("# filler, filler, filler, filler\n" * 110_000)
    elif "generate" in spec:
        pytest.fail(f"{name}: unknown generate: {spec['generate']!r}")
    return case_dir


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(root.rglob("*"))}


def test_corpus_is_large_enough() -> None:
    assert len(NAMES) >= 45


@pytest.mark.parametrize("name", NAMES)
def test_negative_case(name: str, tmp_path: Path) -> None:
    spec = _expected(name)
    case_dir = _stage(name, spec, tmp_path)
    out = tmp_path / "out"
    args = [str(a).replace("{dir}", str(case_dir)).replace("{out}", str(out))
            for a in spec["args"]]
    before = _snapshot(tmp_path)

    proc = subprocess.run([sys.executable, "-m", "generator", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                          check=False)

    err = proc.stderr
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    assert proc.returncode == spec["exit"], err
    assert spec["fragment"] in err, err
    if "line" in spec:
        where = f"case/{spec.get('file', 'profile.yaml')}:{spec['line']}:{spec['column']}: "
        assert where in err, f"expected {where!r} in:\n{err}"
        if "key_path" in spec:
            assert f"{where}{spec['key_path']}: " in err, err
    elif "key_path" in spec:
        assert f": {spec['key_path']}: " in err, err
    # nothing written: no output tree, no lock, no temporary directory, inputs untouched
    assert not out.exists()
    assert _snapshot(tmp_path) == before
