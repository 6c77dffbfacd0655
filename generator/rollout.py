"""How each workload of a profile is replaced on an update, and what that costs.

Shared by the budget (tunables), the quota (plan) and the manifests, so the number of
pods a rollout adds is decided in one place.
"""

from __future__ import annotations

from generator.catalog import COMPONENTS
from generator.sizing import ProfileSizing

# Rolling Deployments start this many new pods before an old one stops (maxUnavailable 0):
# capacity never drops during an update, and the extra pods are counted in the connection
# budget and the quota.
MAX_SURGE = 1


def shared_volume_for(profile: ProfileSizing, name: str) -> str | None:
    """The component whose PVC a Deployment mounts (api storage, plugin storage)."""
    if profile.file_storage.backend != "local":
        return None
    if name in ("api", "worker"):
        return "api"
    if name == "plugin-daemon":
        return "plugin-daemon"
    return None


def shared_volume_access(profile: ProfileSizing, name: str) -> str | None:
    owner = shared_volume_for(profile, name)
    if owner is None:
        return None
    pers = profile.components[owner].persistence
    return pers.access_mode if pers else None


def uses_rwo_volume(profile: ProfileSizing, name: str) -> bool:
    return (shared_volume_for(profile, name) is not None
            and shared_volume_access(profile, name) != "ReadWriteMany")


def rolls(profile: ProfileSizing, name: str) -> bool:
    """True when the workload updates by surge (RollingUpdate), False for Recreate."""
    comp = COMPONENTS[name]
    if comp.singleton or comp.workload != "Deployment":
        return False
    return not uses_rwo_volume(profile, name)


def surge_pods(profile: ProfileSizing, name: str) -> int:
    """Pods a rollout adds on top of the workload's maximum scale (every worker pool is a
    Deployment of its own, and they all roll at once)."""
    if not rolls(profile, name):
        return 0
    if name == "worker" and profile.worker_pools is not None:
        return MAX_SURGE * len(profile.worker_pools.pools)
    return MAX_SURGE
