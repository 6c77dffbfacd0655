"""Helm parity for the profile's topology settings and escape hatches.

Applied to the chart values `generator.targets.helm` builds, in the chart's own keys
(BorisPolonsky/dify-helm 0.38.0-rc2, read from its values.yaml and templates):

- `ingress.{enabled,className,annotations,hosts[].paths[],tls[]}`: the chart's Ingress
  routes every path to its `dify` Service on `service.port`, which is the nginx proxy;
- images: `image.<x>.pullSecrets` (names) per Dify image, `global.imagePullSecrets` and
  `global.imageRegistry` for the Bitnami subcharts (Helm hands `global` to every
  subchart), `weaviate.image.pullSecrets`;
- service accounts: `<component>.serviceAccount.{create: true,
  automountServiceAccountToken: false}`; by default the chart creates none, so its pods
  run as the namespace's `default` account, whose token Kubernetes mounts. The Bitnami
  subcharts take `serviceAccount.{create,automountServiceAccountToken}` too;
- extra env per component appended to `extraEnv`; profile-wide pod labels and
  annotations as the chart's top-level `labels` / `annotations`.

What the chart cannot carry becomes a gap, never a silent drop.
"""

from __future__ import annotations

from typing import Any

from generator.catalog import CATALOG, COMPONENTS, Endpoint, HelmSlot, vector_store
from generator.plan import Plan
from generator.sizing import ExternalVectorStore
from generator.targets import external, pod_extras
from generator.targets.ingress import ingress_annotations
from generator.targets.kube_objects import SINGLE_NODE_ANNOTATION

Obj = dict[str, Any]

_NO_TOKEN = {"create": True, "automountServiceAccountToken": False}
# subcharts whose image the chart's `helm test` Jobs (dify-test-*-connection) reuse
_TEST_HOOK_IMAGES = ("postgresql", "redis")


def _subcharts(values: Obj) -> list[tuple[str, HelmSlot, Obj]]:
    """(component, slot, values block) of every enabled subchart."""
    return [(c.name, c.helm, values[c.helm.key]) for c in CATALOG
            if c.helm is not None and c.helm.kind == "subchart"
            and values.get(c.helm.key, {}).get("enabled")]


def apply(plan: Plan, values: Obj, slots: dict[str, str], gaps: list[str]) -> None:
    """Add the profile's ingress, registry, pull Secrets, service accounts, extra env and
    pod metadata to `values`; `slots` maps component name -> values key."""
    _images(plan, values)
    _service_accounts(plan, values, slots, gaps)
    _external_services(plan, values, slots, gaps)
    _extra_env(plan, values, slots)
    _pod_metadata(plan, values, slots, gaps)
    _spread_gaps(plan, gaps)
    ingress = _ingress(plan)
    if ingress is not None:
        values["ingress"] = ingress


def _images(plan: Plan, values: Obj) -> None:
    images = plan.profile.images
    secrets = list(images.pull_secrets)
    if secrets:
        for entry in values["image"].values():
            entry["pullSecrets"] = list(secrets)
    glob: Obj = values.setdefault("global", {})  # merged: it also holds the public URLs
    if images.registry:
        glob["imageRegistry"] = images.registry
        # The chart's `helm test` Jobs build their image from these two keys, not from
        # global.imageRegistry; set even for a subchart that is off (external service),
        # where the connection test still runs the Bitnami client image.
        for key in _TEST_HOOK_IMAGES:
            values.setdefault(key, {"enabled": False})["image"] = {
                "registry": images.registry}
    if secrets:
        glob["imagePullSecrets"] = list(secrets)
    for _, slot, block in _subcharts(values):
        # Bitnami subcharts read global.imagePullSecrets; the others their own image block.
        if secrets and not slot.bitnami:
            block["image"]["pullSecrets"] = list(secrets)


def _service_accounts(plan: Plan, values: Obj, slots: dict[str, str],
                      gaps: list[str]) -> None:
    for key in slots.values():
        if values[key].get("enabled"):
            values[key]["serviceAccount"] = dict(_NO_TOKEN)
    subcharts = _subcharts(values)
    bitnami = [block for _, slot, block in subcharts if slot.bitnami]
    for block in bitnami:
        block["serviceAccount"] = dict(_NO_TOKEN)
    for name, slot, block in subcharts:
        if slot.bitnami:
            continue
        # This subchart creates no service account but takes the name of one; a Bitnami
        # subchart of the same release can create it through its extraDeploy.
        if bitnami:
            bitnami[0].setdefault("extraDeploy", []).append({
                "apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": slot.key},
                "automountServiceAccountToken": False})
            block["serviceAccountName"] = slot.key
        else:
            chart = slot.key.capitalize()
            gaps.append(f"{name}: the {chart} subchart creates no service account and no "
                        "Bitnami subchart runs to create one, so its pod runs as the "
                        "namespace's default account; create a ServiceAccount with "
                        f"automountServiceAccountToken: false and set {slot.key}."
                        "serviceAccountName")
    gaps.append("helm test: the chart's connection test Jobs (dify-test-postgres-connection, "
                "dify-test-redis-connection) run only on `helm test`, as the namespace's "
                "default account, with no security context and no imagePullSecrets; the "
                "chart has no keys for them")


