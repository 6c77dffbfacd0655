"""Every Dify 1.16.1 component that runs in the cluster, and what difygen knows about it.

Facts (images, ports, health endpoints, users, writable paths) were read from Dify's
compose setup and Dockerfiles, dify-sandbox 0.2.15 and dify-plugin-daemon 0.6.3; see
docs/components.md for the evidence and for each decision. This module holds facts and
decisions, not sizing: sizing comes from profiles (defaults below are the neutral base).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.versions import DIFY_VERSION


@dataclass(frozen=True)
class Port:
    name: str
    port: int


@dataclass(frozen=True)
class Check:
    """How a probe asks: an HTTP GET (path + port name), a TCP connect, or a command."""

    http_path: str | None = None
    port: str | None = None
    command: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        kinds = sum([self.http_path is not None, bool(self.command),
                     self.port is not None and self.http_path is None])
        if kinds != 1:
            raise ValueError("a Check is exactly one of http, tcp or exec")


@dataclass(frozen=True)
class Mount:
    name: str
    path: str


@dataclass(frozen=True)
class SecurityException:
    """A departure from Pod Security Standards 'restricted', with the reason it is needed."""

    reason: str
    run_as_root: bool
    add_capabilities: tuple[str, ...] = ()


@dataclass(frozen=True)
class Security:
    user: int
    group: int
    read_only_root: bool
    # Why the root filesystem stays writable, when it does (not a PSS requirement, but a
    # hardening gap worth stating).
    writable_root_reason: str = ""
    exception: SecurityException | None = None


@dataclass(frozen=True)
class DefaultSizing:
    requests: tuple[str, str]  # cpu, memory
    limits: tuple[str, str]
    liveness: tuple[int, int, int, int]  # initialDelay, period, timeout, failureThreshold
    readiness: tuple[int, int, int, int]
    startup: tuple[int, int, int, int] | None = None
    storage: str | None = None  # default volume size for stateful components


@dataclass(frozen=True)
class Component:
    name: str
    summary: str
    image: str  # repository without registry
    tag: str
    helm_key: str  # the component's key in the community chart's values
    workload: str  # Deployment | StatefulSet
    ports: tuple[Port, ...]
    liveness: Check
    readiness: Check
    startup: Check | None  # only where start is slow
    security: Security
    scalable: bool  # may run more than one replica
    stateful: bool  # owns a volume through a StatefulSet volumeClaimTemplate
    defaults: DefaultSizing
    emptydirs: tuple[Mount, ...] = ()
    data_mount: Mount | None = None  # where the persistent (or shared) data lives
    mode: str | None = None  # MODE for the dify-api image
    # How many database connection pools one replica holds: "api" uses the derived
    # SERVER_WORKER_AMOUNT, "one" a single process, "plugin" the plugin daemon's own pool.
    db_pools: str | None = None
    required: bool = True  # False: a profile may turn it off
    singleton: bool = False  # exactly one replica, Recreate strategy
    args: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def object_name(self) -> str:
        return f"dify-{self.name}"


_API_SECURITY = Security(user=1001, group=1001, read_only_root=True)
_API_TMP = (Mount("tmp", "/tmp"),)
_CELERY_PING = ("sh", "-c", "celery -A celery_healthcheck.celery inspect ping "
                "-d \"celery@$HOSTNAME\" --timeout 10")

CATALOG: tuple[Component, ...] = (
    Component(
        name="api", summary="Dify API server (gunicorn, gevent workers)",
        image="langgenius/dify-api", tag=DIFY_VERSION, helm_key="api", workload="Deployment",
        ports=(Port("http", 5001),),
        liveness=Check(http_path="/health", port="http"),
        readiness=Check(http_path="/health", port="http"),
        # The api runs database migrations on start (MIGRATION_ENABLED), which can take
        # minutes on an upgrade; the startup probe holds liveness off until it is done.
        startup=Check(http_path="/health", port="http"),
        security=_API_SECURITY, scalable=True, stateful=False,
        defaults=DefaultSizing(("250m", "1Gi"), ("1", "2Gi"), (0, 15, 5, 4), (0, 10, 5, 3),
                               (10, 10, 5, 30), storage="10Gi"),
        emptydirs=_API_TMP, data_mount=Mount("storage", "/app/api/storage"), mode="api",
        db_pools="api",
    ),
    Component(
        name="api-websocket", summary="Real-time collaboration (socket.io) on the api image",
        image="langgenius/dify-api", tag=DIFY_VERSION, helm_key="apiWebsocket",
        workload="Deployment", ports=(Port("http", 5001),),
        liveness=Check(http_path="/health", port="http"),
        readiness=Check(http_path="/health", port="http"),
        startup=None, security=_API_SECURITY, scalable=True, stateful=False,
        defaults=DefaultSizing(("50m", "256Mi"), ("500m", "512Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        emptydirs=_API_TMP, mode="api", db_pools="one", required=False,
        notes=("Runs the api image with the gevent-websocket worker class, one process.",),
    ),
    Component(
        name="worker", summary="Celery worker (gevent pool): indexing, mail, workflows",
        image="langgenius/dify-api", tag=DIFY_VERSION, helm_key="worker",
        workload="Deployment", ports=(),
        # A celery ping round-trips through Redis to this worker: it fails when the
        # worker is wedged, which is what liveness is for. Dify ships a light
        # celery_healthcheck app for it, so the probe does not load the whole api. The
        # shell expands $HOSTNAME (Kubernetes does not expand $(VAR) in probe commands).
        liveness=Check(command=_CELERY_PING),
        readiness=Check(command=_CELERY_PING),
        startup=Check(command=_CELERY_PING),
        security=_API_SECURITY, scalable=True, stateful=False,
        defaults=DefaultSizing(("250m", "1Gi"), ("1", "2Gi"), (0, 60, 30, 3), (0, 60, 30, 3),
                               (20, 15, 30, 20)),
        emptydirs=_API_TMP, data_mount=Mount("storage", "/app/api/storage"), mode="worker",
        db_pools="one",
    ),
    Component(
        name="worker-beat", summary="Celery beat scheduler (exactly one)",
        image="langgenius/dify-api", tag=DIFY_VERSION, helm_key="beat",
        workload="Deployment", ports=(),
        # Beat answers no ping. It rewrites its schedule file on every tick, so a stale
        # file means a hung scheduler; a missing file after start-up means it never ran.
        liveness=Check(command=("sh", "-c",
                                "test -n \"$(find /tmp/celerybeat-schedule* -mmin -10)\"")),
        readiness=Check(command=("sh", "-c", "test -e /proc/1/cmdline && "
                                 "grep -q beat /proc/1/cmdline")),
        startup=None,
        security=Security(user=1001, group=1001, read_only_root=True),
        scalable=False, stateful=False, singleton=True,
        defaults=DefaultSizing(("50m", "256Mi"), ("250m", "512Mi"), (120, 60, 10, 3),
                               (5, 30, 5, 3)),
        emptydirs=_API_TMP, mode="beat", db_pools="one",
        # The entrypoint would write celerybeat-schedule into /app/api; pointing it at the
        # /tmp emptyDir keeps the root filesystem read-only and gives liveness a heartbeat.
        args=(),
    ),
    Component(
        name="web", summary="Dify web front end (Next.js)",
        image="langgenius/dify-web", tag=DIFY_VERSION, helm_key="web", workload="Deployment",
        ports=(Port("http", 3000),),
        liveness=Check(port="http"), readiness=Check(http_path="/apps", port="http"),
        startup=None,
        security=Security(user=1001, group=1001, read_only_root=False,
                          writable_root_reason="the entrypoint rewrites Next.js public "
                          "runtime config inside the app directory at start"),
        scalable=True, stateful=False,
        defaults=DefaultSizing(("100m", "256Mi"), ("500m", "512Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        emptydirs=_API_TMP,
    ),
    Component(
        name="sandbox", summary="dify-sandbox: runs user code (Python, Node.js) in a jail",
        image="langgenius/dify-sandbox", tag="0.2.15", helm_key="sandbox",
        workload="Deployment", ports=(Port("http", 8194),),
        liveness=Check(http_path="/health", port="http"),
        readiness=Check(http_path="/health", port="http"),
        # It unpacks Node.js and builds its chroot trees before it listens.
        startup=Check(http_path="/health", port="http"),
        security=Security(
            user=0, group=0, read_only_root=False,
            writable_root_reason="unpacks Node.js into /opt, adds a user to /etc/passwd and "
                                 "builds chroot trees under /var/sandbox at every start",
            exception=SecurityException(
                reason="dify-sandbox must start as root: for every execution it chroots, "
                       "sets its own seccomp filter and drops to uid 65537. It needs "
                       "SYS_CHROOT, SETUID and SETGID (and CHOWN, DAC_OVERRIDE, FOWNER to "
                       "build the chroot), no more; privilege escalation stays off.",
                run_as_root=True,
                add_capabilities=("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID",
                                  "SYS_CHROOT"),
            )),
        scalable=True, stateful=False,
        defaults=DefaultSizing(("100m", "256Mi"), ("1", "1Gi"), (0, 15, 5, 4), (0, 10, 5, 3),
                               (5, 5, 5, 60)),
        emptydirs=(Mount("tmp", "/tmp"), Mount("dependencies", "/dependencies")),
    ),
    Component(
        name="plugin-daemon", summary="Plugin runtime: installs and runs Dify plugins",
        image="langgenius/dify-plugin-daemon", tag="0.6.3-local", helm_key="pluginDaemon",
        workload="Deployment", ports=(Port("http", 5002), Port("debug", 5003)),
        liveness=Check(http_path="/health/check", port="http"),
        readiness=Check(http_path="/health/check", port="http"),
        # Ready answers before installed plugins have their Python environments back;
        # after a restart that re-install can take many minutes.
        startup=Check(http_path="/health/check", port="http"),
        security=Security(user=1000, group=1000, read_only_root=False,
                          writable_root_reason="uv and pip write caches under the home "
                          "directory and plugin environments may compile native code"),
        scalable=True, stateful=False,
        defaults=DefaultSizing(("250m", "1Gi"), ("1", "2Gi"), (0, 20, 5, 3), (0, 10, 5, 3),
                               (10, 10, 5, 90), storage="10Gi"),
        emptydirs=_API_TMP, data_mount=Mount("plugin-storage", "/app/storage"),
        db_pools="plugin",
        notes=("The image has no USER; it runs as uid 1000 with fsGroup so /app/storage "
               "and HOME=/tmp are writable.",),
    ),
    Component(
        name="ssrf-proxy", summary="Squid forward proxy for outbound requests from Dify",
        image="ubuntu/squid", tag="6.10-24.10_beta", helm_key="ssrfProxy",
        workload="Deployment", ports=(Port("proxy", 3128), Port("sandbox", 8194)),
        liveness=Check(port="proxy"), readiness=Check(port="proxy"), startup=None,
        # Squid started by a non-root user stays that user; with no disk cache, logs to
        # stdout and the pid file in /tmp it needs no root at all.
        security=Security(user=13, group=13, read_only_root=True),
        scalable=True, stateful=False,
        defaults=DefaultSizing(("50m", "64Mi"), ("250m", "256Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        emptydirs=(Mount("tmp", "/tmp"), Mount("spool", "/var/spool/squid"),
                   Mount("run", "/run")),
        args=("-N", "-f", "/etc/squid/conf.d/difygen.conf"),
    ),
    Component(
        name="nginx", summary="Reverse proxy in front of api, web and plugin endpoints",
        image="nginxinc/nginx-unprivileged", tag="1.27-alpine", helm_key="proxy",
        workload="Deployment", ports=(Port("http", 8080),),
        liveness=Check(http_path="/healthz", port="http"),
        readiness=Check(http_path="/healthz", port="http"), startup=None,
        security=Security(user=101, group=101, read_only_root=True),
        scalable=True, stateful=False,
        defaults=DefaultSizing(("50m", "64Mi"), ("250m", "128Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        emptydirs=(Mount("tmp", "/tmp"), Mount("cache", "/var/cache/nginx")),
    ),
    Component(
        name="agent-backend", summary="Agent run/stream backend (new in 1.16)",
        image="langgenius/dify-agent-backend", tag=DIFY_VERSION, helm_key="agentBackend",
        workload="Deployment", ports=(Port("http", 5050),),
        liveness=Check(port="http"), readiness=Check(port="http"), startup=None,
        security=Security(user=1001, group=1001, read_only_root=False,
                          writable_root_reason="the image's writable paths are not "
                                               "documented for 1.16.1"),
        scalable=True, stateful=False, required=False,
        defaults=DefaultSizing(("100m", "256Mi"), ("500m", "512Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        emptydirs=_API_TMP,
    ),
    Component(
        name="local-sandbox", summary="Shell sandbox for agents (shellctl, new in 1.16)",
        image="langgenius/dify-agent-local-sandbox", tag=DIFY_VERSION,
        helm_key="localSandbox", workload="Deployment", ports=(Port("http", 5004),),
        liveness=Check(http_path="/healthz", port="http"),
        readiness=Check(http_path="/healthz", port="http"), startup=None,
        security=Security(user=1001, group=1001, read_only_root=False,
                          writable_root_reason="agents run shell commands that may write "
                                               "anywhere their user can"),
        scalable=False, stateful=False, required=False, singleton=True,
        defaults=DefaultSizing(("100m", "256Mi"), ("1", "1Gi"), (0, 15, 5, 4), (0, 10, 5, 3)),
        emptydirs=(Mount("tmp", "/tmp"), Mount("home", "/home/dify")),
    ),
    Component(
        name="postgres", summary="PostgreSQL 15: Dify's and the plugin daemon's database",
        image="postgres", tag="15-alpine", helm_key="postgresql", workload="StatefulSet",
        ports=(Port("postgres", 5432),),
        liveness=Check(command=("pg_isready", "-h", "127.0.0.1", "-U", "postgres")),
        readiness=Check(command=("pg_isready", "-h", "127.0.0.1", "-U", "postgres",
                                 "-d", "dify")),
        startup=None,
        security=Security(user=70, group=70, read_only_root=True),
        scalable=False, stateful=True,
        defaults=DefaultSizing(("250m", "512Mi"), ("1", "1Gi"), (30, 15, 5, 6), (5, 10, 5, 3),
                               storage="10Gi"),
        emptydirs=(Mount("tmp", "/tmp"), Mount("run", "/var/run/postgresql")),
        data_mount=Mount("data", "/var/lib/postgresql/data"),
    ),
    Component(
        name="redis", summary="Redis 6: cache, Celery broker, agent state",
        image="redis", tag="6-alpine", helm_key="redis", workload="StatefulSet",
        ports=(Port("redis", 6379),),
        liveness=Check(command=("sh", "-c", "redis-cli -a \"$REDIS_PASSWORD\" --no-auth-warning "
                                "ping | grep -q PONG")),
        readiness=Check(command=("sh", "-c", "redis-cli -a \"$REDIS_PASSWORD\" "
                                 "--no-auth-warning ping | grep -q PONG")),
        startup=None,
        security=Security(user=999, group=999, read_only_root=True),
        scalable=False, stateful=True,
        defaults=DefaultSizing(("50m", "128Mi"), ("250m", "256Mi"), (10, 15, 5, 4),
                               (5, 10, 5, 3), storage="2Gi"),
        emptydirs=(Mount("tmp", "/tmp"),), data_mount=Mount("data", "/data"),
    ),
    Component(
        name="weaviate", summary="Weaviate: the default vector database",
        image="semitechnologies/weaviate", tag="1.27.0", helm_key="weaviate",
        workload="StatefulSet", ports=(Port("http", 8080), Port("grpc", 50051)),
        liveness=Check(http_path="/v1/.well-known/live", port="http"),
        readiness=Check(http_path="/v1/.well-known/ready", port="http"),
        # Loading large indexes from disk after a restart can take minutes.
        startup=Check(http_path="/v1/.well-known/live", port="http"),
        security=Security(user=1000, group=1000, read_only_root=True),
        scalable=False, stateful=True,
        defaults=DefaultSizing(("200m", "512Mi"), ("1", "1536Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3), (5, 10, 5, 60), storage="10Gi"),
        emptydirs=(Mount("tmp", "/tmp"),), data_mount=Mount("data", "/var/lib/weaviate"),
        notes=("The Go binary needs no particular user; it runs as 1000 with fsGroup so the "
               "data volume is writable.",),
    ),
)

COMPONENTS: dict[str, Component] = {c.name: c for c in CATALOG}
COMPONENT_NAMES: tuple[str, ...] = tuple(COMPONENTS)
