"""Dify's sizing knobs, derived from the resolved sizing: never typed twice.

Every number here follows from a profile's resources and replica bounds; the formulas and
their reasons are documented in docs/sizing.md. The one invariant that matters most: at
maximum HPA scale, the database connections every component may open stay within
CONNECTION_BUDGET of Postgres max_connections, counting the pods a rollout adds; and no api
process gets fewer pooled connections than the requests it serves at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import ceil, floor

from generator.errors import Location, Problem, SizingError
from generator.quantity import mebibytes
from generator.sizing import ProfileSizing

GIB = Fraction(2**30)
MIB = Fraction(2**20)
# Clients may use at most this share of max_connections: the rest is for superusers,
# migrations, psql sessions and connections a restarting pod has not closed yet.
CONNECTION_BUDGET = Fraction(80, 100)
# Dify's defaults are pool 30 + overflow 10 per process; no process needs more.
DIFY_DEFAULT_POOL_SIZE, DIFY_DEFAULT_MAX_OVERFLOW = 30, 10
MAX_CONNECTIONS_PER_POOL = DIFY_DEFAULT_POOL_SIZE + DIFY_DEFAULT_MAX_OVERFLOW
# Each of the SERVER_WORKER_CONNECTIONS requests a gevent api process serves at once may
# hold a session; on top of them the process runs greenlets of its own that open sessions
# (a streaming chat or workflow runs the app in a separate thread, which gevent turns into
# a greenlet with its own session; app-level background tasks). Two spare connections per
# process keep those from queueing behind requests.
API_POOL_MARGIN = 2
# Below this many concurrent requests per api process, scaling out is cheaper than
# starving each process: the profile is refused instead of shrinking further.
MIN_SERVER_WORKER_CONNECTIONS = 5
# Postgres: about 10 MiB per backend (work_mem plus per-connection overhead), so 100
# connections per GiB of memory limit, kept between 100 and 1000.
CONNECTIONS_PER_GIB = 100
MIN_MAX_CONNECTIONS, MAX_MAX_CONNECTIONS = 100, 1000
# A gevent gunicorn worker uses at most one core and about 1 GiB with plugins loaded
# (the api is reported to OOM-loop at 2 GB with a single worker and many plugins).
API_MEMORY_PER_WORKER = GIB
# Celery with the gevent pool: concurrency is greenlets in one process, I/O bound, so
# 4 per core; each concurrent RAG task holds a document in memory, so 256 MiB each.
CELERY_GREENLETS_PER_CORE = 4
CELERY_MEMORY_PER_TASK = 256 * MIB
# Redis maxmemory at 75% of its limit: room for fork-on-write during AOF rewrites and
# for client buffers, inside the 60-80% band.
REDIS_MAXMEMORY_SHARE = Fraction(75, 100)
SERVER_WORKER_CONNECTIONS = 10  # Dify's default requests served at once per api process
GUNICORN_TIMEOUT = 360
# Redis holds the Celery broker (queued tasks are lists without a TTL), results and locks
# next to the cache. volatile-lru evicts only keys that carry a TTL (cache entries,
# Celery results), least recently used first, so queued tasks are never dropped; when
# nothing evictable is left Redis refuses writes instead of losing work. allkeys-* would
# evict the broker; volatile-ttl would evict the shortest-lived keys first, which are
# Dify's locks.
REDIS_MAXMEMORY_POLICY = "volatile-lru"
# Dify stops a workflow run after APP_MAX_EXECUTION_TIME (its default, 1200 s): a worker
# being stopped gets that long to finish its tasks (Celery's warm shutdown) plus a margin.
APP_MAX_EXECUTION_TIME = 1200
SHUTDOWN_MARGIN_SECONDS = 30
# Go runtimes see the node's memory: keep Weaviate's heap target at 85% of its limit
# (Weaviate's docs ask for 80-90%), leaving room for off-heap memory and page cache.
GOMEMLIMIT_SHARE = Fraction(85, 100)


@dataclass(frozen=True)
class PoolUse:
    """One component's share of the connection budget at maximum scale plus rollout surge."""

    component: str
    max_replicas: int
    pools_per_replica: int
    connections_per_pool: int
    surge_replicas: int = 0

    @property
    def pods(self) -> int:
        return self.max_replicas + self.surge_replicas

    @property
    def total(self) -> int:
        return self.pods * self.pools_per_replica * self.connections_per_pool


