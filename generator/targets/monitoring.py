"""Monitoring (profile option `monitoring`): Prometheus Operator objects derived from the plan.

What exposes Prometheus metrics in Dify 1.16.1: none of Dify's own processes. The api
serves JSON only (`/health`, `/threads`, `/db-pool-stat` in api/extensions/ext_app_metrics.py)
and pushes OpenTelemetry when ENABLE_OTEL is set; worker, web, sandbox and plugin daemon
have no scrape endpoint. So:
- Weaviate's own metrics (PROMETHEUS_MONITORING_ENABLED, port 2112): a PodMonitor;
- Postgres and Redis through exporters (catalog.ADDONS), scraped by ServiceMonitors; the
  Redis exporter also reads the length of every Celery queue list in the broker database;
- cluster-level series for the rest, from kube-state-metrics and the kubelet (HPA
  replicas, OOM kills, volume usage) and from the ingress controller (HTTP status codes).
Every alert threshold comes from the plan (max_connections, maxmemory, replica maxima,
Celery concurrency), never typed by hand.
"""

from __future__ import annotations

import json
from fractions import Fraction
from math import ceil
from typing import Any

from generator import addons
from generator.catalog import ENTRY_POINT, Component, Metrics, by_role
from generator.plan import Plan
from generator.queues import DEFAULT_QUEUES
from generator.sizing import ComponentSizing
from generator.targets import kube_objects as m

Obj = dict[str, Any]

API_VERSION = "monitoring.coreos.com/v1"
# Alert thresholds (docs/sizing.md, "Monitoring").
API_5XX_RATIO = Fraction(1, 100)
POSTGRES_CONNECTIONS_SHARE = Fraction(90, 100)
REDIS_MEMORY_SHARE = Fraction(90, 100)
VOLUME_FULL_SHARE = Fraction(85, 100)


def _meta(plan: Plan, name: str, component: str) -> Obj:
    md = m.meta(name, component, plan.profile.namespace)
    md["labels"].update(dict(plan.profile.monitoring.prometheus_labels))
    return md


def queues(plan: Plan) -> tuple[str, ...]:
    """Every queue the workers consume: the default list, plus any a pool adds."""
    pools = plan.profile.worker_pools
    extra = [q for p in pools.pools for q in p.queues] if pools is not None else []
    return tuple(dict.fromkeys([*DEFAULT_QUEUES, *extra]))


def _exporter_env(plan: Plan, comp: Component) -> list[Obj]:
    keys = ",".join(f"db{plan.profile.broker_database}={q}" for q in queues(plan))
    return m.container_env(plan, comp, {"REDIS_EXPORTER_CHECK_SINGLE_KEYS": keys})


def _exporter(plan: Plan, comp: Component, sizing: ComponentSizing) -> list[Obj]:
    ns = plan.profile.namespace
    container: Obj = {
        "name": comp.name, "image": f"{comp.image}:{comp.tag}",
        "imagePullPolicy": plan.profile.images.pull_policy,
        "ports": [{"name": p.name, "containerPort": p.port, "protocol": "TCP"}
                  for p in comp.ports],
        "env": _exporter_env(plan, comp),
        "resources": m.resources(sizing),
        "livenessProbe": m.probe(comp.liveness, sizing.probes.liveness),
        "readinessProbe": m.probe(comp.readiness, sizing.probes.readiness),
        "securityContext": m.container_security(comp),
    }
    if plan.profile.images.registry:
        container["image"] = f"{plan.profile.images.registry}/{container['image']}"
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": m.meta(m.host(comp.name), comp.name, ns),
        "spec": {
            "replicas": 1, "revisionHistoryLimit": 5,
            "selector": {"matchLabels": m.selector(comp.name)},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": m.labels(comp.name)},
                "spec": {
                    "serviceAccountName": m.host(comp.name),
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": m.pod_security(comp),
                    "containers": [container],
                },
            },
        },
    }
    return [m.service_account(comp, ns), m.service(comp, ns) or {}, deployment]


