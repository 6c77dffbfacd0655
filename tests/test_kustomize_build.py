"""The written overlays, built by the real kustomize, are exactly the in-memory manifests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from generator.k8s_schemas import schema_set
from generator.profile_load import BUILTIN_PROFILES
from generator.render import RenderResult
from generator.writer import write_tree
from tests.k8s import key


@pytest.fixture(scope="module")
def written(builtin_render: RenderResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("render") / "output"
    write_tree(out, builtin_render.files, builtin_render.managed)
    return out


def build(kubectl: str, overlay: Path) -> list[dict]:
    proc = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


@pytest.mark.kustomize
@pytest.mark.parametrize("name", BUILTIN_PROFILES)
def test_kustomize_build_equals_in_memory(name: str, written: Path, kubectl: str,
                                          builtin_render: RenderResult) -> None:
    built = build(kubectl, written / "kustomize" / "overlays" / name)
    rendered = next(p for p in builtin_render.profiles if p.plan.name == name)
    assert sorted(built, key=key) == sorted(rendered.overlay.objects, key=key)


@pytest.mark.kustomize
@pytest.mark.parametrize("name", BUILTIN_PROFILES)
def test_built_objects_pass_strict_schemas(name: str, written: Path, kubectl: str,
                                           builtin_render: RenderResult) -> None:
    rendered = next(p for p in builtin_render.profiles if p.plan.name == name)
    schemas = schema_set(rendered.plan.profile.kubernetes_version)
    built = build(kubectl, written / "kustomize" / "overlays" / name)
    assert built, "an overlay that builds to nothing"
    for obj in built:
        assert schemas.knows(obj["apiVersion"], obj["kind"]), key(obj)
        assert schemas.validate(obj) == [], key(obj)


def test_strict_schema_rejects_unknown_field() -> None:
    """The schemas used are the strict ones: an unknown field is an error, not ignored."""
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
           "data": {}, "dta": {}}
    errors = schema_set("1.35").validate(obj)
    assert errors and "dta" in errors[0].message
