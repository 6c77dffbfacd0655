"""Every Dify 1.16.1 component that runs in the cluster, and what difygen knows about it.

Facts (images, ports, health endpoints, users, writable paths) were read from Dify's
compose setup and Dockerfiles, dify-sandbox 0.2.15 and dify-plugin-daemon 0.6.3; see
docs/components.md for the evidence and for each decision. This module holds facts and
decisions, not sizing: sizing comes from profiles (defaults below are the neutral base).
"""

from __future__ import annotations

from dataclasses import dataclass

from generator.versions import DIFY_VERSION


@dataclass(frozen=True)
class Port:
    name: str
    port: int  # the container port
    service_port: int | None = None  # the Service port when it differs (nginx: 80)

    @property
    def exposed(self) -> int:
        return self.service_port if self.service_port is not None else self.port


# The two sets of env names in which programs read where their backing services are
# (Component.backends_env): Dify's (the dify-api image) and dify-plugin-daemon's.
DIFY_ENV = "dify"
PLUGIN_DAEMON_ENV = "dify-plugin-daemon"


@dataclass(frozen=True)
class Endpoint:
    """A URL of another component, built from its Service name and declared port."""

    component: str
    port: str = "http"
    scheme: str = "http"
    path: str = ""
    part: str = "url"  # url | host | port | hostport (host:port then path, no scheme)

    def render(self) -> str:
        if self.part == "host":
            return service_host(self.component)
        if self.part == "hostport":
            host, port = host_port(self.component, self.port)
            return f"{host}:{port}{self.path}"
        if self.part == "port":
            return str(COMPONENTS[self.component].port(self.port).exposed)
        return endpoint(self.component, self.port, self.scheme, self.path)


@dataclass(frozen=True)
class Env:
    """One environment variable of a container, as data.

    Exactly one source: a literal `value`, a `secret_key` of the profile's Secret, an
    `endpoint` of another component, a `public` URL derived from the profile's publicUrl
    ("url": the URL or "" for same origin; "url-if-set": the URL, omitted without one;
    "socket": its ws/wss form, omitted without one), `runs`: "true" or "false" by
    whether that component is enabled, or a `derived` value the plan computes
    (Tunables.derived_env). `when` names a component that must be enabled for the
    variable to be set.
    """

    name: str
    value: str | None = None
    secret_key: str | None = None
    optional: bool = False
    endpoint: Endpoint | None = None
    public: str | None = None
    derived: bool = False
    when: str | None = None
    runs: str | None = None

    def __post_init__(self) -> None:
        sources = [self.value is not None, self.secret_key is not None,
                   self.endpoint is not None, self.public is not None, self.derived,
                   self.runs is not None]
        if sum(sources) != 1:
            raise ValueError(f"env {self.name}: exactly one source")


@dataclass(frozen=True)
class Ref:
    """Another component a config file names, as a template variable: its endpoint
    (url, host or port), or `host_regex` for a squid dstdom_regex of its Service names.
    With `when`, the variable is "" unless that component is enabled."""

    var: str
    endpoint: Endpoint
    host_regex: bool = False
    when: str | None = None


@dataclass(frozen=True)
class ConfigFile:
    """A text file rendered from a jinja2 template in generator/templates/."""

    template: str
    filename: str
    refs: tuple[Ref, ...] = ()


@dataclass(frozen=True)
class Shutdown:
    """How a pod stops: a preStop delay so Service endpoints drain first, and what the
    grace period must cover after it ("gunicorn": GUNICORN_TIMEOUT, "celery": the longest
    task, or a fixed number of seconds)."""

    pre_stop_seconds: int = 0
    drain: str = "fixed"
    seconds: int = 30


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
class Metrics:
    """A component's own Prometheus endpoint (scraped by a PodMonitor when the profile
    turns monitoring on): the port name, the container port to add when it is not one of
    the component's ports, and the env that switches the endpoint on."""

    port: str
    path: str = "/metrics"
    add_port: int | None = None
    env: tuple[Env, ...] = ()


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
class ChartCheck:
    """A probe the community chart runs differently from the catalog's, and why."""

    kind: str  # liveness | readiness | startup
    check: Check
    reason: str