def _append_env(values: Obj, key: str, env: dict[str, str]) -> None:
    block = values[key]
    if not block.get("enabled"):
        return
    current = {e["name"]: e for e in block.get("extraEnv", [])}
    current.update({k: {"name": k, "value": v} for k, v in env.items()})
    block["extraEnv"] = list(current.values())


def _carry_wiring(plan: Plan, values: Obj, names: tuple[str, ...]) -> None:
    """Wiring settings the chart has no key for, into the extraEnv of every component
    that reads the ConfigMap they belong to (the chart builds its own ConfigMaps)."""
    wiring = external.wiring(plan)
    for comp in CATALOG:
        if comp.helm is None or comp.helm.kind != "dify" or comp.env_from_config is None:
            continue
        data = wiring.get(comp.reads_backends_as, {})
        env = {k: data[k] for k in names if k in data}
        if env:
            _append_env(values, comp.helm.key, env)


def _vector_outside_chart(plan: Plan, gaps: list[str]) -> ExternalVectorStore | None:
    """An in-cluster vector store the chart cannot deploy (its component has no Helm
    slot): the chart's external block points Dify at the Service the overlay deploys."""
    store = vector_store(plan.profile.vector_database)
    if store.component is None or store.url is None:
        return None
    comp = COMPONENTS[store.component]
    if comp.helm is not None or not plan.profile.components[comp.name].enabled:
        return None
    url = store.url.render()
    gaps.append(f"{comp.name}: the chart points Dify at {url} as an external "
                f"{store.kind}; deploy that Service with the overlay's {comp.name} objects "
                "(StatefulSet, Service, ServiceAccount, NetworkPolicy) in the release "
                "namespace")
    if not store.as_external:
        return ExternalVectorStore(endpoint=url)
    fields = {k: v.render() if isinstance(v, Endpoint) else v for k, v in store.as_external}
    return ExternalVectorStore(host=fields.get("host"),
                               port=int(fields["port"]) if "port" in fields else None,
                               database=fields.get("database"),
                               username=fields.get("username"))


def _external_services(plan: Plan, values: Obj, slots: dict[str, str],
                       gaps: list[str]) -> None:
    """The chart's external* blocks (no passwords: those go in your secrets file)."""
    profile = plan.profile
    pg = profile.external_postgres
    if pg is not None:
        values["externalPostgres"] = {
            "enabled": True, "username": pg.username, "address": pg.host, "port": pg.port,
            "database": {"api": pg.database, "pluginDaemon": pg.plugin_database}}
        if pg.ssl_mode != "disable":
            # The chart has no sslmode setting; Dify and the daemon read these.
            _carry_wiring(plan, values, ("DB_EXTRAS", "DB_SSL_MODE"))
    redis = profile.external_redis
    if redis is not None:
        block: Obj = {"enabled": True, "host": redis.host, "port": redis.port,
                      "username": redis.username,
                      # the chart builds CELERY_BROKER_URL with db.celery
                      "db": {"app": redis.db, "celery": redis.broker_db},
                      "useSSL": redis.tls}
        if redis.sentinel_master:
            block["sentinel"] = {"enabled": True, "masterSet": redis.sentinel_master,
                                 "sentinels": list(redis.sentinel_nodes)}
        values["externalRedis"] = block
    vector = profile.external_vector_store or _vector_outside_chart(plan, gaps)
    if vector is not None:
        kind = profile.vector_database
        if kind == "weaviate":
            endpoint: Obj = {"http": vector.endpoint}
            if vector.grpc_endpoint:
                endpoint["grpc"] = vector.grpc_endpoint
            values["externalWeaviate"] = {"enabled": True, "endpoint": endpoint}
        elif kind == "qdrant":
            values["externalQdrant"] = {
                "enabled": True, "endpoint": vector.endpoint,
                "grpc": {"enabled": vector.grpc_port is not None,
                         "port": vector.grpc_port or 6334}}
        else:
            block = {"enabled": True, "address": vector.host, "port": vector.port or 5432,
                     "dbName": vector.database}
            if vector.username:
                block["username"] = vector.username
            values["externalPgvector"] = block
    fs = profile.file_storage
    if fs.s3 is not None and fs.s3.addressing_style != "path":
        # The chart writes S3_ADDRESS_STYLE "auto" unless pathStyle; extraEnv wins over
        # its ConfigMap, so Dify gets the profile's style (the overlay's value).
        _carry_wiring(plan, values, ("S3_ADDRESS_STYLE",))
    if fs.azure_blob is not None:
        values["externalAzureBlobStorage"] = {
            "enabled": True, "url": fs.azure_blob.account_url,
            "account": fs.azure_blob.account_name, "container": fs.azure_blob.container}
        # The chart gives the plugin daemon only the container name; the account URL is
        # one of the daemon's Azure settings the overlay sets too.
        _carry_wiring(plan, values, ("AZURE_BLOB_STORAGE_ACCOUNT_URL",))
    elif fs.gcs is not None:
        values["externalGCS"] = {"enabled": True, "bucketName": {
            "api": fs.gcs.bucket, "pluginDaemon": fs.gcs.bucket}}
        # The chart says "google-storage"; dify-plugin-daemon 0.6.3 (dify-cloud-kit)
        # knows GCS as "gcs" and would refuse to start. extraEnv wins over the ConfigMap.
        _carry_wiring(plan, values, ("PLUGIN_STORAGE_TYPE",))
        gaps.append("plugin-daemon: the chart sets PLUGIN_STORAGE_TYPE=google-storage, "
                    "which dify-plugin-daemon 0.6.3 does not know; the values override it "
                    "with gcs in pluginDaemon.extraEnv")
    elif fs.aliyun_oss is not None:
        oss = fs.aliyun_oss
        values["externalOSS"] = {
            "enabled": True, "endpoint": oss.endpoint, "region": oss.region,
            "bucketName": {"api": oss.bucket, "pluginDaemon": oss.bucket},
            "authVersion": oss.auth_version, "path": oss.path}