def _service_monitor(plan: Plan, comp: Component) -> Obj:
    return {
        "apiVersion": API_VERSION, "kind": "ServiceMonitor",
        "metadata": _meta(plan, m.host(comp.name), comp.name),
        "spec": {
            "selector": {"matchLabels": m.selector(comp.name)},
            "namespaceSelector": {"matchNames": [plan.profile.namespace]},
            "endpoints": [{"port": "metrics", "interval": "30s"}],
        },
    }


def _pod_monitor(plan: Plan, comp: Component, metrics: Metrics) -> Obj:
    return {
        "apiVersion": API_VERSION, "kind": "PodMonitor",
        "metadata": _meta(plan, m.host(comp.name), comp.name),
        "spec": {
            "selector": {"matchLabels": m.selector(comp.name)},
            "namespaceSelector": {"matchNames": [plan.profile.namespace]},
            "podMetricsEndpoints": [{"port": metrics.port, "path": metrics.path,
                                     "interval": "30s"}],
        },
    }


def _enable_metrics(plan: Plan, objs: list[Obj], comp: Component, metrics: Metrics) -> None:
    for o in objs:
        if o["kind"] == comp.workload and o["metadata"]["name"] == m.host(comp.name):
            c = o["spec"]["template"]["spec"]["containers"][0]
            env = [e for e in (m.env_value(plan, e) for e in metrics.env) if e is not None]
            if env:
                c.setdefault("env", []).extend(env)
            if metrics.add_port is not None:
                # First: a strategic merge (ports merge by containerPort) puts new ports
                # in front, and the in-memory object must be what kustomize builds.
                c.setdefault("ports", []).insert(0, {"name": metrics.port,
                                                     "containerPort": metrics.add_port,
                                                     "protocol": "TCP"})


def _scaled_names(plan: Plan) -> list[str]:
    """Names of the HPAs the cluster will run (KEDA names its HPAs after the pools)."""
    names = [m.host(c.name) for c, s in plan.components() if s.scaling.autoscale]
    pools = plan.profile.worker_pools
    if pools is not None:
        names = [n for n in names if n != m.host(by_role("queue-worker").name)]
        names += [f"dify-worker-{p.name}" for p in pools.pools]
    return sorted(names)


def _backlogs(plan: Plan) -> list[tuple[str, tuple[str, ...], int]]:
    """(label, queues, backlog threshold): what the workers at maximum take at once."""
    concurrency = plan.tunables.celery_worker_amount
    pools = plan.profile.worker_pools
    if pools is None:
        worker = by_role("queue-worker").name
        top = plan.profile.components[worker].scaling.max_replicas
        return [(worker, DEFAULT_QUEUES, top * concurrency)]
    return [(p.name, p.queues, p.max_replicas * (p.tasks_per_replica or concurrency))
            for p in pools.pools]


