"""Where Dify finds its backing services: Postgres, Redis, the vector store and file
storage, in the cluster or outside it. One place for the env names Dify 1.16.1 and
dify-plugin-daemon 0.6.3 read (sources cited in docs/components.md); credentials are never
here, only names of Secret keys.

`wiring(plan)` gives the ConfigMap data by the env names a program reads
(catalog.DIFY_ENV, catalog.PLUGIN_DAEMON_ENV); the catalog says which ConfigMap carries
which (Component.backends_env). `secret_env(plan, comp)` gives the Secret references a
component needs under its own names (the api family reads the whole Secret through
envFrom, so Dify's own names work there without a reference).
"""

from __future__ import annotations

from typing import Any

from generator.catalog import (
    DIFY_ENV,
    PLUGIN_DAEMON_ENV,
    Component,
    by_role,
    host_port,
    literal_env,
    vector_store,
)
from generator.plan import Plan

Obj = dict[str, Any]

DB_NAME = "dify"
PLUGIN_DB_NAME = "dify_plugin"


def _database(plan: Plan) -> tuple[dict[str, str], dict[str, str]]:
    ext = plan.profile.external_postgres
    if ext is None:
        db = by_role("database")
        host, port = host_port(db.name, db.ports[0].name)
        # the user the in-cluster Postgres creates
        common = {"DB_HOST": host, "DB_PORT": str(port),
                  "DB_USERNAME": literal_env(db, "POSTGRES_USER")}
        return ({**common, "DB_DATABASE": DB_NAME},
                {**common, "DB_DATABASE": PLUGIN_DB_NAME})
    common = {"DB_HOST": ext.host, "DB_PORT": str(ext.port), "DB_USERNAME": ext.username}
    api = {**common, "DB_DATABASE": ext.database}
    plugin = {**common, "DB_DATABASE": ext.plugin_database,
              # the daemon accepts only disable or require (it does not verify the CA)
              "DB_SSL_MODE": "disable" if ext.ssl_mode == "disable" else "require"}
    if ext.ssl_mode != "disable":
        # Dify appends DB_EXTRAS to its libpq URI as query parameters.
        api["DB_EXTRAS"] = f"sslmode={ext.ssl_mode}"
    return api, plugin


def _redis(plan: Plan) -> tuple[dict[str, str], dict[str, str]]:
    ext = plan.profile.external_redis
    if ext is None:
        broker = by_role("broker")
        host, port = host_port(broker.name, broker.ports[0].name)
        return ({"REDIS_HOST": host, "REDIS_PORT": str(port), "REDIS_DB": "0"},
                {"REDIS_HOST": host, "REDIS_PORT": str(port)})
    common = {"REDIS_PORT": str(ext.port), "REDIS_DB": str(ext.db),
              "REDIS_USE_SSL": "true" if ext.tls else "false"}
    if ext.host:
        common["REDIS_HOST"] = ext.host
    if ext.username:
        common["REDIS_USERNAME"] = ext.username
    if ext.sentinel_master:
        common.update({"REDIS_USE_SENTINEL": "true",
                       "REDIS_SENTINELS": ",".join(ext.sentinel_nodes),
                       "REDIS_SENTINEL_SERVICE_NAME": ext.sentinel_master})
    api = dict(common)
    if ext.sentinel_master:
        # Celery reaches the broker through the same Sentinels (CELERY_BROKER_URL in
        # the Secret then lists sentinel://... addresses).
        api.update({"CELERY_USE_SENTINEL": "true",
                    "CELERY_SENTINEL_MASTER_NAME": ext.sentinel_master})
    return api, common


def _vector_store(plan: Plan) -> dict[str, str]:
    kind = plan.profile.vector_database
    ext = plan.profile.external_vector_store
    out = {"VECTOR_STORE": kind}
    if ext is None:
        # In the cluster: the store's catalog env, endpoints built from its Service.
        for env in vector_store(kind).env:
            out[env.name] = env.endpoint.render() if env.endpoint is not None else (
                env.value or "")
    elif kind == "weaviate":
        out["WEAVIATE_ENDPOINT"] = ext.endpoint or ""
        if ext.grpc_endpoint:
            out["WEAVIATE_GRPC_ENDPOINT"] = ext.grpc_endpoint
    elif kind == "qdrant":
        out.update({"QDRANT_URL": ext.endpoint or "",
                    "QDRANT_GRPC_ENABLED": "true" if ext.grpc_port else "false"})
        if ext.grpc_port:
            out["QDRANT_GRPC_PORT"] = str(ext.grpc_port)
    elif kind == "pgvector":
        out.update({"PGVECTOR_HOST": ext.host or "", "PGVECTOR_PORT": str(ext.port or 5432),
                    "PGVECTOR_DATABASE": ext.database or ""})
        if ext.username:
            out["PGVECTOR_USER"] = ext.username
    return out