@dataclass(frozen=True)
class ConnectionBudget:
    max_connections: int
    allowed: int  # floor(CONNECTION_BUDGET * max_connections)
    uses: tuple[PoolUse, ...]

    @property
    def used(self) -> int:
        return sum(u.total for u in self.uses)


@dataclass(frozen=True)
class Tunables:
    server_worker_amount: int
    server_worker_connections: int
    gunicorn_timeout: int
    celery_worker_amount: int
    sqlalchemy_pool_size: int
    sqlalchemy_max_overflow: int
    plugin_db_max_open_conns: int
    plugin_db_max_idle_conns: int
    postgres_max_connections: int
    postgres_shared_buffers_mb: int
    postgres_effective_cache_size_mb: int
    postgres_work_mem_mb: int
    postgres_maintenance_work_mem_mb: int
    redis_maxmemory_mb: int
    postgres_shm_mb: int
    weaviate_gomemlimit_mb: int
    weaviate_gomaxprocs: int
    app_max_execution_time: int = APP_MAX_EXECUTION_TIME
    redis_maxmemory_policy: str = REDIS_MAXMEMORY_POLICY

    def api_env(self) -> dict[str, str]:
        """Settings the dify-api image reads (api, websocket, worker, beat)."""
        return {
            "SERVER_WORKER_AMOUNT": str(self.server_worker_amount),
            "SERVER_WORKER_CONNECTIONS": str(self.server_worker_connections),
            "GUNICORN_TIMEOUT": str(self.gunicorn_timeout),
            # gunicorn (not Dify) reads extra flags here: on SIGTERM it lets requests
            # run as long as GUNICORN_TIMEOUT allows them instead of its default 30 s.
            "GUNICORN_CMD_ARGS": f"--graceful-timeout {self.gunicorn_timeout}",
            "APP_MAX_EXECUTION_TIME": str(self.app_max_execution_time),
            "CELERY_WORKER_AMOUNT": str(self.celery_worker_amount),
            "SQLALCHEMY_POOL_SIZE": str(self.sqlalchemy_pool_size),
            "SQLALCHEMY_MAX_OVERFLOW": str(self.sqlalchemy_max_overflow),
        }

    def plugin_env(self) -> dict[str, str]:
        return {
            "DB_MAX_OPEN_CONNS": str(self.plugin_db_max_open_conns),
            "DB_MAX_IDLE_CONNS": str(self.plugin_db_max_idle_conns),
        }

    def postgres_env(self) -> dict[str, str]:
        return {
            "POSTGRES_MAX_CONNECTIONS": str(self.postgres_max_connections),
            "POSTGRES_SHARED_BUFFERS": f"{self.postgres_shared_buffers_mb}MB",
            "POSTGRES_EFFECTIVE_CACHE_SIZE": f"{self.postgres_effective_cache_size_mb}MB",
            "POSTGRES_WORK_MEM": f"{self.postgres_work_mem_mb}MB",
            "POSTGRES_MAINTENANCE_WORK_MEM": f"{self.postgres_maintenance_work_mem_mb}MB",
        }

    def redis_env(self) -> dict[str, str]:
        return {"REDIS_MAXMEMORY": f"{self.redis_maxmemory_mb}mb",
                "REDIS_MAXMEMORY_POLICY": self.redis_maxmemory_policy}

    def group(self, name: str) -> dict[str, str]:
        """The derived settings a catalog component's env ConfigMap carries
        (Component.tunables)."""
        groups = {"api": self.api_env, "plugin": self.plugin_env,
                  "postgres": self.postgres_env, "redis": self.redis_env}
        return groups[name]()

    def derived_env(self) -> dict[str, str]:
        """Values of the catalog's `derived` env entries."""
        return {"GOMEMLIMIT": f"{self.weaviate_gomemlimit_mb}MiB",
                "GOMAXPROCS": str(self.weaviate_gomaxprocs)}

    def grace_seconds(self, drain: str, pre_stop: int, fixed: int) -> int:
        """terminationGracePeriodSeconds: the preStop delay plus what must finish."""
        if drain == "gunicorn":
            return pre_stop + self.gunicorn_timeout + SHUTDOWN_MARGIN_SECONDS
        if drain == "celery":
            return pre_stop + self.app_max_execution_time + SHUTDOWN_MARGIN_SECONDS
        return pre_stop + fixed


