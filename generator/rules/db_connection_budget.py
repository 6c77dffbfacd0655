"""Database connections at maximum scale plus rollout surge within 80% of max_connections;
no api process with fewer pooled connections than the requests it serves."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from math import floor

from generator.manifest_loader import Manifest
from generator.rules.base import ERROR, WARNING, Context, Finding, Rule, as_dict, finding
from generator.rules.workloads import (
    Container,
    Workload,
    by_namespace,
    command_line,
    container_env,
    image_name,
    max_replicas,
    surge,
    workloads,
)
from generator.yamlio import KeyPath

# At most this many pool holders are named in one message (a repeated overlay has many).
_DETAIL = 12

BUDGET = Fraction(80, 100)
POSTGRES_DEFAULT_MAX_CONNECTIONS = 100
DATABASE_CONFIGMAP = "difygen-database"
# Dify's defaults when a variable is not set (api/configs and the plugin daemon's config).
API_DEFAULTS = {"SERVER_WORKER_AMOUNT": 1, "SQLALCHEMY_POOL_SIZE": 30,
                "SQLALCHEMY_MAX_OVERFLOW": 10, "SERVER_WORKER_CONNECTIONS": 10}
# Sessions an api process opens beyond its requests (see generator/tunables.py).
API_POOL_MARGIN = 2
PLUGIN_DEFAULT_MAX_OPEN_CONNS = 30
_SETTING = re.compile(r"^(?:-c|--)?max[_-]connections=(.*)$")
_SERVER_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Pod",
                 "DaemonSet")


@dataclass(frozen=True)
class Use:
    workload: str
    replicas: int
    processes: int
    per_process: int
    surge: int = 0

    @property
    def total(self) -> int:
        return (self.replicas + self.surge) * self.processes * self.per_process

    def __str__(self) -> str:
        pods = f"({self.replicas}+{self.surge})" if self.surge else str(self.replicas)
        return f"{self.workload} {pods}x{self.processes}x{self.per_process}"


def is_postgres(c: Container) -> bool:
    # postgres, postgresql (Bitnami), postgres-alpine builds; not postgres-exporter
    name = image_name(str(c.spec.get("image", "")))
    return name.startswith("postgres") and "exporter" not in name


def max_connections(words: list[str], env: dict[str, str]) -> tuple[str | None, int | None]:
    """The max_connections setting on a postgres command line: (text, index in args)."""
    for i, word in enumerate(words):
        if word == "-c" and i + 1 < len(words):
            match = _SETTING.match(words[i + 1])
            if match:
                return match.group(1), i + 1
        match = _SETTING.match(word)
        if match:
            return match.group(1), i
    bitnami = env.get("POSTGRESQL_MAX_CONNECTIONS")
    return bitnami, None


class _Demand:
    """The connections a namespace's Dify pods may open, judged against each server in
    the namespace: the total and its wording are made once per namespace, not once per
    server (a namespace shared by many copies has hundreds of each)."""

    def __init__(self, uses: list[Use], unknown: list[str]) -> None:
        self.uses, self.unknown = uses, unknown

    @cached_property
    def total(self) -> int:
        return sum(u.total for u in self.uses)

    @cached_property
    def detail(self) -> str:
        ordered = sorted(self.uses, key=str)
        detail = ", ".join(f"{u}={u.total}" for u in ordered[:_DETAIL])
        if len(ordered) > _DETAIL:
            detail += f", and {len(ordered) - _DETAIL} more"
        return detail

    @cached_property
    def unresolved(self) -> str:
        unknown = self.unknown
        return ("pool settings of " + ", ".join(sorted(unknown)[:_DETAIL]) +
                (f" and {len(unknown) - _DETAIL} more" if len(unknown) > _DETAIL
                 else "") + " cannot be resolved from the manifests; they are left out of "
                "the budget")


class DbConnectionBudget(Rule):
    """At maximum scale plus rollout surge, Dify's connections stay within 80% of max_connections.

    Computed from the manifests alone, per namespace. Each dify-api container (any image
    named `dify-api`) holds, per replica, `processes x (SQLALCHEMY_POOL_SIZE +
    SQLALCHEMY_MAX_OVERFLOW)` connections, where processes is `SERVER_WORKER_AMOUNT` when
    `MODE` is `api` (or unset) and 1 otherwise (Celery's gevent pool and beat are one
    process). Each dify-plugin-daemon container holds `DB_MAX_OPEN_CONNS`. Replicas are
    the HPA's maxReplicas, else `spec.replicas`, plus the pods a rolling update adds (a
    Deployment's `maxSurge`, default 25% rounded up; none for Recreate): api, websocket
    and worker share one image tag, so one commit rolls them all at once. Values come
    from container `env` (with `$(VAR)` expansion), `valueFrom.configMapKeyRef` and
    `envFrom` ConfigMaps in the same manifest set; unset variables take Dify's defaults
    (1, 30, 10; 30).

    `max_connections` is read from the postgres container's command line
    (`-c max_connections=N`, `$(VAR)` expanded from its env), else Bitnami's
    `POSTGRESQL_MAX_CONNECTIONS`, else Postgres' default of 100. The sum must not exceed
    80% of it: the rest is for superusers, migrations and connections of pods being
    replaced. A value that cannot be resolved (from a Secret) gives a warning.

    A namespace without a postgres container uses an external database: its limit is
    read from a ConfigMap named `difygen-database` in the namespace (`data.maxConnections`:
    the server's max_connections, or the connections a PgBouncer in front of it opens),
    which difygen renders for `database.external`. Without either, it is not checked.

    Each api process (`MODE` api, a gunicorn worker class other than the websocket one)
    must get at least `SERVER_WORKER_CONNECTIONS` (default 10) pooled connections
    (`SQLALCHEMY_POOL_SIZE + SQLALCHEMY_MAX_OVERFLOW`): an error below it, since requests
    then wait for a connection and time out as "QueuePool limit reached"; a warning below
    it plus 2, the sessions the process opens on its own greenlets.
    """

    id = "db-connection-budget"
    layer = "sizing"

    def check(self, ctx: Context) -> Iterator[Finding]:
        yield from self._api_pools(ctx)
        by_ns = by_namespace(ctx)
        for ns in sorted(by_ns):
            members = by_ns[ns]
            servers = [(w, c) for w in members if w.kind in _SERVER_KINDS
                       for c in w.containers("containers") if is_postgres(c)]
            declared = ctx.get("ConfigMap", ns, DATABASE_CONFIGMAP)
            if not servers and declared is None:
                continue
            uses: list[Use] = []
            unknown: list[str] = []
            for w in members:
                if w.kind not in _SERVER_KINDS:
                    continue
                for c in w.containers("containers"):
                    use = self._use(ctx, w, c, unknown)
                    if use is not None:
                        uses.append(use)
            demand = _Demand(uses, unknown)
            for w, c in servers:
                yield from self._judge(ctx, w, c, demand)
            if not servers and declared is not None:
                yield from self._judge_declared(declared, demand)

    def _judge_declared(self, cm: Manifest, demand: _Demand) -> Iterator[Finding]:
        path: KeyPath = ("data", "maxConnections")
        text = as_dict(cm.obj.get("data")).get("maxConnections")
        try:
            limit = int(str(text).strip())
            if limit <= 0:
                raise ValueError(text)
        except ValueError:
            yield finding(self.id, ERROR, cm, path,
                          f"ConfigMap {DATABASE_CONFIGMAP} needs data.maxConnections, a "
                          f"positive integer; found {text!r}")
            return
        yield from self._verdict(cm, path, limit, demand,
                                 "max_connections declared for the external database")

    def _api_pools(self, ctx: Context) -> Iterator[Finding]:
        for w in workloads(ctx):
            if w.kind not in _SERVER_KINDS:
                continue
            for c in w.containers("containers"):
                if image_name(str(c.spec.get("image", ""))) != "dify-api":
                    continue
                env = container_env(ctx, w, c)
                if env.get("MODE", "api") != "api" or "websocket" in env.get(
                        "SERVER_WORKER_CLASS", "").lower():
                    continue
                try:
                    values = {k: int(env.get(k, d)) for k, d in API_DEFAULTS.items()}
                except ValueError:
                    continue  # reported by the budget as unresolved
                pooled = values["SQLALCHEMY_POOL_SIZE"] + values["SQLALCHEMY_MAX_OVERFLOW"]
                serves = values["SERVER_WORKER_CONNECTIONS"]
                what = (f"each api process of {w.kind}/{w.manifest.name} has {pooled} pooled "
                        f"connections (SQLALCHEMY_POOL_SIZE + SQLALCHEMY_MAX_OVERFLOW) for "
                        f"{serves} requests at once (SERVER_WORKER_CONNECTIONS)")
                if pooled < serves:
                    yield finding(self.id, ERROR, w.manifest, c.path,
                                  f"{what}: requests would wait for a connection; lower "
                                  "SERVER_WORKER_CONNECTIONS or raise the pool")
                elif pooled < serves + API_POOL_MARGIN:
                    yield finding(self.id, WARNING, w.manifest, c.path,
                                  f"{what}: no room for the {API_POOL_MARGIN} sessions the "
                                  "process opens on its own greenlets")

    def _use(self, ctx: Context, w: Workload, c: Container, unknown: list[str]) -> Use | None:
        image = image_name(str(c.spec.get("image", "")))
        if image not in ("dify-api", "dify-plugin-daemon"):
            return None
        env = container_env(ctx, w, c)
        label = f"{w.kind}/{w.manifest.name}"
        top = max_replicas(ctx, w)
        extra = surge(w, top)
        try:
            if image == "dify-plugin-daemon":
                per = int(env.get("DB_MAX_OPEN_CONNS", PLUGIN_DEFAULT_MAX_OPEN_CONNS))
                return Use(label, top, 1, per, extra)
            values = {k: int(env.get(k, d)) for k, d in API_DEFAULTS.items()}
        except ValueError:
            unknown.append(label)
            return None
        mode = env.get("MODE", "api")
        processes = values["SERVER_WORKER_AMOUNT"] if mode == "api" else 1
        per = values["SQLALCHEMY_POOL_SIZE"] + values["SQLALCHEMY_MAX_OVERFLOW"]
        return Use(label, top, processes, per, extra)

    def _judge(self, ctx: Context, w: Workload, c: Container,
               demand: _Demand) -> Iterator[Finding]:
        env = container_env(ctx, w, c)
        words = command_line(c, env)
        text, index = max_connections(words, env)
        path: KeyPath = c.path
        if index is not None:
            n_command = len(c.spec.get("command") or [])
            path = ((*c.path, "command", index) if index < n_command
                    else (*c.path, "args", index - n_command))
        if text is None:
            limit = POSTGRES_DEFAULT_MAX_CONNECTIONS
        else:
            try:
                limit = int(text.strip())
            except ValueError:
                yield finding(self.id, WARNING, w.manifest, path,
                              f"max_connections {text!r} cannot be resolved from the "
                              "manifests; connection budget not checked")
                return
        yield from self._verdict(w.manifest, path, limit, demand, "max_connections")

    def _verdict(self, where: Manifest, path: KeyPath, limit: int, demand: _Demand,
                 what: str) -> Iterator[Finding]:
        if demand.unknown:
            yield finding(self.id, WARNING, where, path, demand.unresolved)
        allowed = floor(BUDGET * limit)
        used = demand.total
        if used > allowed:
            detail = demand.detail
            yield finding(self.id, ERROR, where, path,
                          f"at maximum scale plus rollout surge Dify may open {used} database "
                          f"connections (pods x processes x pool: {detail}); the budget is "
                          f"{allowed}, 80% of {what} {limit}. Lower pools or maxReplicas, or "
                          "raise max_connections")
