"""The resolved sizing of one profile: frozen values, one per component.

Built by generator.profile_build from the YAML (after `extends` and defaults are applied and
every rule has passed). Targets read only this (through the Plan), never the YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from generator.queues import BROKER_DATABASE


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
    # topologySpreadConstraints (maxSkew 1) per topology: none | preferred | required
    topology_spread_zones: str = "none"
    topology_spread_nodes: str = "none"


@dataclass(frozen=True)
class ExtraEnv:
    """An environment variable a profile adds to a component (a value or a Secret key)."""

    name: str
    value: str | None = None
    secret_key: str | None = None  # a key of the profile's Secret


@dataclass(frozen=True)
class PodMetadata:
    """Labels and annotations a profile adds to pods (sorted pairs, for determinism)."""

    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()


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
    extra_env: tuple[ExtraEnv, ...] = ()
    pod_metadata: PodMetadata = PodMetadata()


@dataclass(frozen=True)
class Images:
    registry: str  # "" means Docker Hub
    pull_policy: str
    tags: tuple[tuple[str, str], ...]  # (component, tag), every component present
    pull_secrets: tuple[str, ...] = ()  # Secret names, applied to every pod

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
class AzureBlobStorage:
    account_name: str
    container: str
    account_url: str


@dataclass(frozen=True)
class GcsStorage:
    bucket: str


@dataclass(frozen=True)
class AliyunOssStorage:
    endpoint: str
    bucket: str
    region: str
    auth_version: str
    path: str


@dataclass(frozen=True)
class FileStorage:
    backend: str  # local | s3 | azure-blob | gcs | aliyun-oss
    s3: S3Storage | None = None
    azure_blob: AzureBlobStorage | None = None
    gcs: GcsStorage | None = None
    aliyun_oss: AliyunOssStorage | None = None


@dataclass(frozen=True)
class ExternalPostgres:
    """A database difygen does not deploy (RDS, Cloud SQL, Azure Database, ...)."""

    host: str
    port: int
    username: str
    database: str
    plugin_database: str
    ssl_mode: str  # disable | require | verify-ca | verify-full
    # What the connection budget is checked against: the server's max_connections, or
    # the server connections a PgBouncer in front of it opens for Dify.
    max_connections: int | None = None
    pgbouncer_pool_size: int | None = None

    @property
    def connection_limit(self) -> int:
        limit = self.max_connections or self.pgbouncer_pool_size
        assert limit is not None
        return limit


@dataclass(frozen=True)
class ExternalRedis:
    host: str
    port: int
    username: str
    db: int
    tls: bool
    sentinel_master: str | None = None
    sentinel_nodes: tuple[str, ...] = ()
    # The database CELERY_BROKER_URL (a Secret key) names: difygen cannot read the URL,
    # so the profile says it and the KEDA triggers and the chart's broker URL follow it.
    broker_db: int = BROKER_DATABASE


@dataclass(frozen=True)
class ExternalVectorStore:
    """Weaviate or Qdrant by endpoint, pgvector by host (credentials in the Secret)."""

    endpoint: str | None = None
    grpc_endpoint: str | None = None  # weaviate
    grpc_port: int | None = None  # qdrant: gRPC on when set
    host: str | None = None  # pgvector
    port: int | None = None
    database: str | None = None
    username: str | None = None


@dataclass(frozen=True)
class Ingress:
    """How traffic reaches the entry point (the nginx Service) from outside the cluster."""

    enabled: bool = False
    class_name: str | None = None
    hosts: tuple[str, ...] = ()
    tls_secret: str | None = None
    # cert-manager: at most one of the two is set
    cluster_issuer: str | None = None
    issuer: str | None = None
    annotations: tuple[tuple[str, str], ...] = ()

    @property
    def public_origin(self) -> str | None:
        """scheme://first-host where browsers reach Dify, when the ingress says so.

        Dify's public URLs (console, service API, app, files) follow from it."""
        if not self.enabled or not self.hosts:
            return None
        scheme = "https" if self.tls_secret else "http"
        return f"{scheme}://{self.hosts[0]}"


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
class WorkerPool:
    """One Celery worker Deployment consuming a group of queues, scaled by KEDA."""

    name: str
    queues: tuple[str, ...]
    min_replicas: int
    max_replicas: int
    tasks_per_replica: int | None  # None: the worker's Celery concurrency


