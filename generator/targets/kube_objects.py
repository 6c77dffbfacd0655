"""The final Kubernetes objects of a plan: one function per kind, pure.

These are the manifests `kubectl kustomize overlays/<profile>` must produce; the
Kustomize target derives the base and the patches from them, and a test builds the
written overlay with the real kustomize and compares.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from generator import pod_facts
from generator.catalog import CATALOG, COMPONENTS, MIGRATION_SOURCE, Check, Component, Env
from generator.conventions import selector as selector  # re-exported: targets use m.selector
from generator.plan import Plan, migration_resources
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
from generator.tunables import shm_mebibytes

Obj = dict[str, Any]

PART_OF = "dify"
EXCEPTION_ANNOTATION = "difygen.io/security-exception"
CONFIG_HASH_ANNOTATION = "difygen.io/config-hash"
SINGLE_NODE_ANNOTATION = "difygen.io/single-node"


def labels(component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "dify",
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "difygen",
    }


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


def enabled_names(plan: Plan) -> set[str]:
    return {c.name for c in plan.profile.enabled_components()}


def public_urls(plan: Plan) -> dict[str, str]:
    """The public URL kinds an Env may ask for: "url" is the profile's publicUrl ("" means
    same origin: the browser calls the host it loaded Dify from, and nginx routes by
    path); "socket" its ws/wss form (absent without a publicUrl)."""
    url = plan.profile.public_url
    out = {"url": url}
    if url:
        out["url-if-set"] = url
        scheme, rest = url.split("://", 1)
        out["socket"] = f"{'wss' if scheme == 'https' else 'ws'}://{rest}"
    return out


def config_data(plan: Plan, comp: Component) -> dict[str, str]:
    """The env ConfigMap a component owns: its catalog settings, the backends' wiring
    (in the cluster or outside it) and the derived settings, sorted."""
    data: dict[str, str] = {}
    for env in comp.config_env:
        value = env_value(plan, env)
        if value is not None:
            data[env.name] = value["value"]
    data.update(external.wiring(plan).get(comp.backends_env, {}))
    if comp.tunables is not None:
        data.update(plan.tunables.group(comp.tunables))
    return dict(sorted(data.items()))


def config_maps(plan: Plan) -> dict[str, dict[str, str]]:
    """Every ConfigMap by component (the one it mounts or reads), profile-dependent data."""
    enabled = enabled_names(plan)
    inp = configs.TemplateInput(frozenset(enabled))
    maps: dict[str, dict[str, str]] = {}
    for comp, _ in plan.components():
        if comp.env_from_config == comp.name:
            maps[comp.name] = config_data(plan, comp)
        if comp.config_files:
            maps[comp.name] = configs.files(comp, inp)
    return maps


def config_map_name(component: str) -> str:
    return COMPONENTS[component].config_map_name


def _config_owner(comp: Component) -> str | None:
    """The component whose ConfigMap this one reads or mounts."""
    if comp.env_from_config is not None:
        return comp.env_from_config
    if comp.config_files:
        return comp.name
    return None


# ---------------------------------------------------------------------------- containers


def env_value(plan: Plan, env: Env, derived: dict[str, str] | None = None) -> Obj | None:
    """One catalog Env as a container env entry (None when it does not apply); `derived`
    values come from the plan's tunables unless the caller derives its own."""
    if env.when is not None and env.when not in enabled_names(plan):
        return None
    if env.secret_key is not None:
        return {"name": env.name, "valueFrom": secret_ref(plan, env.secret_key, env.optional)}
    value: str | None
    if env.value is not None:
        value = env.value
    elif env.endpoint is not None:
        value = env.endpoint.render()
    elif env.public is not None:
        value = public_urls(plan).get(env.public)
    elif env.runs is not None:
        value = "true" if env.runs in enabled_names(plan) else "false"
    else:
        value = (plan.tunables.derived_env() if derived is None else derived)[env.name]
    if value is None:
        return None
    return {"name": env.name, "value": value}


def container_env(plan: Plan, comp: Component,
                  derived: dict[str, str] | None = None) -> list[Obj]:
    """Environment set on the container itself (secrets by reference only)."""
    return [e for e in (env_value(plan, env, derived) for env in comp.env) if e is not None]


def _env_from(plan: Plan, comp: Component) -> list[Obj]:
    out: list[Obj] = []
    if comp.env_from_config is not None:
        out.append({"configMapRef": {"name": config_map_name(comp.env_from_config)}})
    if comp.env_from_secret:
        # The api family reads almost every key of the Secret under its own name.
        out.append({"secretRef": {"name": plan.profile.secret_name}})
    return out


def probe(check: Check, timing: ProbeTiming) -> Obj:
    return {**pod_facts.handler(check), **pod_facts.timing(timing)}


def resources(sizing: ComponentSizing) -> Obj:
    return pod_facts.resources(sizing.resources)


