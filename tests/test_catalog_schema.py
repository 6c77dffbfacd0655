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
