"""KEDA worker pools: one Celery worker Deployment per queue group, scaled on queue length.

Only when the profile sets `workerPools` (KEDA must run in the cluster). The pools replace
the single worker Deployment and its HPA: each pool is the worker's pod with
CELERY_WORKER_QUEUES set to its queues, and a ScaledObject that reads the length of those
queues' Redis lists in the Celery broker database, authenticated by a
TriggerAuthentication that points at the Secret's REDIS_PASSWORD key (no value in output).
The triggers follow the profile's Redis: the in-cluster Service, or `redis.external`
(host and port, TLS, username, `brokerDb`), or its Sentinels (KEDA's redis-sentinel
scaler; parameter names as in KEDA 2.16's redis_scaler.go and scaler docs).
"""

from __future__ import annotations

import copy
from typing import Any

from generator.catalog import Endpoint, by_role
from generator.plan import Plan
from generator.sizing import WorkerPool
from generator.targets import autoscaling
from generator.targets import kube_objects as m

Obj = dict[str, Any]

API_VERSION = "keda.sh/v1alpha1"
POOL_LABEL = "difygen.io/worker-pool"
TRIGGER_AUTH = "dify-redis-broker"


def pool_name(pool: WorkerPool) -> str:
    return f"dify-worker-{pool.name}"


def _deployment(worker: Obj, pool: WorkerPool) -> Obj:
    d = copy.deepcopy(worker)
    d["metadata"]["name"] = pool_name(pool)
    d["metadata"]["labels"][POOL_LABEL] = pool.name
    spec = d["spec"]
    # KEDA (through the HPA it creates) owns the replica count.
    spec.pop("replicas", None)
    spec["selector"]["matchLabels"][POOL_LABEL] = pool.name
    spec["template"]["metadata"]["labels"][POOL_LABEL] = pool.name
    container = spec["template"]["spec"]["containers"][0]
    container.setdefault("env", []).append(
        {"name": "CELERY_WORKER_QUEUES", "value": ",".join(pool.queues)})
    return d


def _connection(plan: Plan) -> tuple[str, dict[str, str]]:
    """The trigger type and the metadata that say where the broker's queues are."""
    ext = plan.profile.external_redis
    db = {"databaseIndex": str(plan.profile.broker_database)}
    if ext is None:
        broker = by_role("broker")
        return "redis", {"address": Endpoint(broker.name, broker.ports[0].name,
                                             part="hostport").render(), **db}
    if ext.sentinel_master:
        # KEDA asks the Sentinels for the master, as Celery and Dify do.
        kind, where = "redis-sentinel", {"addresses": ",".join(ext.sentinel_nodes),
                                         "sentinelMaster": ext.sentinel_master}
    else:
        kind, where = "redis", {"address": f"{ext.host}:{ext.port}"}
    if ext.username:
        where["username"] = ext.username
    if ext.tls:
        where["enableTLS"] = "true"
    return kind, {**where, **db}


def _scaled_object(plan: Plan, pool: WorkerPool, ns: str) -> Obj:
    assert plan.profile.worker_pools is not None
    settings = plan.profile.worker_pools
    per_replica = pool.tasks_per_replica or plan.tunables.celery_worker_amount
    worker = by_role("queue-worker")
    kind, connection = _connection(plan)
    md = m.meta(pool_name(pool), worker.name, ns)
    md["labels"][POOL_LABEL] = pool.name
    return {
        "apiVersion": API_VERSION, "kind": "ScaledObject", "metadata": md,
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                               "name": pool_name(pool)},
            "pollingInterval": settings.polling_interval_seconds,
            "cooldownPeriod": settings.cooldown_period_seconds,
            "minReplicaCount": pool.min_replicas,
            "maxReplicaCount": pool.max_replicas,
            "advanced": {"horizontalPodAutoscalerConfig": {
                "name": pool_name(pool),
                "behavior": autoscaling.behavior(worker),
            }},
            # One trigger per queue: the HPA scales to the largest of them, so a backlog
            # on any queue of the pool adds workers.
            "triggers": [{
                "type": kind,
                "name": f"queue-{queue.replace('_', '-')}",
                "metadata": {
                    **connection,
                    "listName": queue,
                    "listLength": str(per_replica),
                    "activationListLength": "0",
                },
                "authenticationRef": {"name": TRIGGER_AUTH},
            } for queue in pool.queues],
        },
    }


def _trigger_auth(plan: Plan, ns: str) -> Obj:
    return {
        "apiVersion": API_VERSION, "kind": "TriggerAuthentication",
        "metadata": m.meta(TRIGGER_AUTH, by_role("broker").name, ns),
        "spec": {"secretTargetRef": [{"parameter": "password",
                                      "name": plan.profile.secret_name,
                                      "key": "REDIS_PASSWORD"}]},
    }


def apply_worker_pools(plan: Plan, objs: list[Obj]) -> list[Obj]:
    """`objs` with the worker Deployment and its HPA replaced by the KEDA pools."""
    pools = plan.profile.worker_pools
    if pools is None:
        return objs
    ns = plan.profile.namespace
    worker_name = m.host(by_role("queue-worker").name)
    worker = next(o for o in objs if o["kind"] == "Deployment"
                  and o["metadata"]["name"] == worker_name)
    kept = [o for o in objs if not (
        o["kind"] in ("Deployment", "HorizontalPodAutoscaler")
        and o["metadata"]["name"] == worker_name)]
    added: list[Obj] = [_deployment(worker, p) for p in pools.pools]
    added.append(_trigger_auth(plan, ns))
    added += [_scaled_object(plan, p, ns) for p in pools.pools]
    return kept + added
