"""Which environment variables difygen sets for a component, to refuse extra env that
would replace them.

The answer is read from the rendered objects themselves (the container's `env` and the
keys of every ConfigMap it loads through `envFrom`), so it stays true whatever the
targets learn to set, with no second list to keep in step.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from generator.sizing import ProfileSizing


def set_by_difygen(sizing: ProfileSizing) -> dict[str, dict[str, str]]:
    """component -> {env name: where difygen sets it}, for enabled components."""
    from generator.plan import build
    from generator.targets import kube_objects as m

    bare = replace(sizing, components={
        name: replace(c, extra_env=()) for name, c in sizing.components.items()})
    objects = m.component_objects(build(bare), None)
    maps = {o["metadata"]["name"]: o.get("data", {}) for o in objects
            if o["kind"] == "ConfigMap"}
    out: dict[str, dict[str, str]] = {}
    for obj in objects:
        if obj["kind"] not in ("Deployment", "StatefulSet"):
            continue
        component = obj["metadata"]["labels"]["app.kubernetes.io/component"]
        names: dict[str, str] = {}
        for container in obj["spec"]["template"]["spec"]["containers"]:
            for src in container.get("envFrom", []):
                ref: dict[str, Any] | None = src.get("configMapRef")
                if ref is not None:
                    for key in maps.get(ref["name"], {}):
                        names.setdefault(key, f"ConfigMap {ref['name']}")
            for env in container.get("env", []):
                names[env["name"]] = "container env"
        out[component] = names
    return out


def conflicts(sizing: ProfileSizing) -> list[tuple[str, str, str]]:
    """(component, env name, where difygen sets it) for every clashing extra env var."""
    known = set_by_difygen(sizing)
    found = []
    for name, comp in sizing.components.items():
        mine = known.get(name, {})
        for extra in comp.extra_env:
            if extra.name in mine:
                found.append((name, extra.name, mine[extra.name]))
    return found
