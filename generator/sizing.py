"""The resolved sizing of one profile: frozen values, one per component.

Built by generator.profiles from the YAML (after `extends` and defaults are applied and
every rule has passed). Targets read only this (through the Plan), never the YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class CpuMemory:
    cpu: Fraction
    memory: Fraction


@dataclass(frozen=True)
class Resources:
    requests: CpuMemory
    limits: CpuMemory


@dataclass(frozen=True)
class ProbeTiming:
    initial_delay_seconds: int
    period_seconds: int
    timeout_seconds: int
    failure_threshold: int
    success_threshold: int = 1


@dataclass(frozen=True)
class Probes:
    liveness: ProbeTiming
    readiness: ProbeTiming
    # Only components whose start is slow have one (the catalog says which).
    startup: ProbeTiming | None = None


@dataclass(frozen=True)
class Scaling:
    """Fixed replicas (autoscale False, min == max) or an HPA between min and max."""

    autoscale: bool
    min_replicas: int
    max_replicas: int
    target_cpu_percent: int | None = None
    target_memory_percent: int | None = None


@dataclass(frozen=True)
class Persistence:
    storage_class: str
    size: Fraction
    access_mode: str


@dataclass(frozen=True)
class Toleration:
    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None
    toleration_seconds: int | None = None


@dataclass(frozen=True)
class Scheduling:
    node_selector: tuple[tuple[str, str], ...] = ()
    tolerations: tuple[Toleration, ...] = ()
    spread_across_nodes: str = "none"  # none | preferred | required
    spread_across_zones: str = "none"
    priority_class_name: str | None = None


@dataclass(frozen=True)
class ComponentSizing:
    name: str
    enabled: bool
    scaling: Scaling
    resources: Resources
    probes: Probes
    scheduling: Scheduling
    # For stateful components and the shared file storage; None when the component keeps
    # no state (or its state lives in object storage).
    persistence: Persistence | None = None


@dataclass(frozen=True)
class Images:
    registry: str  # "" means Docker Hub
    pull_policy: str
    tags: tuple[tuple[str, str], ...]  # (component, tag), every component present

    def tag(self, component: str) -> str:
        return dict(self.tags)[image_key(component)]


# The api, its websocket, the worker and beat run one image: one tag, or they drift apart.
API_IMAGE_FAMILY = ("api", "api-websocket", "worker", "worker-beat")


# The agent sandbox's proxy runs the same squid image as the main SSRF proxy.
_SHARED_IMAGE = {"agent-ssrf-proxy": "ssrf-proxy"}


def image_key(component: str) -> str:
    """The `images.tags` key that sets a component's tag."""
    if component in API_IMAGE_FAMILY:
        return "api"
    return _SHARED_IMAGE.get(component, component)


@dataclass(frozen=True)
class S3Storage:
    endpoint: str
    bucket: str
    region: str
    addressing_style: str


@dataclass(frozen=True)
class FileStorage:
    backend: str  # local | s3
    s3: S3Storage | None = None


@dataclass(frozen=True)
class NodeCapacity:
    cpu: Fraction
    memory: Fraction
    reserved_percent: int


@dataclass(frozen=True)
class QuotaPolicy:
    enabled: bool
    headroom_percent: int


@dataclass(frozen=True)
class LimitRangePolicy:
    enabled: bool
    default_request: CpuMemory
    default: CpuMemory


@dataclass(frozen=True)
class DisruptionPolicy:
    enabled: bool
    max_unavailable: int


@dataclass(frozen=True)
class ProfileSizing:
    name: str
    source: str  # the file it came from, for messages
    chain: tuple[str, ...]  # this profile first, then each parent
    description: str
    kubernetes_version: str
    namespace: str
    images: Images
    secret_name: str
    file_storage: FileStorage
    vector_database: str
    # Where browsers reach Dify (scheme://host[:port]); "" means same origin, no host known.
    public_url: str
    node: NodeCapacity | None
    quota: QuotaPolicy
    limit_range: LimitRangePolicy
    disruption: DisruptionPolicy
    components: dict[str, ComponentSizing] = field(default_factory=dict)

    def enabled_components(self) -> list[ComponentSizing]:
        """Enabled components in catalog order (dict order is catalog order)."""
        return [c for c in self.components.values() if c.enabled]