@dataclass(frozen=True)
class WorkerPools:
    polling_interval_seconds: int
    cooldown_period_seconds: int
    pools: tuple[WorkerPool, ...]


@dataclass(frozen=True)
class Monitoring:
    enabled: bool = False
    grafana_dashboard: bool = False
    prometheus_labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Peer:
    """A NetworkPolicy peer a profile names: label selectors (namespace and/or pod), or an
    address range with the ranges cut out of it. Selectors are (key, value) pairs; an
    empty tuple selects everything, None leaves that selector out."""

    namespace_selector: tuple[tuple[str, str], ...] | None = None
    pod_selector: tuple[tuple[str, str], ...] | None = None
    cidr: str | None = None
    except_cidrs: tuple[str, ...] = ()


# The ingress controller most clusters run (ingress-nginx, in its own namespace).
DEFAULT_INGRESS_FROM = (Peer(namespace_selector=(("kubernetes.io/metadata.name",
                                                  "ingress-nginx"),)),)
# CoreDNS (and kube-dns before it) carries k8s-app=kube-dns in kube-system on kubeadm,
# k3s, EKS, GKE and AKS; Kubernetes labels every namespace with its name.
DEFAULT_DNS_TO = (Peer(namespace_selector=(("kubernetes.io/metadata.name", "kube-system"),),
                       pod_selector=(("k8s-app", "kube-dns"),)),)
DEFAULT_DNS_PORTS = (53,)
# Never "the internet": private (RFC 1918), carrier-grade NAT (often the pod or service
# range), loopback, link-local (cloud metadata at 169.254.169.254), "this network",
# multicast and reserved; IPv6 unique-local (fd00:ec2::254 is AWS's metadata address),
# link-local, loopback, multicast, and the NAT64 range that would reach
# the IPv4 ones.
DEFAULT_INTERNET_EXCEPT = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4",
    "240.0.0.0/4",
    # Not ::ffff:0:0/96 (IPv4-mapped): the API server refuses it inside ::/0 (Go reads it
    # as an IPv4 range), and pods never send IPv4-mapped addresses on the wire.
    "::1/128", "64:ff9b::/96", "fc00::/7", "fe80::/10", "ff00::/8",
)


@dataclass(frozen=True)
class NetworkPolicySettings:
    enabled: bool = True
    ingress_from: tuple[Peer, ...] = DEFAULT_INGRESS_FROM
    dns_to: tuple[Peer, ...] = DEFAULT_DNS_TO
    dns_ports: tuple[int, ...] = DEFAULT_DNS_PORTS
    internet_except: tuple[str, ...] = DEFAULT_INTERNET_EXCEPT


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
    vector_database: str  # weaviate | qdrant | pgvector
    # Where browsers reach Dify (scheme://host[:port]); "" means same origin, no host known.
    public_url: str
    node: NodeCapacity | None
    quota: QuotaPolicy
    limit_range: LimitRangePolicy
    disruption: DisruptionPolicy
    components: dict[str, ComponentSizing] = field(default_factory=dict)
    # None: one worker Deployment scaled by its HPA (the default, no KEDA needed).
    worker_pools: WorkerPools | None = None
    monitoring: Monitoring = field(default_factory=Monitoring)
    ingress: Ingress = Ingress()
    # Services difygen does not deploy; None means the in-cluster component.
    external_postgres: ExternalPostgres | None = None
    external_redis: ExternalRedis | None = None
    external_vector_store: ExternalVectorStore | None = None
    # Added to every pod; a component's own pod metadata wins on the same key.
    pod_metadata: PodMetadata = PodMetadata()

    network_policies: NetworkPolicySettings = NetworkPolicySettings()

    @property
    def public_origin(self) -> str | None:
        return self.ingress.public_origin

    @property
    def broker_database(self) -> int:
        """The Redis database holding the Celery queues (CELERY_BROKER_URL's)."""
        ext = self.external_redis
        return ext.broker_db if ext is not None else BROKER_DATABASE

    def enabled_components(self) -> list[ComponentSizing]:
        """Enabled components in catalog order (dict order is catalog order)."""
        return [c for c in self.components.values() if c.enabled]
