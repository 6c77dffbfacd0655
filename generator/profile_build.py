"""Building a profile's sizing (frozen dataclasses) from its merged, checked mapping.

Defaults come from the catalog; nothing here derives tunables (worker counts, pool sizes:
generator.tunables does, for the plan) or reports problems (profile_check does, before).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from generator import catalog
from generator.quantity import parse_quantity
from generator.queues import BROKER_DATABASE
from generator.sizing import (
    AliyunOssStorage,
    AzureBlobStorage,
    ComponentSizing,
    CpuMemory,
    DisruptionPolicy,
    ExternalPostgres,
    ExternalRedis,
    ExternalVectorStore,
    ExtraEnv,
    FileStorage,
    GcsStorage,
    Images,
    Ingress,
    LimitRangePolicy,
    Monitoring,
    NetworkPolicySettings,
    NodeCapacity,
    Peer,
    Persistence,
    PodMetadata,
    Probes,
    ProbeTiming,
    ProfileSizing,
    QuotaPolicy,
    Resources,
    S3Storage,
    Scaling,
    Scheduling,
    Toleration,
    WorkerPool,
    WorkerPools,
    image_key,
)
from generator.versions import DEFAULT_KUBERNETES_VERSION

# initialDelay, period, timeout, failureThreshold of a startup probe the catalog leaves open
STARTUP_DEFAULT = (0, 10, 5, 30)
# What a LimitRange's defaults are when the profile does not set them (see build).
LIMIT_RANGE_DEFAULTS = {"defaultRequest": ("100m", "128Mi"), "default": ("500m", "512Mi")}


def is_enabled(comp: catalog.Component, spec: dict[str, Any]) -> bool:
    return bool(spec.get("enabled", comp.enabled_by_default))


def external_components(merged: dict[str, Any]) -> set[str]:
    """In-cluster components a profile replaces with services outside the cluster."""
    out = set()
    if "external" in merged.get("database", {}):
        out.add("postgres")
    if "external" in merged.get("redis", {}):
        out.add("redis")
    vector = merged.get("vectorDatabase", {})
    chosen = vector.get("type", catalog.DEFAULT_VECTOR_STORE)
    for store in catalog.VECTOR_STORES:
        if store.component is not None and (store.kind != chosen or "external" in vector):
            out.add(store.component)
    return out


def neutral() -> ProfileSizing:
    """Catalog defaults, every component on, local storage: the sizing of the shared base."""
    every = {c.name: {"enabled": True} for c in catalog.CATALOG if c.follows is None}
    return build("base", ("base",), "catalog", {"components": every})


def build(name: str, chain: tuple[str, ...], source: str,
          merged: dict[str, Any]) -> ProfileSizing:
    """The sizing of a merged profile that passed every check (profile_check): catalog
    defaults fill what the profile leaves out."""
    images = merged.get("images", {})
    tags = images.get("tags", {})
    storage = merged.get("fileStorage", {})
    s3 = storage.get("s3")
    node = merged.get("node")
    quota = merged.get("resourceQuota", {})
    limit_range = merged.get("limitRange", {})
    pdb = merged.get("podDisruptionBudgets", {})
    external = external_components(merged)
    specs = merged.get("components", {})
    components = {}
    for comp in catalog.CATALOG:
        spec = specs.get(comp.name, {})
        leader = comp.follows
        enabled = is_enabled(catalog.COMPONENTS[leader], specs.get(leader, {})) if leader \
            else is_enabled(comp, spec)
        # An external service replaces the in-cluster component.
        components[comp.name] = _build_component(comp, spec,
                                                 enabled and comp.name not in external)
    pools = _worker_pools(merged.get("workerPools"))
    if pools is not None:
        # The pools replace the worker Deployment: its replica range is theirs, summed,
        # so quota, node fit and explain count every pool pod.
        worker = components["worker"]
        components["worker"] = replace(worker, scaling=Scaling(
            True, sum(p.min_replicas for p in pools.pools),
            sum(p.max_replicas for p in pools.pools), worker.scaling.target_cpu_percent))
    return ProfileSizing(
        name=name,
        source=source,
        chain=chain,
        description=merged.get("description", ""),
        kubernetes_version=merged.get("kubernetesVersion", DEFAULT_KUBERNETES_VERSION),
        namespace=merged.get("namespace", "dify"),
        images=Images(
            registry=images.get("registry", ""),
            pull_policy=images.get("pullPolicy", "IfNotPresent"),
            tags=tuple((c.name, tags.get(c.name, c.tag)) for c in catalog.CATALOG
                       if image_key(c.name) == c.name),
            pull_secrets=tuple(images.get("pullSecrets", ())),
        ),
        secret_name=merged.get("secretName", "dify-secrets"),
        file_storage=_file_storage(storage, s3),
        vector_database=merged.get("vectorDatabase", {}).get("type", "weaviate"),
        # publicUrl wins; without it an Ingress's first host is where browsers come from.
        public_url=(merged.get("publicUrl")
                    or build_ingress(merged.get("ingress")).public_origin or "").rstrip("/"),
        node=NodeCapacity(parse_quantity(node["cpu"]), parse_quantity(node["memory"]),
                          node.get("reservedPercent", 10)) if node else None,
        quota=QuotaPolicy(quota.get("enabled", True), quota.get("headroomPercent", 20)),
        limit_range=LimitRangePolicy(
            enabled=limit_range.get("enabled", True),
            default_request=_cpu_mem(limit_range.get("defaultRequest"),
                                     LIMIT_RANGE_DEFAULTS["defaultRequest"]),
            default=_cpu_mem(limit_range.get("default"), LIMIT_RANGE_DEFAULTS["default"]),
        ),
        disruption=DisruptionPolicy(pdb.get("enabled", False), pdb.get("maxUnavailable", 1)),
        components=components,
        ingress=build_ingress(merged.get("ingress")),
        pod_metadata=_pod_metadata(merged),
        external_postgres=_external_postgres(merged.get("database", {}).get("external")),
        external_redis=_external_redis(merged.get("redis", {}).get("external")),
        external_vector_store=_external_vector(merged.get("vectorDatabase", {})
                                               .get("external")),
        worker_pools=pools,
        monitoring=Monitoring(
            enabled=merged.get("monitoring", {}).get("enabled", False),
            grafana_dashboard=merged.get("monitoring", {}).get("grafanaDashboard", False),
            prometheus_labels=tuple(sorted(
                merged.get("monitoring", {}).get("prometheusLabels", {}).items())),
        ),
        network_policies=_network_policies(merged.get("networkPolicies", {})),
    )


def _worker_pools(spec: dict[str, Any] | None) -> WorkerPools | None:
    if not spec or not spec.get("enabled", True) or not spec.get("pools"):
        return None
    return WorkerPools(
        polling_interval_seconds=spec.get("pollingIntervalSeconds", 15),
        cooldown_period_seconds=spec.get("cooldownPeriodSeconds", 300),
        pools=tuple(WorkerPool(p["name"], tuple(p["queues"]), p.get("minReplicas", 1),
                               p["maxReplicas"], p.get("tasksPerReplica"))
                    for p in spec["pools"]),
    )


def _file_storage(storage: dict[str, Any], s3: dict[str, Any] | None) -> FileStorage:
    backend = storage.get("backend", "local")
    azure, gcs, oss = (storage.get(k) for k in ("azureBlob", "gcs", "aliyunOss"))
    return FileStorage(
        backend=backend,
        s3=S3Storage(endpoint=s3["endpoint"], bucket=s3["bucket"],
                     region=s3.get("region", "us-east-1"),
                     addressing_style=s3.get("addressingStyle", "path"))
        if backend == "s3" and s3 else None,
        azure_blob=AzureBlobStorage(
            account_name=azure["accountName"], container=azure["container"],
            account_url=azure.get("accountUrl",
                                  f"https://{azure['accountName']}.blob.core.windows.net"))
        if backend == "azure-blob" and azure else None,
        gcs=GcsStorage(gcs["bucket"]) if backend == "gcs" and gcs else None,
        aliyun_oss=AliyunOssStorage(
            endpoint=oss["endpoint"], bucket=oss["bucket"], region=oss["region"],
            auth_version=oss.get("authVersion", "v4"), path=oss.get("path", ""))
        if backend == "aliyun-oss" and oss else None,
    )


def _external_postgres(spec: dict[str, Any] | None) -> ExternalPostgres | None:
    if spec is None:
        return None
    return ExternalPostgres(
        host=spec["host"], port=spec.get("port", 5432),
        username=spec.get("username", "postgres"), database=spec.get("database", "dify"),
        plugin_database=spec.get("pluginDatabase", "dify_plugin"),
        ssl_mode=spec.get("sslMode", "require"),
        max_connections=spec.get("maxConnections"),
        pgbouncer_pool_size=spec.get("pgbouncerPoolSize"))


def _external_redis(spec: dict[str, Any] | None) -> ExternalRedis | None:
    if spec is None:
        return None
    sentinel = spec.get("sentinel", {})
    return ExternalRedis(
        host=spec.get("host", ""), port=spec.get("port", 6379),
        username=spec.get("username", ""), db=spec.get("db", 0), tls=spec.get("tls", False),
        sentinel_master=sentinel.get("masterName"),
        sentinel_nodes=tuple(sentinel.get("nodes", ())),
        broker_db=spec.get("brokerDb", BROKER_DATABASE))


def _external_vector(spec: dict[str, Any] | None) -> ExternalVectorStore | None:
    if spec is None:
        return None
    return ExternalVectorStore(
        endpoint=spec.get("endpoint"), grpc_endpoint=spec.get("grpcEndpoint"),
        grpc_port=spec.get("grpcPort"), host=spec.get("host"), port=spec.get("port"),
        database=spec.get("database"), username=spec.get("username"))


def build_ingress(spec: dict[str, Any] | None) -> Ingress:
    if not spec:
        return Ingress()
    cert = spec.get("certManager", {})
    return Ingress(
        # Writing an `ingress:` block means wanting one; `enabled: false` turns an
        # inherited one off.
        enabled=spec.get("enabled", True),
        class_name=spec.get("className"),
        hosts=tuple(spec.get("hosts", ())),
        tls_secret=spec.get("tls", {}).get("secretName"),
        cluster_issuer=cert.get("clusterIssuer"),
        issuer=cert.get("issuer"),
        annotations=tuple(sorted(spec.get("annotations", {}).items())),
    )


def _pod_metadata(spec: dict[str, Any]) -> PodMetadata:
    return PodMetadata(labels=tuple(sorted(spec.get("podLabels", {}).items())),
                       annotations=tuple(sorted(spec.get("podAnnotations", {}).items())))


def _extra_env(spec: dict[str, Any]) -> tuple[ExtraEnv, ...]:
    out = []
    for name, value in sorted(spec.get("env", {}).items()):
        if isinstance(value, dict):
            out.append(ExtraEnv(name, secret_key=value["secretKey"]))
        else:
            out.append(ExtraEnv(name, value=value))
    return tuple(out)


def _network_policies(spec: dict[str, Any]) -> NetworkPolicySettings:
    default = NetworkPolicySettings()
    dns = spec.get("dns", {})
    return NetworkPolicySettings(
        enabled=spec.get("enabled", default.enabled),
        ingress_from=tuple(_peer(p) for p in spec["ingressFrom"])
        if "ingressFrom" in spec else default.ingress_from,
        dns_to=tuple(_peer(p) for p in dns["to"]) if "to" in dns else default.dns_to,
        dns_ports=tuple(dns.get("ports", default.dns_ports)),
        internet_except=tuple(spec.get("internetExcept", default.internet_except)),
    )


def _peer(spec: dict[str, Any]) -> Peer:
    def labels(key: str) -> tuple[tuple[str, str], ...] | None:
        value = spec.get(key)
        return None if value is None else tuple(sorted(value.items()))

    return Peer(namespace_selector=labels("namespaceSelector"),
                pod_selector=labels("podSelector"), cidr=spec.get("cidr"),
                except_cidrs=tuple(spec.get("except", ())))


def _cpu_mem(spec: dict[str, Any] | None, default: tuple[str, str]) -> CpuMemory:
    spec = spec or {}
    return CpuMemory(parse_quantity(spec.get("cpu", default[0])),
                     parse_quantity(spec.get("memory", default[1])))


def _timing(spec: dict[str, Any] | None, default: tuple[int, int, int, int]) -> ProbeTiming:
    spec = spec or {}
    return ProbeTiming(
        initial_delay_seconds=spec.get("initialDelaySeconds", default[0]),
        period_seconds=spec.get("periodSeconds", default[1]),
        timeout_seconds=spec.get("timeoutSeconds", default[2]),
        failure_threshold=spec.get("failureThreshold", default[3]),
        success_threshold=spec.get("successThreshold", 1),
    )


def _build_component(comp: catalog.Component, spec: dict[str, Any],
                     enabled: bool) -> ComponentSizing:
    d = comp.defaults
    res = spec.get("resources", {})
    auto = spec.get("autoscaling")
    if auto:
        scaling = Scaling(True, auto["minReplicas"], auto["maxReplicas"],
                          auto.get("targetCPUUtilizationPercentage"),
                          auto.get("targetMemoryUtilizationPercentage"))
    else:
        n = spec.get("replicas", 1)
        scaling = Scaling(False, n, n)
    probes = spec.get("probes", {})
    startup = None
    if comp.startup is not None:
        startup = _timing(probes.get("startup"), d.startup or STARTUP_DEFAULT)
    pers = spec.get("persistence")
    persistence = None
    if comp.data_mount is not None and (comp.stateful or pers is not None or d.storage):
        pers = pers or {}
        persistence = Persistence(
            storage_class=pers.get("storageClass", "standard"),
            size=parse_quantity(pers.get("size", d.storage or "10Gi")),
            # api's volume is shared by api and worker pods that may land on different
            # nodes: only ReadWriteMany is safe without knowing the cluster.
            access_mode=pers.get("accessMode",
                                 "ReadWriteMany" if comp.name == "api" else "ReadWriteOnce"),
        )
    sched = spec.get("scheduling", {})
    return ComponentSizing(
        name=comp.name,
        enabled=enabled,
        scaling=scaling,
        resources=Resources(
            requests=CpuMemory(parse_quantity(res.get("requests", {}).get("cpu", d.requests[0])),
                               parse_quantity(res.get("requests", {}).get("memory",
                                                                          d.requests[1]))),
            limits=CpuMemory(parse_quantity(res.get("limits", {}).get("cpu", d.limits[0])),
                             parse_quantity(res.get("limits", {}).get("memory", d.limits[1]))),
        ),
        probes=Probes(
            liveness=_timing(probes.get("liveness"), d.liveness),
            readiness=_timing(probes.get("readiness"), d.readiness),
            startup=startup,
        ),
        scheduling=Scheduling(
            node_selector=tuple(sorted(sched.get("nodeSelector", {}).items())),
            tolerations=tuple(
                Toleration(t.get("key"), t.get("operator"), t.get("value"), t.get("effect"),
                           t.get("tolerationSeconds"))
                for t in sched.get("tolerations", [])),
            spread_across_nodes=sched.get("spreadAcrossNodes", "none"),
            spread_across_zones=sched.get("spreadAcrossZones", "none"),
            priority_class_name=sched.get("priorityClassName"),
            topology_spread_zones=sched.get("topologySpread", {}).get("zones", "none"),
            topology_spread_nodes=sched.get("topologySpread", {}).get("nodes", "none"),
        ),
        persistence=persistence,
        extra_env=_extra_env(spec),
        pod_metadata=_pod_metadata(spec),
    )