def shm_mebibytes(memory: Fraction) -> int:
    """A Postgres server's memory-backed /dev/shm for a memory limit: an eighth of it, at
    least the container default of 64 MiB (it counts against the same limit)."""
    return max(64, mebibytes(memory) // 8)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def _shares(profile: ProfileSizing, server_workers: int) -> list[tuple[str, int, int, int]]:
    """(component, max replicas, surge pods, pools per pod) of every pool holder."""
    from generator.catalog import COMPONENTS
    from generator.rollout import surge_pods

    pools_per_replica = {"api": server_workers, "one": 1, "plugin": 1}
    shares = []
    for sizing in profile.enabled_components():
        kind = COMPONENTS[sizing.name].db_pools
        if kind is None:
            continue
        if sizing.name == "worker" and profile.worker_pools is not None:
            # Each KEDA worker pool is its own Deployment: its maximum plus its own surge.
            each = surge_pods(profile, "worker") // len(profile.worker_pools.pools)
            shares += [(f"worker-{p.name}", p.max_replicas, each, 1)
                       for p in profile.worker_pools.pools]
            continue
        shares.append((sizing.name, sizing.scaling.max_replicas,
                       surge_pods(profile, sizing.name), pools_per_replica[kind]))
    return shares


def _scale_key(profile: ProfileSizing, name: str) -> str:
    if name not in profile.components:
        return "workerPools.pools"  # a KEDA worker pool
    scaling = profile.components[name].scaling
    key = "autoscaling.maxReplicas" if scaling.autoscale else "replicas"
    return f"components.{name}.{key}"


def _refuse(profile: ProfileSizing, shares: list[tuple[str, int, int, int]], pools: int,
            allowed: int, max_connections: int,
            declared: tuple[str, str, str] | None = None) -> SizingError:
    """The refusal, at the line to change: maxReplicas of the biggest pool holder, or the
    declared limit of an external database (`declared`: key path, what it is, remedy)."""
    need_per_pool = MIN_SERVER_WORKER_CONNECTIONS + API_POOL_MARGIN
    needed = ceil(Fraction(pools * need_per_pool) / CONNECTION_BUDGET)
    detail = ", ".join(f"{n} ({r}+{s} surge)x{p}" for n, r, s, p in shares)
    if needed <= MAX_MAX_CONNECTIONS:
        gib = ceil(Fraction(needed, CONNECTIONS_PER_GIB))
        fix = (f"raise components.postgres.resources.limits.memory to at least {gib}Gi "
               f"for a max_connections of at least {max(needed, MIN_MAX_CONNECTIONS)}) or lower "
               "maxReplicas")
    else:
        fix = (f"{needed} connections exceed the largest max_connections difygen sets "
               f"({MAX_MAX_CONNECTIONS}): lower maxReplicas")
    biggest = max(shares, key=lambda s: ((s[1] + s[2]) * s[3], s[0]))[0]
    where = _scale_key(profile, biggest)
    source = f"{CONNECTIONS_PER_GIB} per GiB of the Postgres memory limit"
    if declared is not None:
        where, source, remedy = declared
        fix = f"{remedy.lower()[0]}{remedy[1:]}"
    return SizingError("connection budget", [Problem(
        Location(profile.source, key_path=where),
        f"at maximum scale plus rollout surge {pools} connection pools ({detail}) would "
        f"share {allowed} connections (80% of max_connections {max_connections}, which is "
        f"{source}): "
        f"{allowed // pools} each, but an api process serving at least "
        f"{MIN_SERVER_WORKER_CONNECTIONS} requests at once needs {need_per_pool} "
        f"({MIN_SERVER_WORKER_CONNECTIONS} + {API_POOL_MARGIN} for its own greenlets); "
        f"{fix}")])


def derive(profile: ProfileSizing) -> tuple[Tunables, ConnectionBudget]:
    comps = profile.components
    api = comps["api"].resources.limits
    server_workers = max(1, min(floor(api.cpu), floor(api.memory / API_MEMORY_PER_WORKER)))

    pg_memory = comps["postgres"].resources.limits.memory
    external = profile.external_postgres
    if external is not None:
        # A managed database (or its PgBouncer) has the limit it declares, not ours.
        max_connections = external.connection_limit
        where = ("database.external.maxConnections" if external.max_connections
                 else "database.external.pgbouncerPoolSize")
        source = ("the declared max_connections of the external database"
                  if external.max_connections else "the declared PgBouncer pool size")
        remedy = "Raise the database's connection limit or lower maxReplicas"
    else:
        max_connections = _clamp(floor(pg_memory / GIB * CONNECTIONS_PER_GIB),
                                 MIN_MAX_CONNECTIONS, MAX_MAX_CONNECTIONS)
        where = "components.postgres.resources.limits.memory"
        source = f"{CONNECTIONS_PER_GIB} per GiB of the Postgres memory limit"
        remedy = "Raise the Postgres memory limit or lower maxReplicas"
    allowed = floor(CONNECTION_BUDGET * max_connections)

    # api, websocket, worker and beat read one ConfigMap, so they share one pool size;
    # the api's need sets its floor. Every pool holder is counted at maximum scale plus
    # the pods its rollout adds: one GitOps commit moves the shared api image tag (and
    # usually the plugin daemon's), so they all roll at once.
    shares = _shares(profile, server_workers)
    pools = sum((r + s) * p for _, r, s, p in shares)
    per_pool = min(MAX_CONNECTIONS_PER_POOL, allowed // pools)
    # Derived together: an api process serves at most as many requests at once as its
    # pool can give sessions to, keeping API_POOL_MARGIN for its own greenlets.
    worker_connections = min(SERVER_WORKER_CONNECTIONS, per_pool - API_POOL_MARGIN)
    if worker_connections < MIN_SERVER_WORKER_CONNECTIONS:
        raise _refuse(profile, shares, pools, allowed, max_connections,
                      (where, source, remedy) if external is not None else None)
    overflow = per_pool // 4
    uses = tuple(PoolUse(n, r, p, per_pool, s) for n, r, s, p in shares)

    worker = comps["worker"].resources.limits
    celery = max(1, min(CELERY_GREENLETS_PER_CORE * ceil(worker.cpu),
                        floor(worker.memory / CELERY_MEMORY_PER_TASK), per_pool))

    pg_mib = mebibytes(pg_memory)
    redis_mib = floor(mebibytes(comps["redis"].resources.limits.memory) * REDIS_MAXMEMORY_SHARE)
    # shared_buffers a quarter of memory: the usual start for a dedicated Postgres. The
    # per-operation memory comes out of what is left after it (and after /dev/shm, which
    # is memory-backed and counts against the same limit), not out of the whole limit.
    shared_buffers = max(16, pg_mib // 4)
    shm = shm_mebibytes(pg_memory)
    rest = max(64, pg_mib - shared_buffers - shm)
    # Each connection may run a few sorts or hashes at once: half of the rest spread over
    # max_connections, three per connection, between 1 and 64 MB.
    work_mem = max(1, min(64, rest // 2 // (max_connections * 3)))
    weaviate = comps["weaviate"].resources.limits
    tunables = Tunables(
        server_worker_amount=server_workers,
        server_worker_connections=worker_connections,
        gunicorn_timeout=GUNICORN_TIMEOUT,
        celery_worker_amount=celery,
        sqlalchemy_pool_size=per_pool - overflow,
        sqlalchemy_max_overflow=overflow,
        plugin_db_max_open_conns=per_pool,
        plugin_db_max_idle_conns=max(1, per_pool // 4),
        postgres_max_connections=max_connections,
        postgres_shared_buffers_mb=shared_buffers,
        # The planner's estimate of cached data: shared_buffers plus the page cache the
        # container's memory leaves for it.
        postgres_effective_cache_size_mb=max(64, shared_buffers + rest // 2),
        postgres_work_mem_mb=work_mem,
        postgres_maintenance_work_mem_mb=max(16, min(1024, rest // 8)),
        redis_maxmemory_mb=max(16, redis_mib),
        postgres_shm_mb=shm,
        weaviate_gomemlimit_mb=floor(mebibytes(weaviate.memory) * GOMEMLIMIT_SHARE),
        weaviate_gomaxprocs=max(1, ceil(weaviate.cpu)),
    )
    return tunables, ConnectionBudget(max_connections, allowed, uses)