def pod_security(comp: Component) -> Obj:
    sec = pod_facts.security(comp)
    ctx: Obj = {}
    if sec.non_root:
        ctx.update({"runAsNonRoot": True, "runAsUser": sec.user, "runAsGroup": sec.group,
                    "fsGroup": sec.group, "fsGroupChangePolicy": "OnRootMismatch"})
    else:
        ctx.update({"runAsUser": 0, "runAsGroup": 0})
    ctx["seccompProfile"] = dict(pod_facts.SECCOMP)
    return ctx


def container_security(comp: Component) -> Obj:
    sec = pod_facts.security(comp)
    caps: Obj = {"drop": ["ALL"]}
    if sec.add_capabilities:
        caps["add"] = list(sec.add_capabilities)
    ctx: Obj = {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": sec.read_only_root,
        "capabilities": caps,
    }
    if sec.non_root:
        ctx["runAsNonRoot"] = True
    ctx["seccompProfile"] = dict(pod_facts.SECCOMP)
    return ctx


def container(plan: Plan, comp: Component, sizing: ComponentSizing) -> Obj:
    c: Obj = {"name": comp.name, "image": plan.image(comp.name),
              "imagePullPolicy": plan.profile.images.pull_policy}
    if comp.command:
        c["command"] = list(comp.command)
    if comp.args:
        c["args"] = list(comp.args)
    if comp.ports:
        c["ports"] = [{"name": p.name, "containerPort": p.port, "protocol": "TCP"}
                      for p in comp.ports]
    env = (container_env(plan, comp) + external.secret_env(plan, comp)
           + pod_extras.extra_env(plan, sizing))
    if env:
        c["env"] = env
    env_from = _env_from(plan, comp)
    if env_from:
        c["envFrom"] = env_from
    facts = pod_facts.facts(plan, comp, sizing)
    c["resources"] = facts.resources
    probes = {p.kind: probe(p.check, p.timing) for p in facts.probes}
    # Startup first: the order a reader meets them in.
    for kind in ("startup", "liveness", "readiness"):
        if kind in probes:
            c[f"{kind}Probe"] = probes[kind]
    if comp.shutdown.pre_stop_seconds:
        # Endpoints controllers and proxies learn of a terminating pod a few seconds
        # late: keep serving until they have, then let the process drain.
        c["lifecycle"] = {"preStop": {"exec": {"command": [
            "sleep", str(comp.shutdown.pre_stop_seconds)]}}}
    c["securityContext"] = container_security(comp)
    mounts: list[Obj] = [{"name": m.name, "mountPath": m.path} for m in comp.emptydirs]
    if comp.data_mount is not None:
        mounts.append({"name": comp.data_mount.name, "mountPath": comp.data_mount.path})
    if comp.shm:
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    if comp.config_dir is not None:
        mounts.append({"name": "config", "mountPath": comp.config_dir, "readOnly": True})
    c["volumeMounts"] = mounts
    return c


def volumes(plan: Plan, comp: Component, sizing: ComponentSizing) -> list[Obj]:
    vols: list[Obj] = [{"name": m.name, "emptyDir": {}} for m in comp.emptydirs]
    if comp.shm:
        # Postgres's parallel workers use /dev/shm; the container default is 64 MiB of
        # disk-backed space. Memory-backed, it counts against the server's own memory
        # limit (for the postgres component: Tunables.postgres_shm_mb).
        vols.append({"name": "dshm", "emptyDir": {
            "medium": "Memory",
            "sizeLimit": f"{shm_mebibytes(sizing.resources.limits.memory)}Mi"}})
    if comp.data_mount is not None and not comp.stateful and comp.workload == "Deployment":
        owner = plan.shared_volume_for(comp.name)
        if owner is not None:
            vols.append({"name": comp.data_mount.name,
                         "persistentVolumeClaim": {"claimName": pvc_name(owner)}})
        else:
            # Files live in object storage; local disk is scratch space only.
            vols.append({"name": comp.data_mount.name, "emptyDir": {}})
    if comp.config_dir is not None:
        vols.append({"name": "config", "configMap": {"name": config_map_name(comp.name)}})
    return vols


def pvc_name(owner: str) -> str:
    return COMPONENTS[owner].shared_claim


# ---------------------------------------------------------------------------- workloads


