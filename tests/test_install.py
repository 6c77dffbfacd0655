"""The install path a user takes: `python -m build` makes a wheel and an sdist from this
checkout; the wheel installed into a clean virtual environment (no repository on its path)
renders the built-in profiles byte for byte as committed in output/, and `--version` names
the pins."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from generator import versions

REPO = Path(__file__).resolve().parent.parent
# the one place the version is written (pyproject.toml reads it from there through hatch)
_VERSION_LINE = re.search(r'^__version__ = "([^"]+)"$',
                          (REPO / "generator" / "__init__.py").read_text(), re.M)
assert _VERSION_LINE is not None
VERSION = _VERSION_LINE[1]

pytestmark = pytest.mark.slow


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # the default build: sdist first, then the wheel built from the unpacked sdist, so a
    # file missing from the sdist breaks the wheel too
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_build_makes_a_wheel_and_an_sdist_with_the_data(dist: Path) -> None:
    wheel = dist / f"difygen-{VERSION}-py3-none-any.whl"
    sdist = dist / f"difygen-{VERSION}.tar.gz"
    assert wheel.is_file() and sdist.is_file(), sorted(p.name for p in dist.iterdir())
    names = set(zipfile.ZipFile(wheel).namelist())
    for profile in ("edge", "small", "production"):
        assert f"generator/_data/profiles/{profile}.yaml" in names
    for schema in ("profile", "fleet", "helm-values"):
        assert f"generator/_data/schemas/{schema}.schema.json" in names
    assert "generator/cli.py" in names and "generator/versions.py" in names
    assert not any(n.startswith(("tests/", "output/")) for n in names)
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    assert {"pyproject.toml", "README.md", "CHANGELOG.md", "profiles/small.yaml",
            "schemas/profile.schema.json", "generator/cli.py"} <= members


def test_wheel_in_a_clean_venv_renders_output_byte_for_byte(dist: Path,
                                                             tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    py = env_dir / "bin" / "python"
    wheel = dist / f"difygen-{VERSION}-py3-none-any.whl"
    proc = subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(wheel)],
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    difygen = env_dir / "bin" / "difygen"
    work = tmp_path / "elsewhere"  # not the checkout: the data must come from the wheel
    work.mkdir()
    clean_env = {"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path),
                 "LC_ALL": "C.UTF-8"}
    where = subprocess.run([str(py), "-c", "import generator; print(generator.__file__)"],
                           capture_output=True, text=True, cwd=work, env=clean_env,
                           check=True)
    assert str(env_dir) in where.stdout and str(REPO) not in where.stdout

    version = subprocess.run([str(difygen), "--version"], capture_output=True, text=True,
                             cwd=work, env=clean_env, timeout=120, check=False)
    assert version.returncode == 0, version.stderr
    assert version.stdout.splitlines()[0] == f"difygen {VERSION}"
    assert f"Dify {versions.DIFY_VERSION}" in version.stdout
    assert versions.CHART_VERSION in version.stdout
    assert f"Kubernetes {versions.DEFAULT_KUBERNETES_VERSION}" in version.stdout

    rendered = subprocess.run([str(difygen), "render", "--all", "--out", "out"],
                              capture_output=True, text=True, cwd=work, env=clean_env,
                              timeout=600, check=False)
    assert rendered.returncode == 0, rendered.stderr[-3000:]
    got, want = _tree(work / "out"), _tree(REPO / "output")
    assert sorted(got) == sorted(want)
    different = [name for name in want if got[name] != want[name]]
    assert not different, different[:10]
