"""Redis maxmemory between 60% and 80% of its memory limit, with a policy that never
evicts the Celery broker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction

from generator.quantity import format_memory
from generator.rules.base import ERROR, WARNING, Context, Finding, Rule, finding
from generator.rules.workloads import (
    command_line,
    container_env,
    image_name,
    quantity,
    workloads,
)
from generator.yamlio import KeyPath

LOW, HIGH = Fraction(60, 100), Fraction(80, 100)
_REDIS_SIZE = re.compile(r"^(\d+)(b|k|kb|m|mb|g|gb)?$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3,
          "gb": 1024**3}


def redis_bytes(text: str) -> int | None:
    """Redis' own size syntax: 1k = 1000, 1kb = 1024, units case-insensitive."""
    match = _REDIS_SIZE.match(text.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]


class RedisMaxmemory(Rule):
    """Redis' maxmemory sits between 60% and 80% of the container's memory limit.

    Read from the command line of every container whose image is named `redis*`
    (`--maxmemory 1536mb`, or `--maxmemory $(REDIS_MAXMEMORY)` expanded from the
    container's env or ConfigMaps). Above 80% a background save or AOF rewrite forks and
    copy-on-write pushes the container over its limit: OOM kill, lost cache and Celery
    queue. Below 60% memory is paid for and never used. A Redis with a memory limit but no
    maxmemory grows until it is killed: a warning. A value that cannot be resolved is a
    warning too.

    The same Redis holds Dify's Celery broker: queued tasks are lists without a TTL. An
    `allkeys-*` `--maxmemory-policy` evicts them under memory pressure and tasks vanish
    silently: an error. `volatile-*` policies evict only keys with a TTL (cache, results)
    and `noeviction` (Redis' default) refuses writes instead; both keep the broker.
    """

    id = "redis-maxmemory"
    layer = "sizing"

    def check(self, ctx: Context) -> Iterator[Finding]:
        for w in workloads(ctx):
            for c in w.containers("containers"):
                name = image_name(str(c.spec.get("image", "")))
                if not name.startswith("redis") or "exporter" in name:
                    continue
                limit = quantity(c, "limits", "memory")
                if limit is None or limit <= 0:
                    continue
                env = container_env(ctx, w, c)
                words = command_line(c, env)
                n_command = len(c.spec.get("command") or [])
                found: tuple[str, int] | None = None
                for i, word in enumerate(words):
                    if word == "--maxmemory" and i + 1 < len(words):
                        found = (words[i + 1], i + 1)
                    elif word.startswith("--maxmemory="):
                        found = (word.split("=", 1)[1], i)
                if found is None:
                    yield finding(self.id, WARNING, w.manifest, c.path,
                                  f"redis container {c.name!r} sets no --maxmemory; it will "
                                  f"grow until its {format_memory(limit)} limit kills it")
                    continue
                for i, word in enumerate(words):
                    policy = None
                    if word == "--maxmemory-policy" and i + 1 < len(words):
                        policy, at = words[i + 1], i + 1
                    elif word.startswith("--maxmemory-policy="):
                        policy, at = word.split("=", 1)[1], i
                    if policy is None:
                        continue
                    where: KeyPath = ((*c.path, "command", at) if at < n_command
                                      else (*c.path, "args", at - n_command))
                    if policy.lower().startswith("allkeys-"):
                        yield finding(self.id, ERROR, w.manifest, where,
                                      f"maxmemory-policy {policy} may evict the Celery "
                                      "broker's queued tasks; use volatile-lru (evicts only "
                                      "keys with a TTL) or noeviction")
                    elif policy.startswith("$("):
                        yield finding(self.id, WARNING, w.manifest, where,
                                      f"maxmemory-policy {policy!r} cannot be resolved from "
                                      "the manifests; not checked")
                text, index = found
                path: KeyPath = ((*c.path, "command", index) if index < n_command
                                 else (*c.path, "args", index - n_command))
                size = redis_bytes(text)
                if size is None:
                    yield finding(self.id, WARNING, w.manifest, path,
                                  f"maxmemory {text!r} cannot be resolved from the "
                                  "manifests; not checked")
                    continue
                share = Fraction(size) / limit
                if not LOW <= share <= HIGH:
                    yield finding(self.id, ERROR, w.manifest, path,
                                  f"redis maxmemory {text} is {float(share):.0%} of the "
                                  f"memory limit {format_memory(limit)}; keep it between "
                                  f"60% and 80% ({format_memory(limit * LOW)} to "
                                  f"{format_memory(limit * HIGH)})")
