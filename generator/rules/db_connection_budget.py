"""Database connections at maximum scale within 80% of Postgres max_connections."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from math import floor

from generator.manifests import Manifest
from generator.rules.base import ERROR, WARNING, Context, Finding, Rule, as_dict, finding
from generator.rules.workloads import (
    Container,
    Workload,
    command_line,
    container_env,
    image_name,
    max_replicas,
    workloads,
)
from generator.yamlio import KeyPath

BUDGET = Fraction(80, 100)
POSTGRES_DEFAULT_MAX_CONNECTIONS = 100
DATABASE_CONFIGMAP = "difygen-database"
# Dify's defaults when a variable is not set (api/configs and the plugin daemon's config).
API_DEFAULTS = {"SERVER_WORKER_AMOUNT": 1, "SQLALCHEMY_POOL_SIZE": 30,
                "SQLALCHEMY_MAX_OVERFLOW": 10}
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

    @property
    def total(self) -> int:
        return self.replicas * self.processes * self.per_process

    def __str__(self) -> str:
        return f"{self.workload} {self.replicas}x{self.processes}x{self.per_process}"


def is_postgres(c: Container) -> bool:
    return image_name(str(c.spec.get("image", ""))).startswith("postgres")


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


class DbConnectionBudget(Rule):
    """At maximum scale, Dify's database connections stay within 80% of max_connections.

    Computed from the manifests alone, per namespace. Each dify-api container (any image
    named `dify-api`) holds, per replica, `processes x (SQLALCHEMY_POOL_SIZE +
    SQLALCHEMY_MAX_OVERFLOW)` connections, where processes is `SERVER_WORKER_AMOUNT` when
    `MODE` is `api` (or unset) and 1 otherwise (Celery's gevent pool and beat are one
    process). Each dify-plugin-daemon container holds `DB_MAX_OPEN_CONNS`. Replicas are
    the HPA's maxReplicas, else `spec.replicas`. Values come from container `env` (with
    `$(VAR)` expansion), `valueFrom.configMapKeyRef` and `envFrom` ConfigMaps in the same
    manifest set; unset variables take Dify's defaults (1, 30, 10; 30).

    `max_connections` is read from the postgres container's command line
    (`-c max_connections=N`, `$(VAR)` expanded from its env), else Bitnami's
    `POSTGRESQL_MAX_CONNECTIONS`, else Postgres' default of 100. The sum must not exceed
    80% of it: the rest is for superusers, migrations and connections of pods being
    replaced. A value that cannot be resolved (from a Secret) gives a warning.

    A namespace without a postgres container uses an external database: its limit is
    read from a ConfigMap named `difygen-database` in the namespace (`data.maxConnections`:
    the server's max_connections, or the connections a PgBouncer in front of it opens),
    which difygen renders for `database.external`. Without either, it is not checked.
    """

    id = "db-connection-budget"
    layer = "sizing"

    def check(self, ctx: Context) -> Iterator[Finding]:
        by_ns: dict[str, list[Workload]] = {}
        for w in workloads(ctx):
            by_ns.setdefault(w.manifest.namespace, []).append(w)
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
            for w, c in servers:
                yield from self._judge(ctx, w, c, uses, unknown)
            if not servers and declared is not None:
                yield from self._judge_declared(declared, uses, unknown)

    def _judge_declared(self, cm: Manifest, uses: list[Use],
                        unknown: list[str]) -> Iterator[Finding]:
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
        yield from self._verdict(cm, path, limit, uses, unknown,
                                 "max_connections declared for the external database")

    def _use(self, ctx: Context, w: Workload, c: Container, unknown: list[str]) -> Use | None:
        image = image_name(str(c.spec.get("image", "")))
        if image not in ("dify-api", "dify-plugin-daemon"):
            return None
        env = container_env(ctx, w, c)
        label = f"{w.kind}/{w.manifest.name}"
        try:
            if image == "dify-plugin-daemon":
                per = int(env.get("DB_MAX_OPEN_CONNS", PLUGIN_DEFAULT_MAX_OPEN_CONNS))
                return Use(label, max_replicas(ctx, w), 1, per)
            values = {k: int(env.get(k, d)) for k, d in API_DEFAULTS.items()}
        except ValueError:
            unknown.append(label)
            return None
        mode = env.get("MODE", "api")
        processes = values["SERVER_WORKER_AMOUNT"] if mode == "api" else 1
        per = values["SQLALCHEMY_POOL_SIZE"] + values["SQLALCHEMY_MAX_OVERFLOW"]
        return Use(label, max_replicas(ctx, w), processes, per)

    def _judge(self, ctx: Context, w: Workload, c: Container, uses: list[Use],
               unknown: list[str]) -> Iterator[Finding]:
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
        yield from self._verdict(w.manifest, path, limit, uses, unknown, "max_connections")

    def _verdict(self, where: Manifest, path: KeyPath, limit: int, uses: list[Use],
                 unknown: list[str], what: str) -> Iterator[Finding]:
        if unknown:
            yield finding(self.id, WARNING, where, path,
                          "pool settings of " + ", ".join(sorted(unknown)) + " cannot be "
                          "resolved from the manifests; they are left out of the budget")
        allowed = floor(BUDGET * limit)
        used = sum(u.total for u in uses)
        if used > allowed:
            detail = ", ".join(f"{u}={u.total}" for u in sorted(uses, key=str))
            yield finding(self.id, ERROR, where, path,
                          f"at maximum scale Dify may open {used} database connections "
                          f"(replicas x processes x pool: {detail}); the budget is {allowed}, "
                          f"80% of {what} {limit}. Lower pools or maxReplicas, or "
                          "raise max_connections")