def _storage(plan: Plan) -> tuple[dict[str, str], dict[str, str]]:
    fs = plan.profile.file_storage
    if fs.s3 is not None:
        s3 = fs.s3
        return ({"STORAGE_TYPE": "s3", "S3_ENDPOINT": s3.endpoint,
                 "S3_BUCKET_NAME": s3.bucket, "S3_REGION": s3.region,
                 "S3_ADDRESS_STYLE": s3.addressing_style},
                {"PLUGIN_STORAGE_TYPE": "aws_s3", "PLUGIN_STORAGE_OSS_BUCKET": s3.bucket,
                 "S3_ENDPOINT": s3.endpoint,
                 "S3_USE_PATH_STYLE": "true" if s3.addressing_style == "path" else "false",
                 "AWS_REGION": s3.region})
    if fs.azure_blob is not None:
        az = fs.azure_blob
        return ({"STORAGE_TYPE": "azure-blob", "AZURE_BLOB_ACCOUNT_NAME": az.account_name,
                 "AZURE_BLOB_CONTAINER_NAME": az.container,
                 "AZURE_BLOB_ACCOUNT_URL": az.account_url},
                {"PLUGIN_STORAGE_TYPE": "azure_blob",
                 "AZURE_BLOB_STORAGE_CONTAINER_NAME": az.container,
                 "AZURE_BLOB_STORAGE_ACCOUNT_URL": az.account_url})
    if fs.gcs is not None:
        return ({"STORAGE_TYPE": "google-storage", "GOOGLE_STORAGE_BUCKET_NAME": fs.gcs.bucket},
                {"PLUGIN_STORAGE_TYPE": "gcs", "PLUGIN_STORAGE_OSS_BUCKET": fs.gcs.bucket})
    if fs.aliyun_oss is not None:
        oss = fs.aliyun_oss
        common = {"ALIYUN_OSS_ENDPOINT": oss.endpoint, "ALIYUN_OSS_REGION": oss.region,
                  "ALIYUN_OSS_AUTH_VERSION": oss.auth_version, "ALIYUN_OSS_PATH": oss.path}
        return ({"STORAGE_TYPE": "aliyun-oss", "ALIYUN_OSS_BUCKET_NAME": oss.bucket, **common},
                {"PLUGIN_STORAGE_TYPE": "aliyun_oss", "PLUGIN_STORAGE_OSS_BUCKET": oss.bucket,
                 **common})
    return ({"STORAGE_TYPE": "opendal", "OPENDAL_SCHEME": "fs", "OPENDAL_FS_ROOT": "storage"},
            {"PLUGIN_STORAGE_TYPE": "local"})


def wiring(plan: Plan) -> dict[str, dict[str, str]]:
    """ConfigMap data, by the env names it is written in (Component.backends_env)."""
    db_api, db_plugin = _database(plan)
    redis_api, redis_plugin = _redis(plan)
    storage_api, storage_plugin = _storage(plan)
    return {
        DIFY_ENV: {**db_api, **redis_api, **_vector_store(plan), **storage_api},
        PLUGIN_DAEMON_ENV: {**db_plugin, **redis_plugin, **storage_plugin},
    }


DATABASE_CONFIG = "difygen-database"


def database_config(plan: Plan, ns: str, labels: dict[str, str]) -> Obj | None:
    """The external database's declared connection limit, where `difygen validate` finds
    it (rule db-connection-budget): the server itself is not in the manifests."""
    ext = plan.profile.external_postgres
    if ext is None:
        return None
    data = {"host": ext.host, "port": str(ext.port),
            "maxConnections": str(ext.connection_limit),
            "limitSource": "max_connections" if ext.max_connections else "pgbouncer"}
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": DATABASE_CONFIG, "namespace": ns, "labels": labels},
            "data": data}


# Storage credentials a program reads under its own names, by backend:
# backends_env -> backend -> ((env name, Secret key), ...). Dify's needs none here: the
# api family reads the whole Secret through envFrom, so Dify's own names work as keys.
_STORAGE_SECRETS: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    PLUGIN_DAEMON_ENV: {
        "azure-blob": (("AZURE_BLOB_STORAGE_CONNECTION_STRING",
                        "AZURE_BLOB_STORAGE_CONNECTION_STRING"),),
        "gcs": (("GCS_CREDENTIALS", "GOOGLE_STORAGE_SERVICE_ACCOUNT_JSON_BASE64"),),
        "aliyun-oss": (("ALIYUN_OSS_ACCESS_KEY_ID", "ALIYUN_OSS_ACCESS_KEY"),
                       ("ALIYUN_OSS_ACCESS_KEY_SECRET", "ALIYUN_OSS_SECRET_KEY")),
    },
}


def secret_env(plan: Plan, comp: Component) -> list[Obj]:
    refs = _STORAGE_SECRETS.get(comp.reads_backends_as, {}).get(
        plan.profile.file_storage.backend, ())
    return [{"name": name, "valueFrom": {"secretKeyRef": {
                "name": plan.profile.secret_name, "key": key}}} for name, key in refs]
