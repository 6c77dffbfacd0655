"""Every Dify 1.16.1 component that runs in the cluster, and what difygen knows about it.

Facts (images, ports, health endpoints, users, writable paths) were read from Dify's
compose setup and Dockerfiles, dify-sandbox 0.2.15 and dify-plugin-daemon 0.6.3; see
docs/components.md for the evidence and for each decision. This module holds facts and
decisions, not sizing: sizing comes from profiles (defaults below are the neutral base).
"""

from __future__ import annotations

from dataclasses import dataclass, field

DIFY_VERSION = "1.16.1"


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
class Call:
    """A connection a component opens to another component in the namespace: the callee
    and the name of the callee's port (the policies open exactly that port)."""

    component: str
    port: str


@dataclass(frozen=True)
class Traffic:
    """Who a component talks to: the data the NetworkPolicies are built from.

    Ingress is never declared: a component accepts a port from exactly the components
    that call it (and, for the entry point, from the profile's ingress source).
    """

    calls: tuple[Call, ...] = ()
    # Why it must open connections to the internet (public addresses only: the profile's
    # `networkPolicies.internetExcept` ranges stay closed); "" means it never does.
    internet: str = ""
    # Accepts traffic from outside the namespace (networkPolicies.ingressFrom).
    entry_point: bool = False
    # Runs untrusted code (code nodes, agent shells): it may open no connection but this
    # proxy port (and DNS). Everything it fetches goes through the proxy's URL filter.
    confined_to: Call | None = None

    def __post_init__(self) -> None:
        if self.confined_to is not None and (self.calls or self.internet or self.entry_point):
            raise ValueError("a component confined to a proxy calls nothing else, has no "
                             "internet access of its own and is no entry point")

    def callees(self) -> tuple[Call, ...]:
        return (*self.calls, self.confined_to) if self.confined_to else self.calls


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
    traffic: Traffic = Traffic()
    emptydirs: tuple[Mount, ...] = ()
    data_mount: Mount | None = None  # where the persistent (or shared) data lives
    mode: str | None = None  # MODE for the dify-api image
    # How many database connection pools one replica holds: "api" uses the derived
    # SERVER_WORKER_AMOUNT, "one" a single process, "plugin" the plugin daemon's own pool.
    db_pools: str | None = None
    required: bool = True  # False: a profile may turn it off
    singleton: bool = False  # exactly one replica, Recreate strategy
    entry_point: bool = False  # the Service an Ingress routes to (its first port)
    args: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    # The language runtime that holds the container's memory. "python" processes do not
    # give freed memory back to the OS (CPython's allocator keeps its arenas), so their
    # memory utilization only ratchets up: a memory HPA target would pin them at maximum.
    runtime: str = "unknown"  # python | go | node | c | unknown
    # HPA scale-down stabilization: how long the recommendation must stay lower before
    # pods are removed. Long for components whose pods hold long requests or tasks.
    scale_down_window_seconds: int = 300

    @property
    def object_name(self) -> str:
        return f"dify-{self.name}"


_API_SECURITY = Security(user=1001, group=1001, read_only_root=True)
_API_TMP = (Mount("tmp", "/tmp"),)
# Everything the dify-api image reaches in the namespace. api, api-websocket, worker and
# beat read one ConfigMap (DB_HOST, REDIS_HOST, WEAVIATE_*, CODE_EXECUTION_ENDPOINT,
# PLUGIN_DAEMON_URL, SSRF_PROXY_*, AGENT_BACKEND_BASE_URL), so each may open all of them.
_API_CALLS = (
    Call("postgres", "postgres"), Call("redis", "redis"),
    Call("weaviate", "http"), Call("weaviate", "grpc"),
    Call("sandbox", "http"), Call("plugin-daemon", "http"),
    Call("ssrf-proxy", "proxy"), Call("agent-backend", "http"),
)
# api and worker call public services directly, not through the SSRF proxy: the plugin
# marketplace (api/core/helper/marketplace.py uses httpx without a proxy), mail (SMTP,
# Resend, SendGrid), object storage, OAuth providers, the update check, ops tracing.
# Model providers are not among them: Dify 1.x invokes models through the plugin daemon
# (api/core/plugin/impl/model.py).
_API_INTERNET = ("plugin marketplace, mail, object storage, OAuth login, update check and "
                 "trace providers are called directly, not through the SSRF proxy")
_CELERY_PING = ("sh", "-c", "celery -A celery_healthcheck.celery inspect ping "
                "-d \"celery@$HOSTNAME\" --timeout 10")