@dataclass(frozen=True)
class HelmSlot:
    """How the community chart (BorisPolonsky/dify-helm 0.38.0-rc2, docs/helm.md) carries
    a component: the one place the Helm target reads its keys from.

    kind "dify" is a block of the chart's own Dify templates (image under `image.<image>`,
    `extraEnv`, `podSecurityContext`, ...); "subchart" a dependency chart with its own
    shape (Bitnami postgresql and redis, weaviate), built by the Helm target per chart.
    A component without a slot is one the chart cannot deploy.
    """

    key: str  # the top-level values key
    kind: str = "dify"  # dify | subchart
    label: str = ""  # the pod's `component` label (default: key), for selectors
    image: str = ""  # the key under the top-level `image` (default: key)
    gated_security: bool = False  # security contexts take `enabled:` (else raw objects)
    replicas: bool = True  # has a `replicas` key
    autoscaling: bool = False  # has an `autoscaling` block
    # The chart's own probe handler for each probe block it has; a block is used only
    # when its handler is the catalog's, so Helm and Kustomize probe the same thing.
    native_probes: tuple[tuple[str, Check], ...] = ()
    chart_mounts: tuple[str, ...] = ()  # paths the chart already mounts a volume at
    base_env: tuple[tuple[str, str], ...] = ()  # chart extraEnv defaults we must keep
    # Probes the chart's own setup forces to differ from the catalog's.
    checks: tuple[ChartCheck, ...] = ()
    # Why the root filesystem must stay writable under the chart, when it must.
    writable_root_reason: str = ""
    # The chart has a terminationGracePeriodSeconds key for it.
    grace_period: bool = False
    # A Bitnami subchart: its own image, not the catalog's, and a serviceAccount block;
    # the other subchart (weaviate) takes the catalog's image and has no service account.
    bitnami: bool = False
    # Literal env of the catalog the chart's templates do not set, carried in extraEnv.
    carried_env: tuple[str, ...] = ()
    # Values keys set to a public URL of the profile (kinds as in Env.public).
    public_urls: tuple[tuple[str, str], ...] = ()
    # The chart has no migration Job: with `migration: true` this component's pods run the
    # migration at start (and the chart holds the worker until they answer). Turning it
    # off would leave no one to migrate, so it stays on and the difference is stated.
    migrates_at_start: bool = False

    @property
    def pod_label(self) -> str:
        return self.label or self.key

    @property
    def image_key(self) -> str:
        return self.image or self.key

    def native_probe(self, kind: str) -> Check | None:
        return dict(self.native_probes).get(kind)

    def chart_check(self, kind: str) -> ChartCheck | None:
        return next((c for c in self.checks if c.kind == kind), None)


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
    helm: HelmSlot | None  # how the community chart carries it (None: it cannot)
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
    # How many database connection pools one replica holds: "api" uses the derived
    # SERVER_WORKER_AMOUNT, "one" a single process, "plugin" the plugin daemon's own pool.
    db_pools: str | None = None
    required: bool = True  # False: a profile may turn it off
    enabled_by_default: bool = True
    singleton: bool = False  # exactly one replica, Recreate strategy
    entry_point: bool = False  # the Service an Ingress routes to (its first port)
    command: tuple[str, ...] = ()  # replaces the image's entrypoint when set
    args: tuple[str, ...] = ()
    env: tuple[Env, ...] = ()
    # The ConfigMap whose keys become environment (envFrom), by the component that owns
    # it, and whether the whole Secret is read the same way (the api family only).
    env_from_config: str | None = None
    env_from_secret: bool = False
    # Text files mounted read-only at config_dir from this component's ConfigMap.
    config_files: tuple[ConfigFile, ...] = ()
    config_dir: str | None = None
    shutdown: Shutdown = Shutdown()
    # The group of derived settings (Tunables.group) its env ConfigMap carries, for the
    # component that owns one (env_from_config == name), and that ConfigMap's own
    # settings; the backends' wiring (targets/external.py) joins them.
    tunables: str | None = None
    config_env: tuple[Env, ...] = ()
    # Its ConfigMap's name when not dify-<name>-config.
    config_map: str = ""
    # The env names in which the ConfigMap it owns tells its program where the backing
    # services are (Postgres, Redis, vector store, file storage; targets/external.py):
    # DIFY_ENV (Dify's settings classes) or PLUGIN_DAEMON_ENV (dify-plugin-daemon's);
    # "" when it owns no such ConfigMap. Its Secret references for storage credentials
    # follow the same names.
    backends_env: str = ""
    # The PersistentVolumeClaim it owns for files other Deployments mount too (api
    # storage, plugin storage), when the plan gives it one.
    shared_claim: str = ""
    # The migration Job needs it running first (an Argo CD sync wave before the Job).
    migration_prerequisite: bool = False
    # What it is to the others where a target needs it by function, not by name:
    # "database" (Dify's and the plugin daemon's Postgres), "broker" (the Redis that is
    # cache and Celery broker), "queue-worker" (the Celery worker KEDA pools replace).
    role: str = ""
    # Enabled exactly when that component is (a profile cannot switch it on its own).
    follows: str | None = None
    # A memory-backed /dev/shm, sized by the plan (Tunables.postgres_shm_mb).
    shm: bool = False
    # What is lost under Helm when the chart cannot deploy it (helm is None).
    helm_gap: str = ""
    metrics: Metrics | None = None
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

    @property
    def config_map_name(self) -> str:
        return self.config_map or f"dify-{self.name}-config"

    @property
    def reads_backends_as(self) -> str:
        """The backends_env of the ConfigMap it reads through envFrom ("" if none)."""
        if self.env_from_config is None:
            return ""
        return COMPONENTS[self.env_from_config].backends_env

    def port(self, name: str) -> Port:
        for p in self.ports:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no port named {name!r}")


