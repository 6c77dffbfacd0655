"""Each external service and storage kind, wired with the env names Dify and the plugin
daemon read, asserted on the rendered (and validated) objects and Helm values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.profile_load import find
from generator.render import RenderedProfile, render

Obj = dict[str, Any]


def _render(tmp_path: Path, text: str) -> tuple[RenderedProfile, Obj]:
    (tmp_path / "p.yaml").write_text(text)
    result = render([find("p", tmp_path)])
    helm = yaml.safe_load(result.files["helm/p/values.yaml"].partition("\n")[2])
    return result.profiles[0], helm


def _config(rendered: RenderedProfile, name: str) -> dict[str, str]:
    cm = next(o for o in rendered.overlay.objects
              if o["kind"] == "ConfigMap" and o["metadata"]["name"] == name)
    data: dict[str, str] = cm["data"]
    return data


def _daemon_env(rendered: RenderedProfile) -> dict[str, Obj]:
    daemon = next(o for o in rendered.overlay.objects
                  if o["kind"] == "Deployment" and o["metadata"]["name"] == "dify-plugin-daemon")
    return {e["name"]: e for e in daemon["spec"]["template"]["spec"]["containers"][0]["env"]}


def _components(rendered: RenderedProfile) -> set[str]:
    return {o["metadata"]["labels"]["app.kubernetes.io/component"]
            for o in rendered.overlay.objects if o["kind"] in ("Deployment", "StatefulSet")}


def test_azure_blob_for_dify_and_the_plugin_daemon(tmp_path: Path) -> None:
    rendered, helm = _render(tmp_path, """\
fileStorage:
  backend: azure-blob
  azureBlob: {accountName: difyfiles, container: dify}
""")
    api = _config(rendered, "dify-config")
    assert (api["STORAGE_TYPE"], api["AZURE_BLOB_ACCOUNT_NAME"], api["AZURE_BLOB_CONTAINER_NAME"],
            api["AZURE_BLOB_ACCOUNT_URL"]) == (
        "azure-blob", "difyfiles", "dify", "https://difyfiles.blob.core.windows.net")
    assert "OPENDAL_SCHEME" not in api
    plugin = _config(rendered, "dify-plugin-daemon-config")
    assert (plugin["PLUGIN_STORAGE_TYPE"], plugin["AZURE_BLOB_STORAGE_CONTAINER_NAME"]) == (
        "azure_blob", "dify")
    ref = _daemon_env(rendered)["AZURE_BLOB_STORAGE_CONNECTION_STRING"]["valueFrom"]
    assert ref == {"secretKeyRef": {"name": "dify-secrets",
                                    "key": "AZURE_BLOB_STORAGE_CONNECTION_STRING"}}
    # no shared file volume: files are in the bucket
    assert not [o for o in rendered.overlay.objects if o["kind"] == "PersistentVolumeClaim"
                and o["metadata"]["name"] in ("dify-storage", "dify-plugin-storage")]
    assert helm["externalAzureBlobStorage"] == {
        "enabled": True, "url": "https://difyfiles.blob.core.windows.net",
        "account": "difyfiles", "container": "dify"}


def test_aliyun_oss_for_dify_and_the_plugin_daemon(tmp_path: Path) -> None:
    rendered, helm = _render(tmp_path, """\
fileStorage:
  backend: aliyun-oss
  aliyunOss: {endpoint: https://oss-cn-hangzhou.aliyuncs.com, bucket: dify-files,
              region: cn-hangzhou, path: dify/}
""")
    api = _config(rendered, "dify-config")
    assert (api["STORAGE_TYPE"], api["ALIYUN_OSS_BUCKET_NAME"], api["ALIYUN_OSS_REGION"],
            api["ALIYUN_OSS_AUTH_VERSION"], api["ALIYUN_OSS_PATH"]) == (
        "aliyun-oss", "dify-files", "cn-hangzhou", "v4", "dify/")
    plugin = _config(rendered, "dify-plugin-daemon-config")
    assert (plugin["PLUGIN_STORAGE_TYPE"], plugin["PLUGIN_STORAGE_OSS_BUCKET"],
            plugin["ALIYUN_OSS_ENDPOINT"]) == (
        "aliyun_oss", "dify-files", "https://oss-cn-hangzhou.aliyuncs.com")
    env = _daemon_env(rendered)
    assert env["ALIYUN_OSS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["key"] == (
        "ALIYUN_OSS_ACCESS_KEY")
    assert env["ALIYUN_OSS_ACCESS_KEY_SECRET"]["valueFrom"]["secretKeyRef"]["key"] == (
        "ALIYUN_OSS_SECRET_KEY")
    assert helm["externalOSS"]["bucketName"] == {"api": "dify-files",
                                                 "pluginDaemon": "dify-files"}


def test_external_weaviate_and_redis_sentinel(tmp_path: Path) -> None:
    rendered, helm = _render(tmp_path, """\