def config_hash(plan: Plan, comp: Component) -> str | None:
    owner = _config_owner(comp)
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
    spec.update(pod_facts.scheduling(sizing.scheduling, selector(sizing.name)))
    spec["terminationGracePeriodSeconds"] = pod_facts.grace_period(plan, comp)
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
    ports = [{"name": p.name, "port": p.exposed, "targetPort": p.name, "protocol": "TCP"}
             for p in comp.ports]
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
        "metadata": {"name": plan.profile.namespace,
                     "annotations": {ARGO_WAVE: WAVE_NAMESPACE}, "labels": {
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
    return with_sync_waves(out)


def scaling_objects(plan: Plan, ns: str | None) -> list[Obj]:
    out: list[Obj] = []
    for comp, sizing in plan.components():
        if sizing.scaling.autoscale:
            out.append(hpa(comp, sizing, ns))
    for comp, sizing in plan.components():
        if plan.profile.disruption.enabled and sizing.scaling.min_replicas >= 2:
            out.append(pdb(plan, comp, ns))
    return out


# ---------------------------------------------------------------------------- migration

MIGRATION = "migration"
ARGO_HOOK = "argocd.argoproj.io/hook"
ARGO_HOOK_DELETE = "argocd.argoproj.io/hook-delete-policy"
ARGO_WAVE = "argocd.argoproj.io/sync-wave"
# Argo CD sync waves: the namespace, then what the migration needs (datastores, every
# ConfigMap and ServiceAccount), then the migration Job, then everything else (wave 0).
# A PreSync hook would run before Postgres exists on a first install and never succeed;
# a Sync hook in wave -1 runs after the datastores are healthy, before the rollout.
WAVE_NAMESPACE, WAVE_PREREQUISITES, WAVE_MIGRATION = "-3", "-2", "-1"
MIGRATION_PREREQUISITES = tuple(c.name for c in CATALOG if c.migration_prerequisite)


def migration_job(plan: Plan, ns: str | None) -> Obj:
    """The api image in pure migration mode (MODE=migration, MIGRATION_ENABLED=true: the
    entrypoint runs `flask upgrade-db` and exits). Its name carries the Dify version and a
    hash of its pod template, so an upgrade creates a new Job instead of patching the
    immutable template of a finished one."""
    comp = COMPONENTS[MIGRATION_SOURCE]
    sizing = plan.profile.components[comp.name]
    c = container(plan, comp, sizing)
    c["name"] = MIGRATION
    c["resources"] = pod_facts.resources(migration_resources(plan.profile))
    c["env"] = [{"name": "MODE", "value": "migration"},
                {"name": "MIGRATION_ENABLED", "value": "true"}]
    for key in ("ports", "startupProbe", "livenessProbe", "readinessProbe", "lifecycle"):
        c.pop(key, None)
    c["volumeMounts"] = [{"name": m.name, "mountPath": m.path} for m in comp.emptydirs]
    annotations = {EXCEPTION_ANNOTATION: comp.security.exception.reason} \
        if comp.security.exception else {}
    digest = config_hash(plan, comp)
    if digest:
        annotations[CONFIG_HASH_ANNOTATION] = digest
    template: Obj = {
        "metadata": {"labels": labels(MIGRATION),
                     **({"annotations": dict(sorted(annotations.items()))}
                        if annotations else {})},
        "spec": {
            "serviceAccountName": host(comp.name),
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            # A failed attempt gets a fresh pod; on a first install the datastores may
            # need a few minutes, which the back-off (10 tries) covers.
            "restartPolicy": "Never",
            "securityContext": pod_security(comp),
            "containers": [c],
            "volumes": [{"name": m.name, "emptyDir": {}} for m in comp.emptydirs],
        },
    }
    # The Job's one pod spreads nowhere: no anti-affinity.
    template["spec"].update(pod_facts.scheduling(sizing.scheduling, None))
    template = pod_extras.decorate(plan, sizing, template, selector(MIGRATION))
    blob = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    version = plan.profile.images.tag(comp.name).replace(".", "-").replace("_", "-").lower()
    name = f"dify-migrate-{version}-{hashlib.sha256(blob).hexdigest()[:8]}"[:63].rstrip("-")
    md = meta(name, MIGRATION, ns)
    md["annotations"] = {ARGO_HOOK: "Sync", ARGO_HOOK_DELETE: "BeforeHookCreation",
                         ARGO_WAVE: WAVE_MIGRATION}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": md,
            "spec": {"backoffLimit": 10, "template": template}}


def with_sync_waves(objs: list[Obj]) -> list[Obj]:
    """Argo CD sync-wave annotations (other tools ignore them)."""
    for obj in objs:
        kind = obj["kind"]
        component = obj["metadata"].get("labels", {}).get("app.kubernetes.io/component")
        wave = None
        if kind == "Namespace":
            wave = WAVE_NAMESPACE
        elif kind in ("ConfigMap", "ServiceAccount") or (
                component in MIGRATION_PREREQUISITES
                and kind in ("StatefulSet", "Service", "PersistentVolumeClaim")):
            wave = WAVE_PREREQUISITES
        if wave is not None:
            obj["metadata"].setdefault("annotations", {})[ARGO_WAVE] = wave
    return objs


def all_objects(plan: Plan) -> list[Obj]:
    """Everything an overlay of this plan deploys, namespaced: the in-memory truth."""
    ns = plan.profile.namespace
    out = [namespace_object(plan), *component_objects(plan, ns), migration_job(plan, ns),
           *scaling_objects(plan, ns)]
    for extra in (quota(plan, ns), limit_range(plan, ns), node_config(plan, ns),
                  ingress.ingress(plan, ns, labels("ingress")),
                  external.database_config(plan, ns, labels("database"))):
        if extra is not None:
            out.append(extra)
    out = keda.apply_worker_pools(plan, out)
    out = monitoring.apply_monitoring(plan, out)
    out += network_policies.objects(plan)
    return out