# Settings of the dify-api image (api, websocket, worker, beat) in its shared ConfigMap;
# Postgres, Redis, the vector store and file storage come from the backends' wiring
# (targets/external.py), the worker and pool counts from the plan.
_DIFY_CONFIG = (
    Env("DEPLOY_ENV", "PRODUCTION"),
    Env("LOG_LEVEL", "INFO"),
    # Migrations run once per release in the migration Job (MODE=migration), never in
    # the api pods an HPA multiplies.
    Env("MIGRATION_ENABLED", "false"),
    Env("DB_TYPE", "postgresql"),
    Env("CELERY_BACKEND", "redis"),
    Env("CODE_EXECUTION_ENDPOINT", endpoint=Endpoint("sandbox")),
    Env("PLUGIN_DAEMON_URL", endpoint=Endpoint("plugin-daemon")),
    Env("SSRF_PROXY_HTTP_URL", endpoint=Endpoint("ssrf-proxy", "proxy")),
    Env("SSRF_PROXY_HTTPS_URL", endpoint=Endpoint("ssrf-proxy", "proxy")),
    Env("ENABLE_COLLABORATION_MODE", runs="api-websocket"),
    Env("HOME", "/tmp"),
    # Public URLs, all from the one publicUrl: empty means same origin (relative links),
    # which nginx serves by path.
    *(Env(name, public="url") for name in (
        "CONSOLE_WEB_URL", "CONSOLE_API_URL", "SERVICE_API_URL", "APP_WEB_URL",
        "APP_API_URL", "FILES_URL")),
    Env("TRIGGER_URL", public="url-if-set"),
    # Plugins and the agent sandbox fetch files from inside the cluster.
    Env("INTERNAL_FILES_URL", endpoint=Endpoint("api")),
    Env("AGENT_BACKEND_BASE_URL", endpoint=Endpoint("agent-backend"), when="agent-backend"),
)
_API_SECURITY = Security(user=1001, group=1001, read_only_root=True)
_API_TMP = (Mount("tmp", "/tmp"),)
# Everything the dify-api image reaches in the namespace. api, api-websocket, worker and
# beat read one ConfigMap (DB_HOST, REDIS_HOST, WEAVIATE_*, QDRANT_* or PGVECTOR_*,
# CODE_EXECUTION_ENDPOINT, PLUGIN_DAEMON_URL, SSRF_PROXY_*, AGENT_BACKEND_BASE_URL), so
# each may open all of them.
_API_CALLS = (
    Call("postgres", "postgres"), Call("redis", "redis"),
    Call("weaviate", "http"), Call("weaviate", "grpc"),
    Call("qdrant", "http"), Call("qdrant", "grpc"), Call("pgvector", "postgres"),
    Call("sandbox", "http"), Call("plugin-daemon", "http"),
    Call("ssrf-proxy", "proxy"), Call("agent-backend", "http"),
    # INTERNAL_FILES_URL in the shared ConfigMap names the api itself.
    Call("api", "http"),
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
_SQUID_USER = Security(user=13, group=13, read_only_root=True)
_SQUID_DIRS = (Mount("tmp", "/tmp"), Mount("spool", "/var/spool/squid"), Mount("run", "/run"))
_SQUID_CONFIG_DIR = "/etc/squid-difygen"
# Squid runs in the foreground as the unprivileged user it is started as, with difygen's
# config file instead of the image's entrypoint (which rewrites /etc/squid at start).
_SQUID_COMMAND = ("squid", "-N", "-f", f"{_SQUID_CONFIG_DIR}/squid.conf")


# The chart's own probes of the api image and the sandbox: GET /health, startup by TCP.
_API_PROBES = (("liveness", Check(http_path="/health", port="http")),
               ("readiness", Check(http_path="/health", port="http")),
               ("startup", Check(port="http")))
# The chart gives beat no command or args, so it keeps the image's schedule file in its
# working directory /app/api instead of the /tmp the Kustomize base points it at.
_BEAT_SCHEDULE_GAP = ("worker-beat: the chart cannot set beat's command, so celery beat "
                      "writes its schedule to /app/api: its root filesystem stays writable "
                      "and liveness watches /app/api/celerybeat-schedule instead of /tmp")
# The chart's nginx configuration has no health location (everything unknown goes to the
# web front end), so the catalog's GET /healthz would fail; a TCP check is what it allows.
_NGINX_TCP = ("nginx: the chart's nginx configuration has no /healthz location, so its "
              "liveness and readiness probes are TCP checks on port 8080 instead of GET "
              "/healthz")


def _proxy_env(proxy: str) -> tuple[Env, ...]:
    return (Env("HTTP_PROXY", endpoint=Endpoint(proxy, "proxy")),
            Env("HTTPS_PROXY", endpoint=Endpoint(proxy, "proxy")))


CATALOG: tuple[Component, ...] = (
    Component(
        name="api", summary="Dify API server (gunicorn, gevent workers)",
        image="langgenius/dify-api", tag=DIFY_VERSION,
        helm=HelmSlot("api", gated_security=True, autoscaling=True, native_probes=_API_PROBES,
                      migrates_at_start=True,
                       # extraEnv replaces the chart's list; its default turns off the
                       # update check.
                       base_env=(("CHECK_UPDATE_URL", ""),)),
        workload="Deployment", ports=(Port("http", 5001),),
        traffic=Traffic(calls=_API_CALLS, internet=_API_INTERNET),
        liveness=Check(http_path="/health", port="http"),
        readiness=Check(http_path="/health", port="http"),
        # Start-up loads every provider and plugin client before gunicorn answers.
        startup=Check(http_path="/health", port="http"),
        security=_API_SECURITY, scalable=True, stateful=False,
        # Liveness is lenient: /health shares gevent's SERVER_WORKER_CONNECTIONS with
        # streaming chats, so a busy pod answers late; 6 x 20 s before a restart, 10 s each.
        defaults=DefaultSizing(("250m", "1Gi"), ("1", "2Gi"), (0, 20, 10, 6), (0, 10, 5, 3),
                               (10, 10, 5, 30), storage="10Gi"),
        emptydirs=_API_TMP, data_mount=Mount("storage", "/app/api/storage"),
        runtime="python",
        db_pools="api", env=(Env("MODE", "api"),), env_from_config="api", env_from_secret=True,
        tunables="api", config_env=_DIFY_CONFIG, config_map="dify-config",
        backends_env=DIFY_ENV, shared_claim="dify-storage",
        shutdown=Shutdown(pre_stop_seconds=10, drain="gunicorn"),
    ),
    Component(
        name="api-websocket", summary="Real-time collaboration (socket.io) on the api image",
        image="langgenius/dify-api", tag=DIFY_VERSION,
        helm=HelmSlot("apiWebsocket", label="api-websocket", image="api", gated_security=True,
                      public_urls=(("socketUrl", "socket"),),
                       native_probes=_API_PROBES),
        workload="Deployment", ports=(Port("http", 5001),),
        traffic=Traffic(calls=_API_CALLS),
        liveness=Check(http_path="/health", port="http"),
        readiness=Check(http_path="/health", port="http"),
        startup=None, security=_API_SECURITY, scalable=True, stateful=False,
        defaults=DefaultSizing(("50m", "256Mi"), ("500m", "512Mi"), (0, 20, 10, 6),
                               (0, 10, 5, 3)),
        emptydirs=_API_TMP, db_pools="one", required=False,
        # Dify's compose default: collaboration mode off (ENABLE_COLLABORATION_MODE=false).
        enabled_by_default=False,
        env=(Env("MODE", "api"), Env("SERVER_WORKER_AMOUNT", "1"),
             Env("SERVER_WORKER_CLASS", "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"),
             Env("SERVER_WORKER_CONNECTIONS", "1000")),
        env_from_config="api", env_from_secret=True,
        shutdown=Shutdown(pre_stop_seconds=10, drain="gunicorn"),
        # The api image with the gevent-websocket worker class, one process.
        runtime="python",
    ),
    Component(
        name="worker", summary="Celery worker (gevent pool): indexing, mail, workflows",
        image="langgenius/dify-api", tag=DIFY_VERSION,
        helm=HelmSlot("worker", image="api", gated_security=True, autoscaling=True),
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
        emptydirs=_API_TMP, data_mount=Mount("storage", "/app/api/storage"),
        # A Celery task being indexed is lost work when its pod goes: remove workers slowly.
        scale_down_window_seconds=600,
        runtime="python",
        db_pools="one", env=(Env("MODE", "worker"),), env_from_config="api", env_from_secret=True,
        role="queue-worker",
        # Celery's warm shutdown finishes the running tasks on SIGTERM.
        shutdown=Shutdown(drain="celery"),
    ),
    Component(
        name="worker-beat", summary="Celery beat scheduler (exactly one)",
        image="langgenius/dify-api", tag=DIFY_VERSION,
        helm=HelmSlot("beat", image="api", gated_security=True, replicas=False, checks=(
            ChartCheck("liveness", Check(command=(
                "sh", "-c", "test -n \"$(find /app/api/celerybeat-schedule* -mmin -10)\"")),
                _BEAT_SCHEDULE_GAP),),
            writable_root_reason=_BEAT_SCHEDULE_GAP),
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
        emptydirs=_API_TMP, db_pools="one",
        # The entrypoint would write celerybeat-schedule into /app/api; pointing it at the
        # /tmp emptyDir keeps the root filesystem read-only and gives liveness a heartbeat.
        args=(),
        runtime="python",
        command=("celery", "-A", "app.celery", "beat", "--loglevel", "INFO",
                 "--schedule", "/tmp/celerybeat-schedule"),
        env=(Env("MODE", "beat"),), env_from_config="api", env_from_secret=True,
    ),
    Component(
        name="web", summary="Dify web front end (Next.js)",
        image="langgenius/dify-web", tag=DIFY_VERSION,
        helm=HelmSlot("web", autoscaling=True, native_probes=(("startup", Check(port="http")),),
                      carried_env=("HOME", "PM2_HOME")),
        workload="Deployment",
        ports=(Port("http", 3000),),
        # Server-side rendering calls the api (SERVER_CONSOLE_API_URL in Dify's compose).
        traffic=Traffic(calls=(Call("api", "http"),)),
        liveness=Check(port="http"), readiness=Check(http_path="/apps", port="http"),
        startup=None,
        # The entrypoint only exports variables and starts the server under pm2: pm2's
        # home and Next.js's cache are the only paths written at run time.
        security=Security(user=1001, group=1001, read_only_root=True),
        scalable=True, stateful=False,
        defaults=DefaultSizing(("100m", "256Mi"), ("500m", "512Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        runtime="node",
        emptydirs=(Mount("tmp", "/tmp"), Mount("next-cache", "/app/web/.next/cache")),
        env=(
            Env("HOME", "/tmp"), Env("PM2_HOME", "/tmp/.pm2"),
            Env("NEXT_TELEMETRY_DISABLED", "1"),
            Env("PORT", endpoint=Endpoint("web", part="port")),
            # The browser's API prefixes: empty means the same origin (nginx routes
            # /console/api and /api to the api), never the image's 127.0.0.1 default.
            Env("CONSOLE_API_URL", public="url"), Env("APP_API_URL", public="url"),
            Env("CONSOLE_WEB_URL", public="url"), Env("APP_WEB_URL", public="url"),
            # Server-side rendering calls the api directly inside the cluster.
            Env("SERVER_CONSOLE_API_URL", endpoint=Endpoint("api")),
            Env("NEXT_PUBLIC_SOCKET_URL", public="socket", when="api-websocket"),
            Env("NEXT_PUBLIC_ENABLE_AGENT_V2", "true", when="agent-backend"),
        ),
        shutdown=Shutdown(pre_stop_seconds=10),
    ),
    Component(
        name="sandbox", summary="dify-sandbox: runs user code (Python, Node.js) in a jail",
        image="langgenius/dify-sandbox", tag="0.2.15",
        helm=HelmSlot("sandbox", autoscaling=True, native_probes=_API_PROBES,
                       base_env=(("WORKER_TIMEOUT", "15"),)),
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
        env=(Env("API_KEY", secret_key="CODE_EXECUTION_API_KEY"), Env("GIN_MODE", "release"),
             Env("SANDBOX_PORT", endpoint=Endpoint("sandbox", part="port")),
             Env("WORKER_TIMEOUT", "15"), Env("ENABLE_NETWORK", "true"),
             *_proxy_env("ssrf-proxy")),
        config_files=(ConfigFile("sandbox-config.yaml.j2", "config.yaml", refs=(
            Ref("proxy", Endpoint("ssrf-proxy", "proxy")),)),),
        config_dir="/conf",
    ),
    Component(
        name="plugin-daemon", summary="Plugin runtime: installs and runs Dify plugins",
        image="langgenius/dify-plugin-daemon", tag="0.6.3-local",
        # The daemon runs as a user without a home directory; uv and pip cache under HOME.
        helm=HelmSlot("pluginDaemon", label="plugin-daemon", carried_env=("HOME",)),
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
        env=(
            Env("HOME", "/tmp"),
            Env("SERVER_PORT", endpoint=Endpoint("plugin-daemon", part="port")),
            Env("SERVER_KEY", secret_key="PLUGIN_DAEMON_KEY"),
            Env("DIFY_INNER_API_URL", endpoint=Endpoint("api")),
            Env("DIFY_INNER_API_KEY", secret_key="INNER_API_KEY_FOR_PLUGIN"),
            # Database and Redis addresses come from its ConfigMap (targets/external.py:
            # in the cluster or outside it); only the passwords are set here.
            Env("DB_PASSWORD", secret_key="DB_PASSWORD"),
            Env("REDIS_PASSWORD", secret_key="REDIS_PASSWORD"),
            Env("AWS_ACCESS_KEY", secret_key="S3_ACCESS_KEY", optional=True),
            Env("AWS_SECRET_KEY", secret_key="S3_SECRET_KEY", optional=True),
            Env("PLUGIN_WORKING_PATH", "/app/storage/cwd"),
            Env("PLUGIN_REMOTE_INSTALLING_HOST", "0.0.0.0"),
            Env("PLUGIN_REMOTE_INSTALLING_PORT",
                endpoint=Endpoint("plugin-daemon", "debug", part="port")),
            Env("PYTHON_ENV_INIT_TIMEOUT", "120"), Env("PLUGIN_MAX_EXECUTION_TIMEOUT", "600"),
            Env("FORCE_VERIFYING_SIGNATURE", "true"),
        ),
        env_from_config="plugin-daemon", tunables="plugin", backends_env=PLUGIN_DAEMON_ENV,
        config_env=(Env("PLUGIN_STORAGE_LOCAL_ROOT", "/app/storage"),),
        shared_claim="dify-plugin-storage",
        # The image has no USER; it runs as uid 1000 with fsGroup so /app/storage and
        # HOME=/tmp are writable.
        # The daemon's memory is its long-lived Python plugin processes, not the Go binary.
        runtime="python",
    ),
    Component(
        name="ssrf-proxy", summary="Squid forward proxy for outbound requests from Dify",
        image="ubuntu/squid", tag="6.10-24.10_beta",
        helm=HelmSlot("ssrfProxy", label="ssrf-proxy"),
        workload="Deployment", ports=(Port("proxy", 3128), Port("sandbox", 8194)),
        traffic=Traffic(
            # squid's reverse-proxy peer (cache_peer) is the sandbox.
            calls=(Call("sandbox", "http"),),
            internet="it is the way out for user-supplied URLs: HTTP request nodes, tools, "
                     "remote files, code run in the sandboxes"),
        liveness=Check(port="proxy"), readiness=Check(port="proxy"), startup=None,
        # Squid started by a non-root user stays that user; with no disk cache, logs to
        # stdout and the pid file in /tmp it needs no root at all.
        security=_SQUID_USER, scalable=True, stateful=False,
        defaults=DefaultSizing(("50m", "64Mi"), ("250m", "256Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        emptydirs=_SQUID_DIRS, command=_SQUID_COMMAND,
        # squid's reverse-proxy peer (cache_peer) is the sandbox.
        config_files=(ConfigFile("squid.conf.j2", "squid.conf", refs=(
            Ref("sandbox_host", Endpoint("sandbox", part="host")),
            Ref("sandbox_target_port", Endpoint("sandbox", part="port")))),),
        config_dir=_SQUID_CONFIG_DIR,
        runtime="c",
    ),
    Component(
        name="agent-ssrf-proxy",
        summary="Squid forward proxy for the agent shell sandbox (its only way out)",
        image="ubuntu/squid", tag="6.10-24.10_beta",
        helm=None, helm_gap=(
            "the chart has no proxy of its own for the agent sandbox (local-sandbox); its "
            "HTTP_PROXY, HTTPS_PROXY and NO_PROXY and the allow-list for the agent stub and the "
            "api's /files/ are not carried"),
        workload="Deployment", ports=(Port("proxy", 3128),),
        traffic=Traffic(
            # squid-agent.conf allows the agent stub and the api's /files/ by name.
            calls=(Call("agent-backend", "http"), Call("api", "http")),
            internet="it is the agent shell sandbox's way out (package installs, fetches)"),
        liveness=Check(port="proxy"), readiness=Check(port="proxy"), startup=None,
        security=_SQUID_USER, scalable=False, stateful=False,
        defaults=DefaultSizing(("25m", "64Mi"), ("250m", "256Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        emptydirs=_SQUID_DIRS, command=_SQUID_COMMAND,
        config_files=(ConfigFile("squid-agent.conf.j2", "squid.conf", refs=(
            Ref("agent_backend_host", Endpoint("agent-backend", part="host"), host_regex=True),
            Ref("api_host", Endpoint("api", part="host"), host_regex=True))),),
        config_dir=_SQUID_CONFIG_DIR, follows="local-sandbox", runtime="c",
        # Like compose's agent_ssrf_proxy: the agent sandbox may reach the agent stub and
        # the api's /files/, the internet, and nothing else internal.
    ),
    Component(
        name="nginx", summary="Reverse proxy in front of api, web and plugin endpoints",
        image="nginxinc/nginx-unprivileged", tag="1.27-alpine",
        helm=HelmSlot("proxy", gated_security=True,
                       # mounted by the chart whenever nginx runs as a non-root user
                       chart_mounts=("/var/cache/nginx", "/var/run/nginx"),
                       checks=tuple(ChartCheck(kind, Check(port="http"), _NGINX_TCP)
                                    for kind in ("liveness", "readiness"))),
        workload="Deployment", ports=(Port("http", 8080, service_port=80),),
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
        config_files=(ConfigFile("nginx.conf.j2", "default.conf", refs=(
            Ref("api", Endpoint("api")), Ref("web", Endpoint("web")),
            Ref("plugin_daemon", Endpoint("plugin-daemon")),
            Ref("websocket", Endpoint("api-websocket"), when="api-websocket"))),),
        config_dir="/etc/nginx/conf.d",
        shutdown=Shutdown(pre_stop_seconds=10),
    ),
    Component(
        name="agent-backend", summary="Agent run/stream backend (new in 1.16)",
        image="langgenius/dify-agent-backend", tag=DIFY_VERSION,
        helm=HelmSlot("agentBackend", label="agent-backend", native_probes=tuple(
            (kind, Check(port="http")) for kind in ("liveness", "readiness", "startup"))),
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
        env=(
            Env("HOME", "/tmp"),
            Env("DIFY_AGENT_API_TOKEN", secret_key="AGENT_BACKEND_API_TOKEN"),
            Env("DIFY_AGENT_SERVER_SECRET_KEY", secret_key="DIFY_AGENT_SERVER_SECRET_KEY"),
            Env("DIFY_AGENT_REDIS_URL", secret_key="DIFY_AGENT_REDIS_URL"),
            Env("DIFY_AGENT_PLUGIN_DAEMON_API_KEY", secret_key="PLUGIN_DAEMON_KEY"),
            Env("DIFY_AGENT_PLUGIN_DAEMON_URL", endpoint=Endpoint("plugin-daemon")),
            Env("DIFY_AGENT_INNER_API_KEY", secret_key="INNER_API_KEY_FOR_PLUGIN"),
            Env("DIFY_AGENT_INNER_API_URL", endpoint=Endpoint("api")),
            Env("DIFY_AGENT_LOCAL_SANDBOX_ENDPOINT", endpoint=Endpoint("local-sandbox"),
                when="local-sandbox"),
            Env("DIFY_AGENT_LOCAL_SANDBOX_AUTH_TOKEN",
                secret_key="DIFY_AGENT_SHELLCTL_AUTH_TOKEN", optional=True,
                when="local-sandbox"),
            # Shell jobs in the local sandbox call back here through their own proxy.
            Env("DIFY_AGENT_STUB_API_BASE_URL",
                endpoint=Endpoint("agent-backend", path="/agent-stub")),
        ),
    ),
    Component(
        name="local-sandbox", summary="Shell sandbox for agents (shellctl, new in 1.16)",
        image="langgenius/dify-agent-local-sandbox", tag=DIFY_VERSION,
        helm=HelmSlot("localSandbox", label="local-sandbox", replicas=False, native_probes=(
            ("liveness", Check(http_path="/healthz", port="http")),
            ("readiness", Check(http_path="/healthz", port="http")),
            ("startup", Check(port="http")))), workload="Deployment", ports=(Port("http", 5004),),
        # Agents run arbitrary shell commands here; compose sends its traffic through a
        # proxy (HTTP_PROXY) and nothing else.
        traffic=Traffic(confined_to=Call("agent-ssrf-proxy", "proxy")),
        liveness=Check(http_path="/healthz", port="http"),
        readiness=Check(http_path="/healthz", port="http"), startup=None,
        # The image's user is created by `useradd dify` without -u: uid 1000.
        security=Security(user=1000, group=1000, read_only_root=False,
                          writable_root_reason="agents run shell commands that may write "
                                               "anywhere their user can"),
        scalable=False, stateful=False, required=False, singleton=True,
        defaults=DefaultSizing(("100m", "256Mi"), ("1", "1Gi"), (0, 15, 5, 4), (0, 10, 5, 3)),
        runtime="unknown",
        emptydirs=(Mount("tmp", "/tmp"), Mount("home", "/home/dify"),
                   Mount("workspace", "/workspace")),
        env=(
            Env("HOME", "/home/dify"),
            Env("SHELLCTL_AUTH_TOKEN", secret_key="DIFY_AGENT_SHELLCTL_AUTH_TOKEN",
                optional=True),
            *_proxy_env("agent-ssrf-proxy"),
            Env("NO_PROXY", "localhost,127.0.0.1"),
        ),
    ),
    Component(
        name="postgres", summary="PostgreSQL 15: Dify's and the plugin daemon's database",
        image="postgres", tag="15-alpine",
        helm=HelmSlot("postgresql", kind="subchart", bitnami=True), workload="StatefulSet",
        ports=(Port("postgres", 5432),),
        liveness=Check(command=("pg_isready", "-h", "127.0.0.1", "-U", "postgres")),
        readiness=Check(command=("pg_isready", "-h", "127.0.0.1", "-U", "postgres",
                                 "-d", "dify")),
        startup=None,
        security=Security(user=70, group=70, read_only_root=True),
        scalable=False, stateful=True,
        # Guaranteed QoS: memory and CPU requests equal the limits.
        defaults=DefaultSizing(("1", "1Gi"), ("1", "1Gi"), (30, 15, 5, 6), (5, 10, 5, 3),
                               storage="10Gi"),
        emptydirs=(Mount("tmp", "/tmp"), Mount("run", "/var/run/postgresql")),
        data_mount=Mount("data", "/var/lib/postgresql/data"),
        runtime="c",
        env=(Env("PGDATA", "/var/lib/postgresql/data/pgdata"), Env("POSTGRES_DB", "dify"),
             Env("POSTGRES_USER", "postgres"),
             Env("POSTGRES_PASSWORD", secret_key="DB_PASSWORD")),
        env_from_config="postgres", tunables="postgres", migration_prerequisite=True,
        role="database",
        args=("-c", "max_connections=$(POSTGRES_MAX_CONNECTIONS)",
              "-c", "shared_buffers=$(POSTGRES_SHARED_BUFFERS)",
              "-c", "effective_cache_size=$(POSTGRES_EFFECTIVE_CACHE_SIZE)",
              "-c", "work_mem=$(POSTGRES_WORK_MEM)",
              "-c", "maintenance_work_mem=$(POSTGRES_MAINTENANCE_WORK_MEM)"),
        shutdown=Shutdown(seconds=60), shm=True,
    ),
    Component(
        name="redis", summary="Redis 6: cache, Celery broker, agent state",
        image="redis", tag="6-alpine",
        helm=HelmSlot("redis", kind="subchart", bitnami=True), workload="StatefulSet",
        ports=(Port("redis", 6379),),
        liveness=Check(command=("sh", "-c", "redis-cli -a \"$REDIS_PASSWORD\" --no-auth-warning "
                                "ping | grep -q PONG")),
        readiness=Check(command=("sh", "-c", "redis-cli -a \"$REDIS_PASSWORD\" "
                                 "--no-auth-warning ping | grep -q PONG")),
        startup=None,
        security=Security(user=999, group=999, read_only_root=True),
        scalable=False, stateful=True,
        defaults=DefaultSizing(("250m", "256Mi"), ("250m", "256Mi"), (10, 15, 5, 4),
                               (5, 10, 5, 3), storage="2Gi"),
        emptydirs=(Mount("tmp", "/tmp"),), data_mount=Mount("data", "/data"),
        runtime="c",
        env=(Env("REDIS_PASSWORD", secret_key="REDIS_PASSWORD"),),
        env_from_config="redis", tunables="redis", migration_prerequisite=True,
        role="broker",
        command=("redis-server",),
        args=("--requirepass", "$(REDIS_PASSWORD)",
              "--maxmemory", "$(REDIS_MAXMEMORY)",
              "--maxmemory-policy", "$(REDIS_MAXMEMORY_POLICY)",
              "--appendonly", "yes",
              "--dir", "/data"),
    ),
    Component(
        name="weaviate", summary="Weaviate: the default vector database",
        image="semitechnologies/weaviate", tag="1.27.0",
        helm=HelmSlot("weaviate", kind="subchart", grace_period=True),
        workload="StatefulSet", ports=(Port("http", 8080), Port("grpc", 50051)),
        liveness=Check(http_path="/v1/.well-known/live", port="http"),
        readiness=Check(http_path="/v1/.well-known/ready", port="http"),
        # Loading large indexes from disk after a restart can take minutes.
        startup=Check(http_path="/v1/.well-known/live", port="http"),
        security=Security(user=1000, group=1000, read_only_root=True),
        scalable=False, stateful=True,
        defaults=DefaultSizing(("1", "1536Mi"), ("1", "1536Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3), (5, 10, 5, 60), storage="10Gi"),
        emptydirs=(Mount("tmp", "/tmp"),), data_mount=Mount("data", "/var/lib/weaviate"),
        env=(
            Env("PERSISTENCE_DATA_PATH", "/var/lib/weaviate"),
            Env("QUERY_DEFAULTS_LIMIT", "25"),
            Env("DEFAULT_VECTORIZER_MODULE", "none"),
            Env("CLUSTER_HOSTNAME", "node1"),
            Env("AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED", "false"),
            Env("AUTHENTICATION_APIKEY_ENABLED", "true"),
            Env("AUTHENTICATION_APIKEY_ALLOWED_KEYS", secret_key="WEAVIATE_API_KEY"),
            Env("AUTHENTICATION_APIKEY_USERS", "hello@dify.ai"),
            Env("AUTHORIZATION_ADMINLIST_ENABLED", "true"),
            Env("AUTHORIZATION_ADMINLIST_USERS", "hello@dify.ai"),
            # The Go runtime sees the node, not the container: bound its heap below the
            # limit and its threads to the CPUs the pod may use.
            Env("GOMEMLIMIT", derived=True), Env("GOMAXPROCS", derived=True),
        ),
        shutdown=Shutdown(seconds=60),
        # PROMETHEUS_MONITORING_PORT's default.
        metrics=Metrics(port="metrics", add_port=2112,
                        env=(Env("PROMETHEUS_MONITORING_ENABLED", "true"),)),
        # The Go binary needs no particular user; it runs as 1000 with fsGroup so the data
        # volume is writable.
        runtime="go",
    ),
    Component(
        name="qdrant", summary="Qdrant: the in-cluster vector store for vectorDatabase.type qdrant",
        # Dify's compose (service `qdrant`, profile `qdrant`): langgenius/qdrant, Qdrant
        # built with Chinese, Japanese and Korean tokenizers.
        image="langgenius/qdrant", tag="v1.8.3",
        helm=None, helm_gap="the chart cannot deploy Qdrant; it has only externalQdrant",
        workload="StatefulSet", ports=(Port("http", 6333), Port("grpc", 6334)),
        # /livez, /readyz and /healthz exist since Qdrant 1.5.0 and answer without the API
        # key. The HTTP server starts only after every collection is loaded from disk,
        # which can take minutes after a restart: a startup probe covers it.
        liveness=Check(http_path="/livez", port="http"),
        readiness=Check(http_path="/readyz", port="http"),
        startup=Check(http_path="/livez", port="http"),
        # The image runs as root by default; Qdrant needs no privilege, only writable
        # storage, snapshots and its init marker: any uid with fsGroup on the volume.
        security=Security(user=1000, group=1000, read_only_root=True),
        scalable=False, stateful=True,
        # Guaranteed QoS like every datastore (requests equal limits).
        defaults=DefaultSizing(("500m", "1Gi"), ("500m", "1Gi"), (0, 15, 5, 4),
                               (0, 10, 5, 3), (5, 10, 5, 60), storage="10Gi"),
        emptydirs=(Mount("tmp", "/tmp"), Mount("snapshots", "/qdrant/snapshots")),
        data_mount=Mount("data", "/qdrant/storage"),
        # Rust: no garbage collector; freed memory goes back like a C program's.
        runtime="c",
        env=(
            # Qdrant reads QDRANT__SERVICE__API_KEY; compose's QDRANT_API_KEY on the qdrant
            # service is not a Qdrant setting, so the key goes in under Qdrant's name.
            Env("QDRANT__SERVICE__API_KEY", secret_key="QDRANT_API_KEY"),
            Env("QDRANT__STORAGE__STORAGE_PATH", "/qdrant/storage"),
            Env("QDRANT__STORAGE__SNAPSHOTS_PATH", "/qdrant/snapshots"),
            # Written after start into the working directory by default (/qdrant, read-only
            # here); Qdrant panics when it cannot write it.
            Env("QDRANT_INIT_FILE_PATH", "/tmp/.qdrant-initialized"),
            # The NetworkPolicies give it no way out; do not try telemetry.qdrant.io.
            Env("QDRANT__TELEMETRY_DISABLED", "true"),
        ),
        shutdown=Shutdown(seconds=60),
    ),
    Component(
        name="pgvector",
        summary="pgvector: the in-cluster vector store for vectorDatabase.type pgvector",
        # Dify's compose (service `pgvector`, profile `pgvector`): PostgreSQL 16 with the
        # pgvector extension, on the Debian postgres image.
        image="pgvector/pgvector", tag="pg16",
        helm=None, helm_gap="the chart cannot deploy pgvector; it has only externalPgvector",
        workload="StatefulSet", ports=(Port("postgres", 5432),),
        # Like the postgres component: pg_isready over TCP, so a server still starting on
        # its Unix socket only (initdb) is not ready.
        liveness=Check(command=("pg_isready", "-h", "127.0.0.1", "-U", "postgres")),
        readiness=Check(command=("pg_isready", "-h", "127.0.0.1", "-U", "postgres",
                                 "-d", "dify")),
        startup=None,
        # The Debian postgres image's `postgres` user is uid/gid 999 (70 is Alpine's).
        security=Security(user=999, group=999, read_only_root=True),
        scalable=False, stateful=True,
        # Guaranteed QoS like every datastore (requests equal limits).
        defaults=DefaultSizing(("500m", "1Gi"), ("500m", "1Gi"), (30, 15, 5, 6),
                               (5, 10, 5, 3), storage="10Gi"),
        emptydirs=(Mount("tmp", "/tmp"), Mount("run", "/var/run/postgresql")),
        data_mount=Mount("data", "/var/lib/postgresql/data"),
        runtime="c",
        # The image's own entrypoint (initdb, then postgres); compose's wrapper script only
        # adds pg_bigm when PG_BIGM is true, which Dify defaults to false.
        env=(Env("PGDATA", "/var/lib/postgresql/data/pgdata"), Env("POSTGRES_DB", "dify"),
             Env("POSTGRES_USER", "postgres"),
             Env("POSTGRES_PASSWORD", secret_key="PGVECTOR_PASSWORD")),
        shutdown=Shutdown(seconds=60), shm=True,
    ),
)

# Add-ons a profile option turns on (monitoring): hardened like every component, built by
# their own target module, never part of the base. Images and users from the exporters'
# Dockerfiles: postgres_exporter runs as `nobody` (65534), redis_exporter as 59000.
ADDONS: tuple[Component, ...] = (
    Component(
        name="postgres-exporter", summary="Prometheus exporter for Postgres (connections)",
        image="prometheuscommunity/postgres-exporter", tag="v0.17.1",
        helm=None,
        workload="Deployment", ports=(Port("metrics", 9187),),
        liveness=Check(port="metrics"), readiness=Check(port="metrics"), startup=None,
        security=Security(user=65534, group=65534, read_only_root=True),
        scalable=False, stateful=False, required=False,
        env=(Env("DATA_SOURCE_URI", endpoint=Endpoint("postgres", "postgres", part="hostport",
                                                      path="/dify?sslmode=disable")),
             Env("DATA_SOURCE_USER", "postgres"),
             Env("DATA_SOURCE_PASS", secret_key="DB_PASSWORD")),
        defaults=DefaultSizing(("20m", "32Mi"), ("100m", "64Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        runtime="go",
    ),
    Component(
        name="redis-exporter", summary="Prometheus exporter for Redis (memory, queue lengths)",
        image="oliver006/redis_exporter", tag="v1.67.0",
        helm=None,
        workload="Deployment", ports=(Port("metrics", 9121),),
        liveness=Check(port="metrics"), readiness=Check(port="metrics"), startup=None,
        security=Security(user=59000, group=59000, read_only_root=True),
        scalable=False, stateful=False, required=False,
        env=(Env("REDIS_ADDR", endpoint=Endpoint("redis", "redis", scheme="redis")),
             Env("REDIS_PASSWORD", secret_key="REDIS_PASSWORD"),
             # The length of each Celery queue list in the broker database, as
             # redis_key_size (targets/monitoring.py lists the queues).
             Env("REDIS_EXPORTER_CHECK_SINGLE_KEYS", derived=True)),
        defaults=DefaultSizing(("20m", "32Mi"), ("100m", "64Mi"), (0, 15, 5, 4),
                               (0, 10, 5, 3)),
        runtime="go",
    ),
)

@dataclass(frozen=True)
class VectorStore:
    """A vector store Dify 1.16.1 can use (its VECTOR_STORE value), chosen by the
    profile's vectorDatabase.type: the in-cluster component that serves it (None: it
    can only be external) and the env the dify-api image reads to reach that component.
    The component runs exactly when its store is chosen without vectorDatabase.external;
    the settings for an external one are in targets/external.py."""

    kind: str
    component: str | None
    env: tuple[Env, ...] = ()
    # The in-cluster store's URL as an external-service setting takes it (the Helm
    # chart's external block, when the chart cannot deploy the component itself).
    url: Endpoint | None = None
    # The in-cluster store as the fields of an external one (sizing.ExternalVectorStore),
    # for the chart's external block; empty: its `endpoint` is `url`.
    as_external: tuple[tuple[str, Endpoint | str], ...] = ()


VECTOR_STORES: tuple[VectorStore, ...] = (
    VectorStore("weaviate", "weaviate", url=Endpoint("weaviate"), env=(
        Env("WEAVIATE_ENDPOINT", endpoint=Endpoint("weaviate")),
        Env("WEAVIATE_GRPC_ENDPOINT", endpoint=Endpoint("weaviate", "grpc", scheme="grpc")),
    )),
    VectorStore("qdrant", "qdrant", url=Endpoint("qdrant"), env=(
        Env("QDRANT_URL", endpoint=Endpoint("qdrant")),
        Env("QDRANT_CLIENT_TIMEOUT", "20"),
        # HTTP, Dify's default; the gRPC port stays declared for those who turn it on.
        Env("QDRANT_GRPC_ENABLED", "false"),
        Env("QDRANT_GRPC_PORT", endpoint=Endpoint("qdrant", "grpc", part="port")),
    )),
    VectorStore("pgvector", "pgvector", url=Endpoint("pgvector", "postgres", part="hostport"),
                env=(
        Env("PGVECTOR_HOST", endpoint=Endpoint("pgvector", "postgres", part="host")),
        Env("PGVECTOR_PORT", endpoint=Endpoint("pgvector", "postgres", part="port")),
        Env("PGVECTOR_USER", "postgres"),
        Env("PGVECTOR_DATABASE", "dify"),
        # PGVECTOR_PASSWORD: the api family reads the whole Secret (envFrom).
    ), as_external=(
        ("host", Endpoint("pgvector", "postgres", part="host")),
        ("port", Endpoint("pgvector", "postgres", part="port")),
        ("database", "dify"), ("username", "postgres"),
    )),
)
DEFAULT_VECTOR_STORE = "weaviate"


def vector_store(kind: str) -> VectorStore:
    return next(s for s in VECTOR_STORES if s.kind == kind)


# Components that must run Guaranteed QoS (requests equal limits): losing them to
# eviction or CPU starvation under node pressure takes all of Dify down.
GUARANTEED_QOS: tuple[str, ...] = tuple(c.name for c in CATALOG if c.stateful)

COMPONENTS: dict[str, Component] = {c.name: c for c in CATALOG}
# The migration Job runs this component's image, ConfigMap and service account with
# MODE=migration (`flask upgrade-db`, then exit).
MIGRATION_SOURCE = "api"
COMPONENT_NAMES: tuple[str, ...] = tuple(COMPONENTS)
ENTRY_POINT: Component = next(c for c in CATALOG if c.entry_point)


def by_role(role: str) -> Component:
    return next(c for c in CATALOG if c.role == role)


def literal_env(comp: Component, name: str) -> str:
    """The literal value a component's catalog env gives `name`."""
    return next(e.value for e in comp.env if e.name == name and e.value is not None)


def service_host(component: str) -> str:
    return COMPONENTS[component].object_name


def endpoint(component: str, port: str = "http", scheme: str = "http", path: str = "") -> str:
    """The in-cluster URL of a component's Service port: endpoint("api") is
    http://dify-api:5001. Never type a host or port twice."""
    p = COMPONENTS[component].port(port)
    return f"{scheme}://{service_host(component)}:{p.exposed}{path}"


def host_port(component: str, port: str) -> tuple[str, int]:
    return service_host(component), COMPONENTS[component].port(port).exposed
