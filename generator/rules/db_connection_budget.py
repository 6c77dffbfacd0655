"""Database connections at maximum scale within 80% of Postgres max_connections."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from math import floor

from generator.rules.base import ERROR, WARNING, Context, Finding, Rule, finding
from generator.rules.workloads import (
    Container,
    Workload,
    by_namespace,
    command_line,
    container_env,
    image_name,
    max_replicas,
)
from generator.yamlio import KeyPath

BUDGET = Fraction(80, 100)
POSTGRES_DEFAULT_MAX_CONNECTIONS = 100
# Dify's defaults when a variable is not set (api/configs and the plugin daemon's config).
API_DEFAULTS = {"SERVER_WORKER_AMOUNT": 1, "SQLALCHEMY_POOL_SIZE": 30,
                "SQLALCHEMY_MAX_OVERFLOW": 10}
PLUGIN_DEFAULT_MAX_OPEN_CONNS = 30
# How many users of the database a finding names; the rest are counted.
_DETAIL = 12
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
    replaced. A namespace without a postgres container (an external database) is not
    checked; a value that cannot be resolved (from a Secret) gives a warning.
    """

    id = "db-connection-budget"
    layer = "sizing"

    def check(self, ctx: Context) -> Iterator[Finding]:
        by_ns = by_namespace(ctx)
        for ns in sorted(by_ns):
            members = by_ns[ns]
            servers = [(w, c) for w in members if w.kind in _SERVER_KINDS
                       for c in w.containers("containers") if is_postgres(c)]
            if not servers:
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
            # What the clients open is a property of the namespace: summed once, however
            # many servers share it.
            used = sum(u.total for u in uses)
            ordered = sorted(uses, key=str)
            detail = ", ".join(f"{u}={u.total}" for u in ordered[:_DETAIL])
            if len(ordered) > _DETAIL:
                detail += f", and {len(ordered) - _DETAIL} more"
            for w, c in servers:
                yield from self._judge(ctx, w, c, used, detail, unknown)

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

    def _judge(self, ctx: Context, w: Workload, c: Container, used: int, detail: str,
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
        if unknown:
            yield finding(self.id, WARNING, w.manifest, path,
                          "pool settings of " + ", ".join(sorted(unknown)[:_DETAIL]) +
                          (f" and {len(unknown) - _DETAIL} more" if len(unknown) > _DETAIL
                           else "") + " cannot be "
                          "resolved from the manifests; they are left out of the budget")
        allowed = floor(BUDGET * limit)
        if used > allowed:
            yield finding(self.id, ERROR, w.manifest, path,
                          f"at maximum scale Dify may open {used} database connections "
                          f"(replicas x processes x pool: {detail}); the budget is {allowed}, "
                          f"80% of max_connections {limit}. Lower pools or maxReplicas, or "
                          "raise max_connections")
