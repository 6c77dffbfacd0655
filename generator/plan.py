"""The Plan: resolved sizing plus everything derived from it. The single source of truth.

Targets (Kustomize, Helm) are pure functions of a Plan; they never re-read profiles and
never compute a number themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from math import ceil

from generator import addons, rollout
from generator.catalog import COMPONENTS, Component
from generator.errors import Problem, ProblemList, ProfileError, SizingError
from generator.profile_load import LoadedProfile, ProfileRef, load_with_positions
from generator.sizing import ComponentSizing, CpuMemory, ProfileSizing, Resources
from generator.tunables import ConnectionBudget, Tunables, derive


@dataclass(frozen=True)
class Totals:
    """Sums over enabled components at one scale."""

    pods: int
    requests: CpuMemory
    limits: CpuMemory


@dataclass(frozen=True)
class QuotaHard:
    requests_cpu: Fraction
    requests_memory: Fraction
    limits_cpu: Fraction
    limits_memory: Fraction
    pods: int
    persistentvolumeclaims: int
    requests_storage: Fraction


@dataclass(frozen=True)
class Plan:
    profile: ProfileSizing
    tunables: Tunables
    budget: ConnectionBudget
    at_min: Totals
    at_max: Totals
    # Rolling updates start a new pod before the old one stops: the quota must hold the
    # largest pod of every rolling Deployment on top of maximum scale, and the pod of the
    # migration Job.
    surge: Totals
    storage: Fraction
    volume_claims: int
    quota: QuotaHard | None

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def public_origin(self) -> str | None:
        """https://<first ingress host> (http:// without TLS), or None without an ingress:
        where browsers reach Dify, from which its public URLs follow."""
        return self.profile.public_origin

    def components(self) -> list[tuple[Component, ComponentSizing]]:
        """Enabled components with their catalog entry, in catalog order."""
        return [(COMPONENTS[s.name], s) for s in self.profile.enabled_components()]

    def image(self, name: str) -> str:
        comp = COMPONENTS[name]
        registry = self.profile.images.registry
        repo = f"{registry}/{comp.image}" if registry else comp.image
        return f"{repo}:{self.profile.images.tag(name)}"

    def rolls(self, name: str) -> bool:
        """True when the workload updates by surge (RollingUpdate), False for Recreate."""
        return rollout.rolls(self.profile, name)

    def uses_rwo_volume(self, name: str) -> bool:
        return rollout.uses_rwo_volume(self.profile, name)

    def shared_volume_for(self, name: str) -> str | None:
        """The component whose PVC a Deployment mounts (api storage, plugin storage)."""
        return rollout.shared_volume_for(self.profile, name)

    def shared_volume_access(self, name: str) -> str | None:
        return rollout.shared_volume_access(self.profile, name)


def _totals(items: list[tuple[ComponentSizing, int]]) -> Totals:
    return Totals(
        pods=sum(n for _, n in items),
        requests=CpuMemory(sum((s.resources.requests.cpu * n for s, n in items), Fraction(0)),
                           sum((s.resources.requests.memory * n for s, n in items),
                               Fraction(0))),
        limits=CpuMemory(sum((s.resources.limits.cpu * n for s, n in items), Fraction(0)),
                         sum((s.resources.limits.memory * n for s, n in items), Fraction(0))),
    )


def _round_up(value: Fraction, step: Fraction) -> Fraction:
    return Fraction(ceil(value / step)) * step


# The migration Job (the api image, `flask upgrade-db`) runs once per release: it asks for
# little, may use up to the api's limits, and is counted on top of maximum scale.
MIGRATION_REQUESTS = CpuMemory(Fraction(1, 10), Fraction(256 * 2**20))


def migration_resources(profile: ProfileSizing) -> Resources:
    api = profile.components["api"].resources
    return Resources(requests=CpuMemory(min(MIGRATION_REQUESTS.cpu, api.limits.cpu),
                                        min(MIGRATION_REQUESTS.memory, api.limits.memory)),
                     limits=api.limits)


def build(profile: ProfileSizing) -> Plan:
    tunables, budget = derive(profile)
    enabled = profile.enabled_components()
    # Add-ons (exporters) are one rolling Deployment each: in every total, never in pools.
    extra = [s for _, s in addons.enabled(profile)]
    at_min = _totals([(s, s.scaling.min_replicas) for s in enabled]
                     + [(s, 1) for s in extra])
    at_max = _totals([(s, s.scaling.max_replicas) for s in enabled]
                     + [(s, 1) for s in extra])
    draft = Plan(profile, tunables, budget, at_min, at_max, at_min, Fraction(0), 0, None)
    job = replace(profile.components["api"], name="migration",
                  resources=migration_resources(profile))
    surge = _totals([(s, rollout.surge_pods(profile, s.name)) for s in enabled
                     if draft.rolls(s.name)] + [(s, rollout.MAX_SURGE) for s in extra]
                    + [(job, 1)])
    volumes = [s.persistence for s in enabled if s.persistence is not None
               and (COMPONENTS[s.name].stateful or draft.shared_volume_for(s.name) == s.name)]
    storage = sum((v.size for v in volumes), Fraction(0))
    quota = None
    if profile.quota.enabled:
        room = 1 + Fraction(profile.quota.headroom_percent, 100)
        # Round to whole 100m and 256Mi so quota numbers read like a person chose them.
        quota = QuotaHard(
            requests_cpu=_round_up((at_max.requests.cpu + surge.requests.cpu) * room,
                                   Fraction(1, 10)),
            requests_memory=_round_up((at_max.requests.memory + surge.requests.memory) * room,
                                      Fraction(256 * 2**20)),
            limits_cpu=_round_up((at_max.limits.cpu + surge.limits.cpu) * room,
                                 Fraction(1, 10)),
            limits_memory=_round_up((at_max.limits.memory + surge.limits.memory) * room,
                                    Fraction(256 * 2**20)),
            pods=ceil((at_max.pods + surge.pods) * room),
            # Headroom here too: a volume resized online (allowVolumeExpansion) or one
            # more claim during a migration must not be refused by the quota.
            persistentvolumeclaims=ceil(len(volumes) * room),
            requests_storage=_round_up(storage * room, Fraction(2**30)),
        )
    return Plan(profile, tunables, budget, at_min, at_max, surge, storage, len(volumes), quota)


def plan_for(ref: ProfileRef) -> Plan:
    """Load a profile and plan it; a problem with what is derived from it points at the
    profile line it follows from."""
    return plan_loaded(load_with_positions(ref))


def plan_loaded(loaded: LoadedProfile) -> Plan:
    """The plan of a loaded profile. Derived values are checked here, where the profile's
    positions are still known, so that a sizing error points at the line that sets the
    value it names (or the nearest one above it)."""
    try:
        plan = build(loaded.sizing)
    except SizingError as exc:
        located = [
            p if p.location.line is not None else Problem(
                loaded.location(tuple(p.location.key_path.split("."))), p.message)
            for p in exc.problems
        ]
        raise SizingError(exc.message, located) from None
    _check_extra_env(loaded)
    return plan


def _check_extra_env(loaded: LoadedProfile) -> None:
    """An extra env var must not replace one difygen sets or derives (pool sizes, worker
    counts, URLs): a silent override would defeat the sizing checks."""
    sizing = loaded.sizing
    if not any(c.extra_env for c in sizing.components.values()):
        return
    from generator.env_conflicts import conflicts

    problems = ProblemList()
    for component, name, why in conflicts(sizing):
        problems.add(loaded.location(("components", component, "env", name)),
                     f"found {name!r}; difygen sets it for {component} ({why}) and extra "
                     "env may not replace what difygen sets or derives (change the "
                     "profile setting it follows from instead)")
    problems.raise_if_any(ProfileError, f"profile {sizing.name} is not valid")
