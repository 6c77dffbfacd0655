"""No object appears twice."""

from __future__ import annotations

from collections.abc import Iterator

from generator.manifest_loader import Manifest
from generator.rules.base import ERROR, Context, Finding, Rule, finding


def api_group(api_version: str) -> str:
    """'apps/v1' -> 'apps', 'v1' -> '' (the core group)."""
    return api_version.rpartition("/")[0]


class DuplicateObject(Rule):
    """Each object (API group, kind, namespace, name) appears once.

    Two objects with the same identity are one object to the API server: the second
    `apply` silently overwrites the first, so whatever was validated about the first is
    not what runs. Versions of one group count as the same object (`autoscaling/v1` and
    `autoscaling/v2` HorizontalPodAutoscalers of one name collide). Reported at every
    repeat, naming where the object first appeared.
    """

    id = "duplicate-object"
    layer = "schema"

    def check(self, ctx: Context) -> Iterator[Finding]:
        first: dict[tuple[str, str, str, str], Manifest] = {}
        where: dict[tuple[str, str, str, str], str] = {}
        for m in ctx.manifests:
            key = (api_group(m.api_version), m.kind, m.namespace, m.name)
            seen = first.setdefault(key, m)
            if seen is m:
                continue
            at = where.get(key)
            if at is None:
                line, col = seen.locate(("metadata", "name"))
                at = where[key] = f"{seen.file}:{line}:{col}"
            yield finding(self.id, ERROR, m, ("metadata", "name"),
                          f"{m.ref} appears twice; first at {at}")