vectorDatabase:
  external: {endpoint: https://weaviate.example.com, grpcEndpoint: grpcs://weaviate.example.com:443}
redis:
  external:
    sentinel: {masterName: dify, nodes: ["s1.example.com:26379", "s2.example.com:26379"]}
    db: 3
""")
    assert not {"weaviate", "redis"} & _components(rendered)
    assert "postgres" in _components(rendered)
    api = _config(rendered, "dify-config")
    assert (api["VECTOR_STORE"], api["WEAVIATE_ENDPOINT"], api["WEAVIATE_GRPC_ENDPOINT"]) == (
        "weaviate", "https://weaviate.example.com", "grpcs://weaviate.example.com:443")
    assert (api["REDIS_USE_SENTINEL"], api["REDIS_SENTINELS"],
            api["REDIS_SENTINEL_SERVICE_NAME"], api["REDIS_DB"]) == (
        "true", "s1.example.com:26379,s2.example.com:26379", "dify", "3")
    assert (api["CELERY_USE_SENTINEL"], api["CELERY_SENTINEL_MASTER_NAME"]) == ("true", "dify")
    assert "REDIS_HOST" not in api
    plugin = _config(rendered, "dify-plugin-daemon-config")
    assert plugin["REDIS_USE_SENTINEL"] == "true" and "CELERY_USE_SENTINEL" not in plugin
    assert helm["weaviate"] == {"enabled": False} and helm["redis"] == {"enabled": False}
    assert helm["externalRedis"]["sentinel"] == {
        "enabled": True, "masterSet": "dify",
        "sentinels": ["s1.example.com:26379", "s2.example.com:26379"]}
    assert helm["externalWeaviate"]["endpoint"]["grpc"] == "grpcs://weaviate.example.com:443"


def test_pgvector_and_a_pgbouncer_pool(tmp_path: Path) -> None:
    rendered, helm = _render(tmp_path, """\
database:
  external: {host: pgbouncer.db.svc, port: 6432, sslMode: disable, pgbouncerPoolSize: 150}
vectorDatabase:
  type: pgvector
  external: {host: vectors.example.com, database: dify_vectors, username: vec}
""")
    assert rendered.plan.budget.max_connections == 150
    api = _config(rendered, "dify-config")
    assert (api["DB_HOST"], api["DB_PORT"]) == ("pgbouncer.db.svc", "6432")
    assert "DB_EXTRAS" not in api  # sslMode disable adds nothing
    assert (api["VECTOR_STORE"], api["PGVECTOR_HOST"], api["PGVECTOR_PORT"],
            api["PGVECTOR_DATABASE"], api["PGVECTOR_USER"]) == (
        "pgvector", "vectors.example.com", "5432", "dify_vectors", "vec")
    assert _config(rendered, "dify-plugin-daemon-config")["DB_SSL_MODE"] == "disable"
    assert helm["externalPgvector"] == {"enabled": True, "address": "vectors.example.com",
                                        "port": 5432, "dbName": "dify_vectors",
                                        "username": "vec"}
    assert not any(e["name"] == "DB_EXTRAS" for e in helm["api"]["extraEnv"])


@pytest.mark.parametrize("limit", ["maxConnections", "pgbouncerPoolSize"])
def test_budget_names_the_declared_limit_when_it_is_too_small(tmp_path: Path,
                                                              limit: str) -> None:
    from generator.errors import SizingError

    (tmp_path / "p.yaml").write_text(
        f"extends: production\ndatabase:\n  external:\n    host: db\n    {limit}: 40\n")
    with pytest.raises(SizingError) as err:
        render([find("p", tmp_path)])
    [problem] = err.value.problems
    assert problem.location.key_path == f"database.external.{limit}"
    assert (problem.location.line, problem.location.column) == (5, len(limit) + 7)
