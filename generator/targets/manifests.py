"""The final Kubernetes objects of a plan: one function per kind, pure.

These are the manifests `kubectl kustomize overlays/<profile>` must produce; the
Kustomize target derives the base and the patches from them, and a test builds the
written overlay with the real kustomize and compares.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from generator.catalog import Check, Component
from generator.plan import Plan
from generator.quantity import format_cpu, format_memory
from generator.sizing import ComponentSizing, ProbeTiming
from generator.targets import (
    autoscaling,
    configs,
    external,
    ingress,
    keda,
    monitoring,
    network_policies,
    pod_extras,
)

Obj = dict[str, Any]

PART_OF = "dify"
EXCEPTION_ANNOTATION = "difygen.io/security-exception"
CONFIG_HASH_ANNOTATION = "difygen.io/config-hash"
SINGLE_NODE_ANNOTATION = "difygen.io/single-node"
API_FAMILY = ("api", "api-websocket", "worker", "worker-beat")
DB_NAME = external.DB_NAME


def labels(component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "dify",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "difygen",
    }


def selector(component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": "dify", "app.kubernetes.io/component": component}


def meta(name: str, component: str, namespace: str | None) -> Obj:
    m: Obj = {"name": name}
    if namespace:
        m["namespace"] = namespace
    m["labels"] = labels(component)
    return m


def host(component: str) -> str:
    return f"dify-{component}"


# ---------------------------------------------------------------------------- config


def secret_ref(plan: Plan, key: str, optional: bool = False) -> Obj:
    ref: Obj = {"name": plan.profile.secret_name, "key": key}
    if optional:
        ref["optional"] = True
    return {"secretKeyRef": ref}


def dify_config(plan: Plan) -> dict[str, str]:
    """Non-secret settings of the dify-api image (api, websocket, worker, beat)."""
    enabled = {c.name for c in plan.profile.enabled_components()}
    data: dict[str, str] = {
        "DEPLOY_ENV": "PRODUCTION",
        "LOG_LEVEL": "INFO",
        "MIGRATION_ENABLED": "false",
        "DB_TYPE": "postgresql",
        "CELERY_BACKEND": "redis",
        "CODE_EXECUTION_ENDPOINT": f"http://{host('sandbox')}:8194",
        "PLUGIN_DAEMON_URL": f"http://{host('plugin-daemon')}:5002",
        "SSRF_PROXY_HTTP_URL": f"http://{host('ssrf-proxy')}:3128",
        "SSRF_PROXY_HTTPS_URL": f"http://{host('ssrf-proxy')}:3128",
        "ENABLE_COLLABORATION_MODE": "true" if "api-websocket" in enabled else "false",
        "HOME": "/tmp",
    }
    if "agent-backend" in enabled:
        data["AGENT_BACKEND_BASE_URL"] = f"http://{host('agent-backend')}:5050"
    # Postgres, Redis, the vector store and file storage, in the cluster or outside it
    data.update(external.wiring(plan)["api"])
    data.update(plan.tunables.api_env())
    return dict(sorted(data.items()))


def plugin_config(plan: Plan) -> dict[str, str]:
    data = {"PLUGIN_STORAGE_LOCAL_ROOT": "/app/storage", **plan.tunables.plugin_env(),
            **external.wiring(plan)["plugin-daemon"]}
    return dict(sorted(data.items()))


def config_maps(plan: Plan) -> dict[str, dict[str, str]]:
    """Every ConfigMap by component (the one it mounts or reads), profile-dependent data."""
    enabled = {c.name for c in plan.profile.enabled_components()}
    maps: dict[str, dict[str, str]] = {"api": dify_config(plan)}
    if "plugin-daemon" in enabled:
        maps["plugin-daemon"] = plugin_config(plan)
    maps["postgres"] = dict(sorted(plan.tunables.postgres_env().items()))
    maps["redis"] = plan.tunables.redis_env()
    maps["nginx"] = {"default.conf": configs.nginx_conf(websocket="api-websocket" in enabled)}
    maps["ssrf-proxy"] = {"squid.conf": configs.squid_conf()}
    maps["sandbox"] = {"config.yaml": configs.sandbox_conf()}
    return maps


def config_map_name(component: str) -> str:
    return "dify-config" if component == "api" else f"dify-{component}-config"


def _config_owner(component: str) -> str | None:
    if component in API_FAMILY:
        return "api"
    if component in ("plugin-daemon", "postgres", "redis", "nginx", "ssrf-proxy", "sandbox"):
        return component
    return None


# ---------------------------------------------------------------------------- containers


def _static_env(plan: Plan, comp: Component) -> list[Obj]:
    """Environment that does not depend on sizing (secrets by reference only)."""
    def v(name: str, value: str) -> Obj:
        return {"name": name, "value": value}

    def s(name: str, key: str, optional: bool = False) -> Obj:
        return {"name": name, "valueFrom": secret_ref(plan, key, optional)}

    n = comp.name
    if n in API_FAMILY:
        env = [v("MODE", comp.mode or "api")]
        if n == "api":
            # Migrations run in the api only: one place, guarded by Dify's own lock.
            env.append(v("MIGRATION_ENABLED", "true"))
        if n == "api-websocket":
            env += [v("SERVER_WORKER_AMOUNT", "1"),
                    v("SERVER_WORKER_CLASS",
                      "geventwebsocket.gunicorn.workers.GeventWebSocketWorker"),
                    v("SERVER_WORKER_CONNECTIONS", "1000")]
        return env
    if n == "web":
        return [v("HOME", "/tmp"), v("NEXT_TELEMETRY_DISABLED", "1"), v("PORT", "3000")]
    if n == "sandbox":
        return [s("API_KEY", "CODE_EXECUTION_API_KEY"), v("GIN_MODE", "release"),
                v("SANDBOX_PORT", "8194"), v("WORKER_TIMEOUT", "15"),
                v("ENABLE_NETWORK", "true"),
                v("HTTP_PROXY", f"http://{host('ssrf-proxy')}:3128"),
                v("HTTPS_PROXY", f"http://{host('ssrf-proxy')}:3128")]
    if n == "plugin-daemon":
        return [
            v("HOME", "/tmp"), v("SERVER_PORT", "5002"), s("SERVER_KEY", "PLUGIN_DAEMON_KEY"),
            v("DIFY_INNER_API_URL", f"http://{host('api')}:5001"),
            s("DIFY_INNER_API_KEY", "INNER_API_KEY_FOR_PLUGIN"),
            s("DB_PASSWORD", "DB_PASSWORD"), s("REDIS_PASSWORD", "REDIS_PASSWORD"),
            s("AWS_ACCESS_KEY", "S3_ACCESS_KEY", optional=True),
            s("AWS_SECRET_KEY", "S3_SECRET_KEY", optional=True),
            v("PLUGIN_WORKING_PATH", "/app/storage/cwd"),
            v("PLUGIN_REMOTE_INSTALLING_HOST", "0.0.0.0"),
            v("PLUGIN_REMOTE_INSTALLING_PORT", "5003"),
            v("PYTHON_ENV_INIT_TIMEOUT", "120"), v("PLUGIN_MAX_EXECUTION_TIMEOUT", "600"),
            v("FORCE_VERIFYING_SIGNATURE", "true"),
        ]
    if n == "ssrf-proxy":
        return []
    if n == "nginx":
        return []
    if n == "agent-backend":
        return [
            v("HOME", "/tmp"),
            s("DIFY_AGENT_API_TOKEN", "AGENT_BACKEND_API_TOKEN"),
            s("DIFY_AGENT_SERVER_SECRET_KEY", "DIFY_AGENT_SERVER_SECRET_KEY"),
            s("DIFY_AGENT_REDIS_URL", "DIFY_AGENT_REDIS_URL"),
            s("DIFY_AGENT_PLUGIN_DAEMON_API_KEY", "PLUGIN_DAEMON_KEY"),
            s("DIFY_AGENT_INNER_API_KEY", "INNER_API_KEY_FOR_PLUGIN"),
            v("DIFY_AGENT_PLUGIN_DAEMON_URL", f"http://{host('plugin-daemon')}:5002"),
            v("DIFY_AGENT_LOCAL_SANDBOX_URL", f"http://{host('local-sandbox')}:5004"),
            s("DIFY_AGENT_SHELLCTL_AUTH_TOKEN", "DIFY_AGENT_SHELLCTL_AUTH_TOKEN", optional=True),
        ]
    if n == "local-sandbox":
        return [
            v("HOME", "/home/dify"),
            s("SHELLCTL_AUTH_TOKEN", "DIFY_AGENT_SHELLCTL_AUTH_TOKEN", optional=True),
            v("HTTP_PROXY", f"http://{host('ssrf-proxy')}:3128"),
            v("HTTPS_PROXY", f"http://{host('ssrf-proxy')}:3128"),
        ]
    if n == "postgres":
        return [v("PGDATA", "/var/lib/postgresql/data/pgdata"), v("POSTGRES_DB", DB_NAME),
                v("POSTGRES_USER", "postgres"), s("POSTGRES_PASSWORD", "DB_PASSWORD")]
    if n == "redis":
        return [s("REDIS_PASSWORD", "REDIS_PASSWORD")]
    if n == "weaviate":
        return [
            v("PERSISTENCE_DATA_PATH", "/var/lib/weaviate"),
            v("QUERY_DEFAULTS_LIMIT", "25"),
            v("DEFAULT_VECTORIZER_MODULE", "none"),
            v("CLUSTER_HOSTNAME", "node1"),
            v("AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED", "false"),
            v("AUTHENTICATION_APIKEY_ENABLED", "true"),
            s("AUTHENTICATION_APIKEY_ALLOWED_KEYS", "WEAVIATE_API_KEY"),
            v("AUTHENTICATION_APIKEY_USERS", "hello@dify.ai"),
            v("AUTHORIZATION_ADMINLIST_ENABLED", "true"),
            v("AUTHORIZATION_ADMINLIST_USERS", "hello@dify.ai"),
        ]
    raise AssertionError(f"no environment defined for {n}")


def _env_from(plan: Plan, comp: Component) -> list[Obj]:
    owner = _config_owner(comp.name)
    out: list[Obj] = []
    if owner in ("api", "plugin-daemon", "postgres", "redis"):
        out.append({"configMapRef": {"name": config_map_name(owner)}})
    if comp.name in API_FAMILY:
        # The api family reads almost every key of the Secret under its own name.
        out.append({"secretRef": {"name": plan.profile.secret_name}})
    return out


def _command_args(comp: Component) -> tuple[list[str] | None, list[str] | None]:
    if comp.name == "worker-beat":
        # The image's entrypoint would write the schedule into the read-only /app/api.
        return (["celery", "-A", "app.celery", "beat", "--loglevel", "INFO",
                 "--schedule", "/tmp/celerybeat-schedule"], None)
    if comp.name == "ssrf-proxy":
        return (["squid", "-N", "-f", "/etc/squid-difygen/squid.conf"], None)
    if comp.name == "postgres":
        return (None, [
            "-c", "max_connections=$(POSTGRES_MAX_CONNECTIONS)",
            "-c", "shared_buffers=$(POSTGRES_SHARED_BUFFERS)",
            "-c", "effective_cache_size=$(POSTGRES_EFFECTIVE_CACHE_SIZE)",
            "-c", "work_mem=$(POSTGRES_WORK_MEM)",
            "-c", "maintenance_work_mem=$(POSTGRES_MAINTENANCE_WORK_MEM)",
        ])
    if comp.name == "redis":
        return (["redis-server"], [
            "--requirepass", "$(REDIS_PASSWORD)",
            "--maxmemory", "$(REDIS_MAXMEMORY)",
            "--maxmemory-policy", "allkeys-lru",
            "--appendonly", "yes",
            "--dir", "/data",
        ])
    return None, None


def probe(check: Check, timing: ProbeTiming) -> Obj:
    p: Obj
    if check.command:
        p = {"exec": {"command": list(check.command)}}
    elif check.http_path is not None:
        p = {"httpGet": {"path": check.http_path, "port": check.port}}
    else:
        p = {"tcpSocket": {"port": check.port}}
    p.update({
        "initialDelaySeconds": timing.initial_delay_seconds,
        "periodSeconds": timing.period_seconds,
        "timeoutSeconds": timing.timeout_seconds,
        "failureThreshold": timing.failure_threshold,
        "successThreshold": timing.success_threshold,
    })
    return p


def resources(sizing: ComponentSizing) -> Obj:
    r = sizing.resources
    return {
        "requests": {"cpu": format_cpu(r.requests.cpu), "memory": format_memory(r.requests.memory)},
        "limits": {"cpu": format_cpu(r.limits.cpu), "memory": format_memory(r.limits.memory)},
    }


def pod_security(comp: Component) -> Obj:
    sec = comp.security
    ctx: Obj = {}
    if sec.exception is None or not sec.exception.run_as_root:
        ctx.update({"runAsNonRoot": True, "runAsUser": sec.user, "runAsGroup": sec.group,
                    "fsGroup": sec.group, "fsGroupChangePolicy": "OnRootMismatch"})
    else:
        ctx.update({"runAsUser": 0, "runAsGroup": 0})
    ctx["seccompProfile"] = {"type": "RuntimeDefault"}
    return ctx


def container_security(comp: Component) -> Obj:
    sec = comp.security
    caps: Obj = {"drop": ["ALL"]}
    if sec.exception is not None and sec.exception.add_capabilities:
        caps["add"] = list(sec.exception.add_capabilities)
    ctx: Obj = {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": sec.read_only_root,
        "capabilities": caps,
    }
    if sec.exception is None or not sec.exception.run_as_root:
        ctx["runAsNonRoot"] = True
    ctx["seccompProfile"] = {"type": "RuntimeDefault"}
    return ctx


def container(plan: Plan, comp: Component, sizing: ComponentSizing) -> Obj:
    c: Obj = {"name": comp.name, "image": plan.image(comp.name),
              "imagePullPolicy": plan.profile.images.pull_policy}
    command, args = _command_args(comp)
    if command:
        c["command"] = command
    if args:
        c["args"] = args
    if comp.ports:
        c["ports"] = [{"name": p.name, "containerPort": p.port, "protocol": "TCP"}
                      for p in comp.ports]
    env = (_static_env(plan, comp) + external.secret_env(plan, comp.name)
           + pod_extras.extra_env(plan, sizing))
    if env:
        c["env"] = env
    env_from = _env_from(plan, comp)
    if env_from:
        c["envFrom"] = env_from
    c["resources"] = resources(sizing)
    if sizing.probes.startup is not None and comp.startup is not None:
        c["startupProbe"] = probe(comp.startup, sizing.probes.startup)
    c["livenessProbe"] = probe(comp.liveness, sizing.probes.liveness)
    c["readinessProbe"] = probe(comp.readiness, sizing.probes.readiness)
    c["securityContext"] = container_security(comp)
    mounts = [{"name": m.name, "mountPath": m.path} for m in comp.emptydirs]
    if comp.data_mount is not None:
        mounts.append({"name": comp.data_mount.name, "mountPath": comp.data_mount.path})
    for cm_mount in _config_mounts(comp):
        mounts.append(cm_mount)
    c["volumeMounts"] = mounts
    return c


def _config_mounts(comp: Component) -> list[Obj]:
    if comp.name == "nginx":
        return [{"name": "config", "mountPath": "/etc/nginx/conf.d", "readOnly": True}]
    if comp.name == "ssrf-proxy":
        return [{"name": "config", "mountPath": "/etc/squid-difygen", "readOnly": True}]
    if comp.name == "sandbox":
        return [{"name": "config", "mountPath": "/conf", "readOnly": True}]
    return []


def volumes(plan: Plan, comp: Component, sizing: ComponentSizing) -> list[Obj]:
    vols: list[Obj] = [{"name": m.name, "emptyDir": {}} for m in comp.emptydirs]
    if comp.data_mount is not None and not comp.stateful and comp.name in (
            "api", "worker", "plugin-daemon"):
        owner = plan.shared_volume_for(comp.name)
        if owner is not None:
            vols.append({"name": comp.data_mount.name,
                         "persistentVolumeClaim": {"claimName": pvc_name(owner)}})
        else:
            # Files live in object storage; local disk is scratch space only.
            vols.append({"name": comp.data_mount.name, "emptyDir": {}})
    if _config_mounts(comp):
        vols.append({"name": "config", "configMap": {"name": config_map_name(comp.name)}})
    return vols


def pvc_name(owner: str) -> str:
    return "dify-storage" if owner == "api" else "dify-plugin-storage"


# ---------------------------------------------------------------------------- workloads


def _affinity(sizing: ComponentSizing) -> Obj | None:
    sched = sizing.scheduling
    required: list[Obj] = []
    preferred: list[Obj] = []
    for mode, key in ((sched.spread_across_nodes, "kubernetes.io/hostname"),
                      (sched.spread_across_zones, "topology.kubernetes.io/zone")):
        term = {"labelSelector": {"matchLabels": selector(sizing.name)}, "topologyKey": key}
        if mode == "required":
            required.append(term)
        elif mode == "preferred":
            preferred.append({"weight": 100, "podAffinityTerm": term})
    if not required and not preferred:
        return None
    anti: Obj = {}
    if required:
        anti["requiredDuringSchedulingIgnoredDuringExecution"] = required
    if preferred:
        anti["preferredDuringSchedulingIgnoredDuringExecution"] = preferred
    return {"podAntiAffinity": anti}


def tolerations(sizing: ComponentSizing) -> list[Obj]:
    out = []
    for t in sizing.scheduling.tolerations:
        item: Obj = {}
        for key, value in (("key", t.key), ("operator", t.operator), ("value", t.value),
                           ("effect", t.effect), ("tolerationSeconds", t.toleration_seconds)):
            if value is not None:
                item[key] = value
        out.append(item)
    return out


def config_hash(plan: Plan, comp: Component) -> str | None:
    owner = _config_owner(comp.name)
    if owner is None:
        return None
    data = config_maps(plan).get(owner)
    if data is None:
        return None
    blob = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def pod_template(plan: Plan, comp: Component, sizing: ComponentSizing) -> Obj:
    annotations: dict[str, str] = {}
    digest = config_hash(plan, comp)
    if digest:
        # ConfigMap edits do not restart pods; a changed hash in the template does.
        annotations[CONFIG_HASH_ANNOTATION] = digest
    if comp.security.exception is not None:
        annotations[EXCEPTION_ANNOTATION] = comp.security.exception.reason
    if plan.profile.node is not None:
        annotations[SINGLE_NODE_ANNOTATION] = "true"
    md: Obj = {"labels": labels(comp.name)}
    if annotations:
        md["annotations"] = dict(sorted(annotations.items()))
    spec: Obj = {
        "serviceAccountName": host(comp.name),
        "automountServiceAccountToken": False,
        # A Service named like an env prefix (DIFY_...) would inject variables that
        # break gunicorn's bind; nothing in Dify uses service links.
        "enableServiceLinks": False,
        "securityContext": pod_security(comp),
        "containers": [container(plan, comp, sizing)],
        "volumes": volumes(plan, comp, sizing),
    }
    sched = sizing.scheduling
    if sched.node_selector:
        spec["nodeSelector"] = dict(sched.node_selector)
    tol = tolerations(sizing)
    if tol:
        spec["tolerations"] = tol
    affinity = _affinity(sizing)
    if affinity:
        spec["affinity"] = affinity
    if sched.priority_class_name:
        spec["priorityClassName"] = sched.priority_class_name
    if comp.name in ("postgres", "weaviate"):
        spec["terminationGracePeriodSeconds"] = 60
    return pod_extras.decorate(plan, sizing, {"metadata": md, "spec": spec}, selector(comp.name))


def workload(plan: Plan, comp: Component, sizing: ComponentSizing, ns: str | None) -> Obj:
    spec: Obj = {}
    if not sizing.scaling.autoscale:
        # With an HPA the replica count belongs to the HPA: a value here would make every
        # GitOps sync scale the workload back to it.
        spec["replicas"] = sizing.scaling.min_replicas
    spec["revisionHistoryLimit"] = 5
    spec["selector"] = {"matchLabels": selector(comp.name)}
    if comp.workload == "StatefulSet":
        spec["serviceName"] = host(comp.name)
        spec["template"] = pod_template(plan, comp, sizing)
        pers = sizing.persistence
        assert pers is not None and comp.data_mount is not None
        spec["volumeClaimTemplates"] = [{
            "metadata": {"name": comp.data_mount.name, "labels": selector(comp.name)},
            "spec": {
                "accessModes": [pers.access_mode],
                "storageClassName": pers.storage_class,
                "resources": {"requests": {"storage": format_memory(pers.size)}},
            },
        }]
        return {"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": meta(host(comp.name), comp.name, ns), "spec": spec}
    if plan.rolls(comp.name):
        spec["strategy"] = {"type": "RollingUpdate",
                            "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    else:
        spec["strategy"] = {"type": "Recreate"}
    spec["template"] = pod_template(plan, comp, sizing)
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta(host(comp.name), comp.name, ns), "spec": spec}


def service(comp: Component, ns: str | None) -> Obj | None:
    if not comp.ports:
        return None
    ports = [{"name": p.name, "port": 80 if comp.name == "nginx" else p.port,
              "targetPort": p.name, "protocol": "TCP"} for p in comp.ports]
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(host(comp.name), comp.name, ns),
            "spec": {"type": "ClusterIP", "selector": selector(comp.name), "ports": ports}}


def service_account(comp: Component, ns: str | None) -> Obj:
    return {"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": meta(host(comp.name), comp.name, ns),
            "automountServiceAccountToken": False}


def config_map(component: str, data: dict[str, str], ns: str | None) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": meta(config_map_name(component), component, ns), "data": data}


def shared_pvc(plan: Plan, owner: str, ns: str | None) -> Obj:
    pers = plan.profile.components[owner].persistence
    assert pers is not None
    return {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": meta(pvc_name(owner), owner, ns),
        "spec": {
            "accessModes": [pers.access_mode],
            "storageClassName": pers.storage_class,
            "resources": {"requests": {"storage": format_memory(pers.size)}},
        },
    }


def hpa(comp: Component, sizing: ComponentSizing, ns: str | None) -> Obj:
    scaling = sizing.scaling
    metrics: list[Obj] = []
    for resource_name, target in (("cpu", scaling.target_cpu_percent),
                                  ("memory", scaling.target_memory_percent)):
        if target is not None:
            metrics.append({"type": "Resource", "resource": {
                "name": resource_name,
                "target": {"type": "Utilization", "averageUtilization": target}}})
    return {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": meta(host(comp.name), comp.name, ns),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": comp.workload,
                               "name": host(comp.name)},
            "minReplicas": scaling.min_replicas,
            "maxReplicas": scaling.max_replicas,
            "metrics": metrics,
            # Scale down slowly: Dify's streaming responses and Celery tasks are long.
            "behavior": autoscaling.behavior(comp),
        },
    }


def pdb(plan: Plan, comp: Component, ns: str | None) -> Obj:
    return {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": meta(host(comp.name), comp.name, ns),
        "spec": {"maxUnavailable": plan.profile.disruption.max_unavailable,
                 "selector": {"matchLabels": selector(comp.name)}},
    }


def namespace_object(plan: Plan) -> Obj:
    exceptions = [c.name for c, _ in plan.components() if c.security.exception is not None]
    # A component with a declared root exception cannot be admitted under "restricted":
    # enforce the strictest level every pod meets, and warn/audit at "restricted" so the
    # exception stays visible.
    enforce = "baseline" if exceptions else "restricted"
    return {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": plan.profile.namespace, "labels": {
            "app.kubernetes.io/part-of": PART_OF,
            "app.kubernetes.io/managed-by": "difygen",
            "pod-security.kubernetes.io/enforce": enforce,
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
            **network_policies.namespace_labels(plan),
        }},
    }


def quota(plan: Plan, ns: str) -> Obj | None:
    q = plan.quota
    if q is None:
        return None
    return {
        "apiVersion": "v1", "kind": "ResourceQuota",
        "metadata": {"name": "dify-quota", "namespace": ns, "labels": labels("quota")},
        "spec": {"hard": {
            "requests.cpu": format_cpu(q.requests_cpu),
            "requests.memory": format_memory(q.requests_memory),
            "limits.cpu": format_cpu(q.limits_cpu),
            "limits.memory": format_memory(q.limits_memory),
            "pods": str(q.pods),
            "persistentvolumeclaims": str(q.persistentvolumeclaims),
            "requests.storage": format_memory(q.requests_storage),
        }},
    }


def limit_range(plan: Plan, ns: str) -> Obj | None:
    lr = plan.profile.limit_range
    if not lr.enabled:
        return None
    return {
        "apiVersion": "v1", "kind": "LimitRange",
        "metadata": {"name": "dify-limits", "namespace": ns, "labels": labels("limits")},
        "spec": {"limits": [{
            "type": "Container",
            "default": {"cpu": format_cpu(lr.default.cpu),
                        "memory": format_memory(lr.default.memory)},
            "defaultRequest": {"cpu": format_cpu(lr.default_request.cpu),
                               "memory": format_memory(lr.default_request.memory)},
        }]},
    }


NODE_CONFIG = "difygen-node"


def node_config(plan: Plan, ns: str) -> Obj | None:
    """The declared single node, where `difygen validate` finds it (rule node-fit)."""
    node = plan.profile.node
    if node is None:
        return None
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": NODE_CONFIG, "namespace": ns, "labels": labels("node")},
            "data": {"cpu": format_cpu(node.cpu), "memory": format_memory(node.memory),
                     "reservedPercent": str(node.reserved_percent)}}


def component_objects(plan: Plan, ns: str | None) -> list[Obj]:
    """Per-component objects (no namespace-level ones), in catalog order."""
    maps = config_maps(plan)
    out: list[Obj] = []
    for comp, sizing in plan.components():
        out.append(service_account(comp, ns))
        if comp.name in maps:
            out.append(config_map(comp.name, maps[comp.name], ns))
        if plan.shared_volume_for(comp.name) == comp.name:
            out.append(shared_pvc(plan, comp.name, ns))
        svc = service(comp, ns)
        if svc:
            out.append(svc)
        out.append(workload(plan, comp, sizing, ns))
    return out


def scaling_objects(plan: Plan, ns: str | None) -> list[Obj]:
    out: list[Obj] = []
    for comp, sizing in plan.components():
        if sizing.scaling.autoscale:
            out.append(hpa(comp, sizing, ns))
    for comp, sizing in plan.components():
        if plan.profile.disruption.enabled and sizing.scaling.min_replicas >= 2:
            out.append(pdb(plan, comp, ns))
    return out


def all_objects(plan: Plan) -> list[Obj]:
    """Everything an overlay of this plan deploys, namespaced: the in-memory truth."""
    ns = plan.profile.namespace
    out = [namespace_object(plan), *component_objects(plan, ns), *scaling_objects(plan, ns)]
    for extra in (quota(plan, ns), limit_range(plan, ns), node_config(plan, ns),
                  ingress.ingress(plan, ns, labels("ingress")),
                  external.database_config(plan, ns, labels("database"))):
        if extra is not None:
            out.append(extra)
    out = keda.apply_worker_pools(plan, out)
    out = monitoring.apply_monitoring(plan, out)
    out += network_policies.objects(plan)
    return out

