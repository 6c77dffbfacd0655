"""Dify's sizing knobs, derived from the resolved sizing: never typed twice.

Every number here follows from a profile's resources and replica bounds; the formulas and
their reasons are documented in docs/sizing.md. The one invariant that matters most: at
maximum HPA scale, the database connections every component may open stay within
CONNECTION_BUDGET of Postgres max_connections.
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
MAX_CONNECTIONS_PER_POOL = 40
MIN_CONNECTIONS_PER_POOL = 3
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
SERVER_WORKER_CONNECTIONS = 10  # Dify's default greenlets per gunicorn worker
GUNICORN_TIMEOUT = 360


@dataclass(frozen=True)
class PoolUse:
    """One component's share of the connection budget at maximum scale."""

    component: str
    max_replicas: int
    pools_per_replica: int
    connections_per_pool: int

    @property
    def total(self) -> int:
        return self.max_replicas * self.pools_per_replica * self.connections_per_pool


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

    def api_env(self) -> dict[str, str]:
        """Settings the dify-api image reads (api, websocket, worker, beat)."""
        return {
            "SERVER_WORKER_AMOUNT": str(self.server_worker_amount),
            "SERVER_WORKER_CONNECTIONS": str(self.server_worker_connections),
            "GUNICORN_TIMEOUT": str(self.gunicorn_timeout),
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
        return {"REDIS_MAXMEMORY": f"{self.redis_maxmemory_mb}mb"}


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


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

    pools_per_replica = {"api": server_workers, "one": 1, "plugin": 1}
    from generator.catalog import COMPONENTS

    shares: list[tuple[str, int, int]] = []
    for sizing in profile.enabled_components():
        kind = COMPONENTS[sizing.name].db_pools
        if kind is not None:
            shares.append((sizing.name, sizing.scaling.max_replicas, pools_per_replica[kind]))
    pools = sum(r * p for _, r, p in shares)
    per_pool = min(MAX_CONNECTIONS_PER_POOL, allowed // pools)
    if per_pool < MIN_CONNECTIONS_PER_POOL:
        detail = ", ".join(f"{n} {r}x{p}" for n, r, p in shares)
        raise SizingError("connection budget", [Problem(
            Location(profile.source, key_path=where),
            f"at maximum scale {pools} connection pools ({detail}) would share "
            f"{allowed} connections (80% of max_connections {max_connections}, which is "
            f"{source}): under {MIN_CONNECTIONS_PER_POOL} each. {remedy}")])
    overflow = per_pool // 4
    uses = tuple(PoolUse(n, r, p, per_pool) for n, r, p in shares)

    worker = comps["worker"].resources.limits
    celery = max(1, min(CELERY_GREENLETS_PER_CORE * ceil(worker.cpu),
                        floor(worker.memory / CELERY_MEMORY_PER_TASK), per_pool))

    pg_mib = mebibytes(pg_memory)
    redis_mib = floor(mebibytes(comps["redis"].resources.limits.memory) * REDIS_MAXMEMORY_SHARE)
    tunables = Tunables(
        server_worker_amount=server_workers,
        server_worker_connections=SERVER_WORKER_CONNECTIONS,
        gunicorn_timeout=GUNICORN_TIMEOUT,
        celery_worker_amount=celery,
        sqlalchemy_pool_size=per_pool - overflow,
        sqlalchemy_max_overflow=overflow,
        plugin_db_max_open_conns=per_pool,
        plugin_db_max_idle_conns=max(1, per_pool // 4),
        postgres_max_connections=max_connections,
        # shared_buffers a quarter of memory, the planner's cache estimate three quarters:
        # the usual starting point for a dedicated Postgres.
        postgres_shared_buffers_mb=max(16, pg_mib // 4),
        postgres_effective_cache_size_mb=max(64, pg_mib * 3 // 4),
        postgres_work_mem_mb=4,
        postgres_maintenance_work_mem_mb=max(64, min(1024, pg_mib // 16)),
        redis_maxmemory_mb=max(16, redis_mib),
    )
    return tunables, ConnectionBudget(max_connections, allowed, uses)