CATALOG: tuple[Component, ...] = (
    Component(
        name="api", summary="Dify API server (gunicorn, gevent workers)",
        image="langgenius/dify-api", tag=DIFY_VERSION, helm_key="api", workload="Deployment",
        ports=(Port("http", 5001),),
        traffic=Traffic(calls=_API_CALLS, internet=_API_INTERNET),
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
        runtime="python",
    ),
    Component(
        name="api-websocket", summary="Real-time collaboration (socket.io) on the api image",
        image="langgenius/dify-api", tag=DIFY_VERSION, helm_key="apiWebsocket",
        workload="Deployment", ports=(Port("http", 5001),),
        traffic=Traffic(calls=_API_CALLS),
        liveness=Check(http_path="/health", port="http"),
        readiness=Check(http_path="/health", port="http"),
        startup=None, security=_API_SECURITY, scalable=True, stateful=False,
        defaults=DefaultSizing(("50m", "256Mi"), ("500m", "512Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        emptydirs=_API_TMP, mode="api", db_pools="one", required=False,
        notes=("Runs the api image with the gevent-websocket worker class, one process.",),
        runtime="python",
    ),
    Component(
        name="worker", summary="Celery worker (gevent pool): indexing, mail, workflows",
        image="langgenius/dify-api", tag=DIFY_VERSION, helm_key="worker",
        workload="Deployment", ports=(),
        traffic=Traffic(calls=_API_CALLS, internet=_API_INTERNET),
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
        # A Celery task being indexed is lost work when its pod goes: remove workers slowly.
        scale_down_window_seconds=600,
        runtime="python",
    ),
    Component(
        name="worker-beat", summary="Celery beat scheduler (exactly one)",
        image="langgenius/dify-api", tag=DIFY_VERSION, helm_key="beat",
        workload="Deployment", ports=(),
        traffic=Traffic(calls=_API_CALLS),
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
        runtime="python",
    ),
    Component(
        name="web", summary="Dify web front end (Next.js)",
        image="langgenius/dify-web", tag=DIFY_VERSION, helm_key="web", workload="Deployment",
        ports=(Port("http", 3000),),
        # Server-side rendering calls the api (SERVER_CONSOLE_API_URL in Dify's compose).
        traffic=Traffic(calls=(Call("api", "http"),)),
        liveness=Check(port="http"), readiness=Check(http_path="/apps", port="http"),
        startup=None,
        security=Security(user=1001, group=1001, read_only_root=False,
                          writable_root_reason="the entrypoint rewrites Next.js public "
                          "runtime config inside the app directory at start"),
        scalable=True, stateful=False,
        defaults=DefaultSizing(("100m", "256Mi"), ("500m", "512Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        emptydirs=_API_TMP,
        runtime="node",
    ),
    Component(
        name="sandbox", summary="dify-sandbox: runs user code (Python, Node.js) in a jail",
        image="langgenius/dify-sandbox", tag="0.2.15", helm_key="sandbox",
        workload="Deployment", ports=(Port("http", 8194),),
        # Compose puts the sandbox only on an internal network (no route out) whose exit
        # is the proxy; its config and HTTP(S)_PROXY point there.
        traffic=Traffic(confined_to=Call("ssrf-proxy", "proxy")),
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
        runtime="go",
    ),
    Component(
        name="plugin-daemon", summary="Plugin runtime: installs and runs Dify plugins",
        image="langgenius/dify-plugin-daemon", tag="0.6.3-local", helm_key="pluginDaemon",
        workload="Deployment", ports=(Port("http", 5002), Port("debug", 5003)),
        traffic=Traffic(
            # DIFY_INNER_API_URL (plugins call back into Dify), its own database and Redis.
            calls=(Call("api", "http"), Call("postgres", "postgres"), Call("redis", "redis")),
            internet="installs plugins from the marketplace and their Python packages; "
                     "model, tool and data-source plugins call their providers (compose "
                     "gives it no proxy)"),
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
        # The daemon's memory is its long-lived Python plugin processes, not the Go binary.
        runtime="python",
    ),
    Component(
        name="ssrf-proxy", summary="Squid forward proxy for outbound requests from Dify",
        image="ubuntu/squid", tag="6.10-24.10_beta", helm_key="ssrfProxy",
        workload="Deployment", ports=(Port("proxy", 3128), Port("sandbox", 8194)),
        traffic=Traffic(
            # squid's reverse-proxy peer (cache_peer) is the sandbox.
            calls=(Call("sandbox", "http"),),
            internet="it is the way out for user-supplied URLs: HTTP request nodes, tools, "
                     "remote files, code run in the sandboxes"),
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
        runtime="c",
    ),
    Component(
        name="nginx", summary="Reverse proxy in front of api, web and plugin endpoints",
        image="nginxinc/nginx-unprivileged", tag="1.27-alpine", helm_key="proxy",
        workload="Deployment", ports=(Port("http", 8080),),
        traffic=Traffic(
            # Its upstreams (the server block in its ConfigMap).
            calls=(Call("api", "http"), Call("api-websocket", "http"), Call("web", "http"),
                   Call("plugin-daemon", "http")),
            entry_point=True),
        liveness=Check(http_path="/healthz", port="http"),
        readiness=Check(http_path="/healthz", port="http"), startup=None,
        security=Security(user=101, group=101, read_only_root=True),
        scalable=True, stateful=False, entry_point=True,
        defaults=DefaultSizing(("50m", "64Mi"), ("250m", "128Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        emptydirs=(Mount("tmp", "/tmp"), Mount("cache", "/var/cache/nginx")),
        runtime="c",
    ),
    Component(
        name="agent-backend", summary="Agent run/stream backend (new in 1.16)",
        image="langgenius/dify-agent-backend", tag=DIFY_VERSION, helm_key="agentBackend",
        workload="Deployment", ports=(Port("http", 5050),),
        traffic=Traffic(
            # DIFY_AGENT_INNER_API_URL, DIFY_AGENT_PLUGIN_DAEMON_URL (models go through the
            # plugin daemon), the shell sandbox, and DIFY_AGENT_REDIS_URL (in the Secret).
            calls=(Call("api", "http"), Call("plugin-daemon", "http"),
                   Call("local-sandbox", "http"), Call("redis", "redis"))),
        liveness=Check(port="http"), readiness=Check(port="http"), startup=None,
        security=Security(user=1001, group=1001, read_only_root=False,
                          writable_root_reason="the image's writable paths are not "
                                               "documented for 1.16.1"),
        scalable=True, stateful=False, required=False,
        defaults=DefaultSizing(("100m", "256Mi"), ("500m", "512Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        emptydirs=_API_TMP,
        # Its image and sources are not in the 1.16.1 tree we read: runtime unknown.
        runtime="unknown",
    ),
    Component(
        name="local-sandbox", summary="Shell sandbox for agents (shellctl, new in 1.16)",
        image="langgenius/dify-agent-local-sandbox", tag=DIFY_VERSION,
        helm_key="localSandbox", workload="Deployment", ports=(Port("http", 5004),),
        # Agents run arbitrary shell commands here; compose sends its traffic through a
        # proxy (HTTP_PROXY) and nothing else.
        traffic=Traffic(confined_to=Call("ssrf-proxy", "proxy")),
        liveness=Check(http_path="/healthz", port="http"),
        readiness=Check(http_path="/healthz", port="http"), startup=None,
        security=Security(user=1001, group=1001, read_only_root=False,
                          writable_root_reason="agents run shell commands that may write "
                                               "anywhere their user can"),
        scalable=False, stateful=False, required=False, singleton=True,
        defaults=DefaultSizing(("100m", "256Mi"), ("1", "1Gi"), (0, 15, 5, 4), (0, 10, 5, 3)),
        emptydirs=(Mount("tmp", "/tmp"), Mount("home", "/home/dify")),
        runtime="unknown",
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
        runtime="c",
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
        runtime="c",
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
        runtime="go",
    ),
)

# Add-ons a profile option turns on (monitoring): hardened like every component, built by
# their own target module, never part of the base. Images and users from the exporters'
# Dockerfiles: postgres_exporter runs as `nobody` (65534), redis_exporter as 59000.
ADDONS: tuple[Component, ...] = (
    Component(
        name="postgres-exporter", summary="Prometheus exporter for Postgres (connections)",
        image="prometheuscommunity/postgres-exporter", tag="v0.17.1", helm_key="",
        workload="Deployment", ports=(Port("metrics", 9187),),
        liveness=Check(port="metrics"), readiness=Check(port="metrics"), startup=None,
        security=Security(user=65534, group=65534, read_only_root=True),
        scalable=False, stateful=False, required=False,
        defaults=DefaultSizing(("20m", "32Mi"), ("100m", "64Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        runtime="go",
    ),
    Component(
        name="redis-exporter", summary="Prometheus exporter for Redis (memory, queue lengths)",
        image="oliver006/redis_exporter", tag="v1.67.0", helm_key="",
        workload="Deployment", ports=(Port("metrics", 9121),),
        liveness=Check(port="metrics"), readiness=Check(port="metrics"), startup=None,
        security=Security(user=59000, group=59000, read_only_root=True),
        scalable=False, stateful=False, required=False,
        defaults=DefaultSizing(("20m", "32Mi"), ("100m", "64Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        runtime="go",
    ),
)

COMPONENTS: dict[str, Component] = {c.name: c for c in CATALOG}
COMPONENT_NAMES: tuple[str, ...] = tuple(COMPONENTS)
ENTRY_POINT: Component = next(c for c in CATALOG if c.entry_point)
