"""The published schemas name what the catalog holds, no more and no less.

schemas/profile.schema.json lists component names (components.*, images.tags.*) and the
vector stores by hand, and schemas/helm-values.schema.json the chart's keys; the catalog
(generator/catalog.py) is the single source of truth for both. A component added to the
catalog without its schema entry (or a schema entry whose component is gone) fails here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from generator.catalog import CATALOG, COMPONENT_NAMES, VECTOR_STORES
from generator.sizing import image_key

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


def _schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / name).read_text())
    return data


def test_profile_components_are_the_catalog() -> None:
    listed = set(_schema("profile.schema.json")["properties"]["components"]["properties"])
    assert listed == set(COMPONENT_NAMES), (
        f"missing from the schema: {sorted(set(COMPONENT_NAMES) - listed)}; "
        f"not in the catalog: {sorted(listed - set(COMPONENT_NAMES))}")


def test_profile_image_tags_are_the_catalog_images() -> None:
    tags = _schema("profile.schema.json")["properties"]["images"]["properties"]["tags"]
    expected = {image_key(c.name) for c in CATALOG}
    assert set(tags["properties"]) == expected
    assert tags.get("additionalProperties") is False


def test_profile_vector_stores_are_the_catalog_backends() -> None:
    kinds = _schema("profile.schema.json")["properties"]["vectorDatabase"]["properties"]["type"]
    assert {k for k in kinds["enum"] if k is not None} == {s.kind for s in VECTOR_STORES}


def test_every_helm_slot_is_a_key_of_the_values_schema() -> None:
    keys = set(_schema("helm-values.schema.json")["properties"])
    slots = {c.helm.key for c in CATALOG if c.helm is not None}
    assert slots <= keys, f"Helm slots the values schema lacks: {sorted(slots - keys)}"
    image_keys = set(_schema("helm-values.schema.json")["properties"]["image"]["properties"])
    dify = {c.helm.image_key for c in CATALOG if c.helm is not None and c.helm.kind == "dify"}
    assert dify <= image_keys


def test_a_component_the_chart_cannot_deploy_says_what_is_lost() -> None:
    for comp in CATALOG:
        assert (comp.helm is None) == bool(comp.helm_gap), comp.name


def _component_literals(path: Path) -> list[str]:
    """Where a target names a component: compared with a `.name`, tested for membership,
    indexed into a mapping, passed to a call (host("api"), COMPONENTS["worker"], ...), or
    the keys of a dict literal whose keys all name components ({"api": ..., "plugin-daemon":
    ...}: a table by component, catalog data that escaped). Strings that merely equal a
    component name elsewhere (a chart values key beside others, such as {"api": bucket,
    "pluginDaemon": bucket}, or a vector store kind) are not counted."""
    import ast

    from generator.catalog import ADDONS

    names = set(COMPONENT_NAMES) | {a.name for a in ADDONS}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []

    def literal(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and node.value in names:
            return str(node.value)
        return None

    def name_attr(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "name"

    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(name_attr(s) for s in sides):
                found += [f"{where} {v}" for s in sides if (v := literal(s))]
            if any(isinstance(op, ast.In | ast.NotIn) for op in node.ops):
                found += [f"{where} {v}" for v in [literal(node.left)] if v]
                for s in node.comparators:
                    if isinstance(s, ast.Tuple | ast.List | ast.Set):
                        found += [f"{where} {v}" for e in s.elts if (v := literal(e))]
        elif isinstance(node, ast.Subscript) and (v := literal(node.slice)):
            found.append(f"{where} {v}")
        elif isinstance(node, ast.Dict) and node.keys and all(
                k is not None and literal(k) for k in node.keys):
            found += [f"{where} {v}" for k in node.keys if k is not None and (v := literal(k))]
        elif isinstance(node, ast.Call) and not (
                # a component's own port name (ssrf-proxy's port "sandbox")
                isinstance(node.func, ast.Attribute) and node.func.attr == "port"):
            found += [f"{where} {v}" for a in node.args if (v := literal(a))]
    return found


def test_targets_do_not_branch_on_component_names() -> None:
    """Per-component facts are catalog data; a target that names a component is a fact
    that escaped the catalog (adding a component would need a new branch there)."""
    targets = Path(__file__).resolve().parent.parent / "generator" / "targets"
    found = [hit for module in sorted(targets.glob("*.py"))
             for hit in _component_literals(module)]
    assert found == []


def test_the_name_guard_sees_a_branch(tmp_path: Path) -> None:
    module = tmp_path / "target.py"
    module.write_text('def f(comp, plan):\n'
                      '    if comp.name == "weaviate":\n        return host("api")\n'
                      '    return "worker" in plan.enabled or COMPONENTS["redis"]\n'
                      'TABLE = {"plugin-daemon": 1}\n'
                      'VALUES = {"api": 1, "pluginDaemon": 2}\n')
    assert sorted(h.split(" ")[1] for h in _component_literals(module)) == sorted([
        "weaviate", "api", "worker", "redis", "plugin-daemon"])
