"""`validate --helm-values`: values files merged like Helm, derived settings guarded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from generator.helm_merge import merge
from tests.conftest import REPO

PRODUCTION = REPO / "output" / "helm" / "production" / "values.yaml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "generator", "validate", "--helm-values",
                           *args], capture_output=True, text=True, cwd=REPO, timeout=120,
                          check=False)


def test_merge_is_helms_deep_merge_with_lists_replaced_and_null_deleting() -> None:
    base = {"a": {"b": 1, "c": [1, 2], "d": {"e": 1}}, "x": 1}
    over = {"a": {"c": [3], "d": {"f": 2}}, "x": None, "y": "new"}
    assert merge(base, over) == {"a": {"b": 1, "c": [3], "d": {"e": 1, "f": 2}},
                                 "y": "new"}
    assert base["a"]["c"] == [1, 2]  # inputs untouched


def test_a_later_extra_env_list_that_drops_derived_settings_is_an_error(
        tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("global:\n  consoleWebDomain: dify.example.com\n"
                    "api:\n  extraEnv:\n  - name: LANG\n    value: C.UTF-8\n")
    proc = run(str(PRODUCTION), str(mine))
    assert proc.returncode == 1, proc.stderr
    line = proc.stdout.splitlines()[0]
    assert line.startswith(f"{mine}:4:3: [error] api.extraEnv from a later file")
    for name in ("SQLALCHEMY_POOL_SIZE", "SERVER_WORKER_AMOUNT", "CELERY_WORKER_AMOUNT"):
        assert name in line
    assert line.endswith("(helm-values-derived-erased)")


def test_changed_derived_value_and_removed_config_string_are_errors(tmp_path: Path) -> None:
    import yaml

    ours = yaml.safe_load(PRODUCTION.read_text())
    env = [dict(e) for e in ours["api"]["extraEnv"]]
    for e in env:
        if e["name"] == "SQLALCHEMY_POOL_SIZE":
            e["value"] = "200"
    env.append({"name": "LANG", "value": "C.UTF-8"})
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump({"api": {"extraEnv": env},
                                    "postgresql": {"primary": {"extendedConfiguration":
                                                               "max_connections = 1000\n"}}},
                                   sort_keys=False))
    proc = run(str(PRODUCTION), str(mine))
    assert proc.returncode == 1
    out = proc.stdout
    assert "changes derived SQLALCHEMY_POOL_SIZE" in out and "drops" not in out
    assert "postgresql.primary.extendedConfiguration carries derived settings" in out


def test_keeping_difygen_entries_and_adding_more_is_clean(tmp_path: Path) -> None:
    import yaml

    ours = yaml.safe_load(PRODUCTION.read_text())
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump({
        "api": {"extraEnv": [*ours["api"]["extraEnv"], {"name": "LANG", "value": "C"}]},
        "global": {"appSecretKey": "from-a-secret-store"}}))
    proc = run(str(PRODUCTION), str(mine))
    assert proc.returncode == 0, proc.stdout
    # a file given before difygen's cannot erase anything
    proc = run(str(mine), str(PRODUCTION))
    assert proc.returncode == 0, proc.stdout


def test_without_a_difygen_file_or_a_second_file_it_is_a_usage_error(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text("api: {}\n")
    for args in ((str(mine), str(mine)), (str(PRODUCTION),)):
        proc = run(*args)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