def _extra_env(plan: Plan, values: Obj, slots: dict[str, str]) -> None:
    for name, key in slots.items():
        sizing = plan.profile.components[name]
        if not sizing.enabled or not sizing.extra_env:
            continue
        env = {e["name"]: e for e in values[key].get("extraEnv", [])}
        env.update({e["name"]: e for e in pod_extras.extra_env(plan, sizing)})
        values[key]["extraEnv"] = list(env.values())


def _pod_metadata(plan: Plan, values: Obj, slots: dict[str, str], gaps: list[str]) -> None:
    glob = plan.profile.pod_metadata
    if glob.labels:
        values["labels"] = dict(glob.labels)
    if glob.annotations:
        values["annotations"] = dict(glob.annotations)
        for _, slot, block in _subcharts(values):
            if not slot.bitnami:
                block["annotations"] = dict(glob.annotations)
    if plan.profile.node is not None:
        # A single-node profile shares ReadWriteOnce volumes between pods; the marker the
        # overlay's pods carry (difygen validate's rwo-shared rule reads it).
        values.setdefault("annotations", {})[SINGLE_NODE_ANNOTATION] = "true"
    if glob.labels or glob.annotations:
        gaps.append("podLabels/podAnnotations: the chart puts its top-level labels and "
                    "annotations on every object it renders (Deployments, Services, "
                    "ConfigMaps), not only on pods")
    for name, sizing in plan.profile.components.items():
        md = sizing.pod_metadata
        if sizing.enabled and (md.labels or md.annotations):
            where = slots.get(name, name)
            gaps.append(f"{name}: the chart has no pod labels or annotations for {where}; "
                        f"components.{name}.podLabels/podAnnotations are not carried")


def _spread_gaps(plan: Plan, gaps: list[str]) -> None:
    for name, sizing in plan.profile.components.items():
        sched = sizing.scheduling
        spread = (sched.topology_spread_zones, sched.topology_spread_nodes)
        if sizing.enabled and spread != ("none", "none"):
            gaps.append(f"{name}: the chart has no topologySpreadConstraints; "
                        "scheduling.topologySpread is not carried (spreadAcrossZones / "
                        "spreadAcrossNodes, rendered as pod anti-affinity, are)")


def _ingress(plan: Plan) -> Obj | None:
    spec = plan.profile.ingress
    if not spec.enabled or not spec.hosts:
        return None
    out: Obj = {"enabled": True}
    if spec.class_name:
        out["className"] = spec.class_name
    out.update({"annotations": ingress_annotations(plan),
                "hosts": [{"host": h, "paths": [{"path": "/", "pathType": "Prefix"}]}
                          for h in spec.hosts]})
    out["tls"] = ([{"secretName": spec.tls_secret, "hosts": list(spec.hosts)}]
                  if spec.tls_secret else [])
    return out