def alerts(plan: Plan) -> list[Obj]:
    """The alerting rules, thresholds from the plan."""
    ns = plan.profile.namespace
    sel = f'namespace="{ns}"'
    t = plan.tunables
    connections = ceil(POSTGRES_CONNECTIONS_SHARE * t.postgres_max_connections)
    maxmemory = t.redis_maxmemory_mb * 2**20
    rules: list[Obj] = []

    def alert(name: str, expr: str, duration: str, severity: str, summary: str) -> None:
        rules.append({"alert": name, "expr": expr, "for": duration,
                      "labels": {"severity": severity},
                      "annotations": {"summary": summary}})

    # the ingress controller's series for the Service it routes to
    nginx = (f'exported_namespace="{ns}",exported_service="{m.host(ENTRY_POINT.name)}"')
    alert("DifyApi5xxRateHigh",
          f'sum(rate(nginx_ingress_controller_requests{{{nginx},status=~"5.."}}[5m])) / '
          f"sum(rate(nginx_ingress_controller_requests{{{nginx}}}[5m])) > "
          f"{float(API_5XX_RATIO)}",
          "5m", "critical",
          f"More than {API_5XX_RATIO * 100}% of requests to Dify answer 5xx")
    names = "|".join(_scaled_names(plan))
    if names:
        hpa = f'{sel},horizontalpodautoscaler=~"{names}"'
        alert("DifyAutoscalerAtMaximum",
              f"kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}} >= "
              f"kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}}",
              "15m", "warning",
              "{{ $labels.horizontalpodautoscaler }} has run at its maximum for 15 minutes: "
              "raise maxReplicas in the profile (the connection budget says how far)")
    alert("DifyContainerOOMKilled",
          f"increase(kube_pod_container_status_restarts_total{{{sel}}}[10m]) > 0 and on "
          f"(namespace, pod, container) kube_pod_container_status_last_terminated_reason"
          f'{{{sel},reason="OOMKilled"}} == 1',
          "0m", "warning",
          "{{ $labels.container }} in {{ $labels.pod }} was killed for exceeding its "
          "memory limit")
    for label, queues, threshold in _backlogs(plan):
        keys = f'{sel},db="db{plan.profile.broker_database}",key=~"{"|".join(queues)}"'
        alert(f"DifyCeleryBacklogGrowing{label.title().replace('-', '')}",
              f"redis_key_size{{{keys}}} > {threshold} and "
              f"deriv(redis_key_size{{{keys}}}[10m]) > 0",
              "15m", "warning",
              f"Celery queue {{{{ $labels.key }}}} holds more than {threshold} tasks (what "
              f"the {label} workers at maximum take at once) and keeps growing")
    alert("DifyPostgresConnectionsHigh",
          f"sum(pg_stat_database_numbackends{{{sel}}}) > {connections}",
          "5m", "critical",
          f"Postgres has more than {connections} connections, 90% of max_connections "
          f"{t.postgres_max_connections}")
    alert("DifyRedisMemoryNearMaxmemory",
          f"redis_memory_used_bytes{{{sel}}} > {ceil(REDIS_MEMORY_SHARE * maxmemory)}",
          "10m", "warning",
          f"Redis uses more than 90% of its maxmemory ({t.redis_maxmemory_mb}mb): "
          "allkeys-lru starts evicting")
    alert("DifyVolumeAlmostFull",
          f"kubelet_volume_stats_used_bytes{{{sel}}} / "
          f"kubelet_volume_stats_capacity_bytes{{{sel}}} > {float(VOLUME_FULL_SHARE)}",
          "10m", "warning",
          f"Volume {{{{ $labels.persistentvolumeclaim }}}} is more than "
          f"{VOLUME_FULL_SHARE * 100}% full")
    return rules


def _prometheus_rule(plan: Plan) -> Obj:
    return {
        "apiVersion": API_VERSION, "kind": "PrometheusRule",
        "metadata": _meta(plan, "dify-alerts", "monitoring"),
        "spec": {"groups": [{"name": "dify", "rules": alerts(plan)}]},
    }


def _dashboard(plan: Plan) -> Obj:
    panels = [{"id": i + 1, "type": "timeseries", "title": rule["alert"],
               "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)},
               "targets": [{"expr": rule["expr"].split(" > ")[0].split(" >= ")[0],
                            "refId": "A"}]}
              for i, rule in enumerate(alerts(plan))]
    board = {"title": f"Dify ({plan.profile.namespace})", "uid": f"dify-{plan.name}",
             "schemaVersion": 39, "time": {"from": "now-6h", "to": "now"}, "panels": panels}
    md = m.meta("dify-grafana-dashboard", "monitoring", plan.profile.namespace)
    # The label the Grafana sidecar (kube-prometheus-stack) watches for dashboards.
    md["labels"]["grafana_dashboard"] = "1"
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md,
            "data": {"dify.json": json.dumps(board, indent=2, sort_keys=True) + "\n"}}


def apply_monitoring(plan: Plan, objs: list[Obj]) -> list[Obj]:
    """`objs` plus the monitoring objects, when the profile turns monitoring on."""
    if not plan.profile.monitoring.enabled:
        return objs
    out = list(objs)
    for comp, sizing in addons.enabled(plan.profile):
        out += [o for o in _exporter(plan, comp, sizing) if o]
        out.append(_service_monitor(plan, comp))
    for comp, _ in plan.components():
        if comp.metrics is not None:
            _enable_metrics(plan, out, comp, comp.metrics)
            out.append(_pod_monitor(plan, comp, comp.metrics))
    out.append(_prometheus_rule(plan))
    if plan.profile.monitoring.grafana_dashboard:
        out.append(_dashboard(plan))
    return out
