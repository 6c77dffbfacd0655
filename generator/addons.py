"""Sizing of the add-ons a profile turns on (catalog.ADDONS), for quota and node fit."""

from __future__ import annotations

from generator.catalog import ADDONS, Component
from generator.quantity import parse_quantity
from generator.sizing import (
    ComponentSizing,
    CpuMemory,
    Probes,
    ProbeTiming,
    ProfileSizing,
    Resources,
    Scaling,
    Scheduling,
)


def _timing(values: tuple[int, int, int, int]) -> ProbeTiming:
    return ProbeTiming(*values)


def sizing(comp: Component) -> ComponentSizing:
    d = comp.defaults
    return ComponentSizing(
        name=comp.name, enabled=True, scaling=Scaling(False, 1, 1),
        resources=Resources(
            requests=CpuMemory(parse_quantity(d.requests[0]), parse_quantity(d.requests[1])),
            limits=CpuMemory(parse_quantity(d.limits[0]), parse_quantity(d.limits[1]))),
        probes=Probes(_timing(d.liveness), _timing(d.readiness)),
        scheduling=Scheduling(),
    )


def enabled(profile: ProfileSizing) -> list[tuple[Component, ComponentSizing]]:
    """The add-ons this profile runs, with their sizing (one replica each)."""
    if not profile.monitoring.enabled:
        return []
    return [(c, sizing(c)) for c in ADDONS]
