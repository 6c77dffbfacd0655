"""docs/components.md lists every environment variable difygen sets, per component.

The doc is parsed, not trusted: every variable a rendered container sets (its own env and
the keys of the ConfigMaps it reads through envFrom) must appear in the env table of its
component's section; the api family also reads the shared `api-family` section.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from generator.render import RenderResult
from tests.k8s import containers, workloads

DOC = Path(__file__).resolve().parents[1] / "docs" / "components.md"
API_FAMILY = {"api", "api-websocket", "worker", "worker-beat", "migration"}


def documented() -> dict[str, set[str]]:
    """Section name -> variables named in the first column of its tables."""
    out: dict[str, set[str]] = {}
    section = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        head = re.match(r"^### `([a-z-]+)`", line)
        if head:
            section = head.group(1)
            out[section] = set()
            continue
        if line.startswith("## "):
            section = None
        if section and line.startswith("| `"):
            first = line.split("|")[1]
            out[section] |= set(re.findall(r"`([A-Z][A-Z0-9_]*)`", first))
    return out


def test_the_doc_has_a_section_per_component() -> None:
    from generator.catalog import COMPONENT_NAMES

    sections = documented()
    assert set(COMPONENT_NAMES) | {"migration", "api-family"} <= set(sections)


def undocumented(objs: list[dict[str, Any]]) -> tuple[list[tuple[str, list[str]]], int]:
    """(component, env names docs/components.md does not list) for every container of the
    rendered workloads, and how many names were checked (ConfigMaps read through envFrom
    count as the container's)."""
    doc = documented()
    maps = {o["metadata"]["name"]: o.get("data", {}) for o in objs if o["kind"] == "ConfigMap"}
    missing: list[tuple[str, list[str]]] = []
    checked = 0
    for w in workloads(objs):
        component = w["metadata"]["labels"]["app.kubernetes.io/component"]
        allowed = doc[component] | (doc["api-family"] if component in API_FAMILY else set())
        for c in containers(w):
            names = {e["name"] for e in c.get("env", [])}
            for ref in c.get("envFrom", []):
                cm = ref.get("configMapRef", {}).get("name")
                if cm:
                    names |= set(maps[cm])
            if names - allowed:
                missing.append((component, sorted(names - allowed)))
            checked += len(names)
    return missing, checked


@pytest.mark.parametrize("profile", ["edge", "small", "production"])
def test_every_variable_set_is_documented_for_its_component(
        builtin_render: RenderResult, profile: str) -> None:
    rendered = next(p for p in builtin_render.profiles if p.plan.name == profile)
    missing, checked = undocumented(rendered.overlay.objects)
    assert not missing
    assert checked > 100
