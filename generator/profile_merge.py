"""Merging a profile's `extends` chain into one mapping, remembering which file set what.

Merge rules (documented in docs/profiles.md):
- mappings merge key by key, recursively; the child wins;
- scalars and lists replace the parent's value whole (a list of tolerations is one value);
- `replicas` and `autoscaling` are alternatives: a component that sets one in a child
  drops the other inherited from the parent;
- `null` removes an inherited key (the catalog default applies again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.errors import Location
from generator.yamlio import Document, KeyPath, iter_paths


@dataclass
class Loaded:
    """One file of an `extends` chain: the name it was reached by and its document."""

    ref_name: str
    doc: Document


# Which file of the chain set a key last (its line and column are in that document).
Origin = dict[KeyPath, Document]


def merge_chain(chain: list[Loaded]) -> tuple[dict[str, Any], Origin]:
    """The chain (child first) merged into one mapping, and where each key comes from."""
    merged: dict[str, Any] = {}
    origin: Origin = {}
    for loaded in reversed(chain):  # root parent first, the child last
        _merge_into(merged, loaded.doc.data, (), loaded.doc, origin)
    merged.pop("extends", None)
    return merged, origin


def _merge_into(base: dict[str, Any], child: dict[str, Any], path: KeyPath,
                doc: Document, origin: Origin) -> None:
    if len(path) == 2 and path[0] == "components":
        # replicas and autoscaling are alternatives: choosing one drops the inherited other
        if "replicas" in child:
            base.pop("autoscaling", None)
        if "autoscaling" in child:
            base.pop("replicas", None)
    for key, value in child.items():
        here = (*path, key)
        if value is None:
            base.pop(key, None)
            continue
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            origin[here] = doc
            _merge_into(base[key], value, here, doc, origin)
        else:
            base[key] = _copy(value)
            for sub, _ in iter_paths(value, here):
                origin[sub] = doc


def _copy(value: Any) -> Any:
    # A `null` in a mapping no parent has set yet removes nothing, but it still means
    # "use the default": drop it, as the merge into an existing mapping does.
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def location(origin: Origin, chain: list[Loaded], path: KeyPath) -> Location:
    """Where `path` (or its nearest ancestor) is set in the chain: the file that set it
    last, else the child profile."""
    probe = path
    while probe and probe not in origin:
        probe = probe[:-1]
    doc = origin.get(probe, chain[0].doc)
    return doc.location(path)
