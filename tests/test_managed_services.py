"""docs/examples/profiles/managed-services.yaml: rendered, built with the real kustomize,
validated against the strict schemas, and wired to the external services only."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.helm_schema import validate_values
from generator.k8s_schemas import schema_set
from generator.plan import plan_for
from generator.profile_load import find
from generator.render import RenderResult, render
from generator.writer import write_tree
from tests.conftest import REPO
from tests.k8s import containers, key, workloads

Obj = dict[str, Any]
EXAMPLES = REPO / "docs" / "examples" / "profiles"
IN_CLUSTER = ("postgres", "redis", "weaviate")


@pytest.fixture(scope="module")
def result() -> RenderResult:
    return render([find("managed-services", EXAMPLES)])


@pytest.fixture(scope="module")
def built(result: RenderResult, kubectl: str,
          tmp_path_factory: pytest.TempPathFactory) -> list[Obj]:
    out = tmp_path_factory.mktemp("render") / "output"
    write_tree(out, result.files, result.managed)
    proc = subprocess.run(
        [kubectl, "kustomize", str(out / "kustomize/overlays/managed-services")],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    objs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    assert sorted(objs, key=key) == sorted(result.profiles[0].overlay.objects, key=key)
    return objs


def _config(built: list[Obj], name: str) -> dict[str, str]:
    cm = next(o for o in built if o["kind"] == "ConfigMap" and o["metadata"]["name"] == name)
    data: dict[str, str] = cm["data"]
    return data


@pytest.mark.kustomize
def test_built_objects_pass_strict_schemas(built: list[Obj]) -> None:
    schemas = schema_set("1.35")
    for obj in built:
        assert schemas.knows(obj["apiVersion"], obj["kind"]), key(obj)
        assert schemas.validate(obj) == [], key(obj)


@pytest.mark.kustomize
def test_no_in_cluster_postgres_redis_or_weaviate_remains(built: list[Obj]) -> None:
    for obj in built:
        labels = obj["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/component") not in IN_CLUSTER, key(obj)
        assert not any(n in obj["metadata"]["name"] for n in IN_CLUSTER), key(obj)
    assert not [o for o in built if o["kind"] in ("StatefulSet", "PersistentVolumeClaim")]
    for w in workloads(built):
        for c in containers(w):
            image = c["image"].rsplit("/", 1)[-1]
            assert not image.startswith(("postgres", "redis", "weaviate")), c["image"]
    # the text of every object: no address of an in-cluster service is left anywhere
    text = yaml.safe_dump_all(built)
    for name in IN_CLUSTER:
        assert f"dify-{name}" not in text


@pytest.mark.kustomize
def test_dify_and_the_plugin_daemon_are_wired_to_the_external_services(
        built: list[Obj]) -> None:
    api = _config(built, "dify-config")
    assert (api["DB_HOST"], api["DB_PORT"], api["DB_USERNAME"], api["DB_DATABASE"]) == (
        "10.20.0.3", "5432", "dify", "dify")
    assert api["DB_EXTRAS"] == "sslmode=require"
    assert (api["REDIS_HOST"], api["REDIS_PORT"], api["REDIS_USE_SSL"]) == (
        "10.20.0.4", "6378", "true")
    assert api["VECTOR_STORE"] == "qdrant"
    assert api["QDRANT_URL"] == "https://dify.eu-west-1-0.aws.cloud.qdrant.io:6333"
    assert not [k for k in api if k.startswith("WEAVIATE_")]
    assert (api["STORAGE_TYPE"], api["GOOGLE_STORAGE_BUCKET_NAME"]) == (
        "google-storage", "example-dify-files")
    plugin = _config(built, "dify-plugin-daemon-config")
    assert (plugin["DB_HOST"], plugin["DB_DATABASE"], plugin["DB_SSL_MODE"]) == (
        "10.20.0.3", "dify_plugin", "require")
    assert (plugin["REDIS_HOST"], plugin["REDIS_PORT"], plugin["REDIS_USE_SSL"]) == (
        "10.20.0.4", "6378", "true")
    assert (plugin["PLUGIN_STORAGE_TYPE"], plugin["PLUGIN_STORAGE_OSS_BUCKET"]) == (
        "gcs", "example-dify-files")
    daemon = next(w for w in workloads(built) if w["metadata"]["name"] == "dify-plugin-daemon")
    [c] = containers(daemon)
    env = {e["name"]: e for e in c["env"]}
    assert env["GCS_CREDENTIALS"]["valueFrom"]["secretKeyRef"]["key"] == (
        "GOOGLE_STORAGE_SERVICE_ACCOUNT_JSON_BASE64")
    # the container sets no address of its own that would beat the ConfigMap
    assert not {"DB_HOST", "REDIS_HOST", "DB_DATABASE"} & set(env)


@pytest.mark.kustomize
def test_an_ingress_with_tls_reaches_the_entry_point(built: list[Obj]) -> None:
    [ing] = [o for o in built if o["kind"] == "Ingress"]
    assert ing["spec"]["tls"] == [{"hosts": ["dify.example.com"], "secretName": "dify-tls"}]
    assert ing["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    [rule] = ing["spec"]["rules"]
    assert rule["http"]["paths"][0]["backend"]["service"]["name"] == "dify-nginx"


def test_budget_is_checked_against_the_declared_max_connections() -> None:
    plan = plan_for(find("managed-services", EXAMPLES))
    assert plan.budget.max_connections == 400
    assert 0 < plan.budget.used <= plan.budget.allowed == 320
    assert plan.profile.public_origin == "https://dify.example.com"


@pytest.mark.kustomize
def test_quota_has_no_share_for_the_external_services(built: list[Obj],
                                                     result: RenderResult) -> None:
    quota = next(o for o in built if o["kind"] == "ResourceQuota")
    assert quota["spec"]["hard"]["persistentvolumeclaims"] == "0"
    production = plan_for(find("production"))
    plan = result.profiles[0].plan
    assert plan.at_max.pods < production.at_max.pods
    assert plan.at_max.requests.memory < production.at_max.requests.memory


def test_helm_values_use_the_charts_external_blocks(result: RenderResult) -> None:
    path = "helm/managed-services/values.yaml"
    values = yaml.safe_load(result.files[path].partition("\n")[2])
    assert validate_values(values, path) == []
    for sub in ("postgresql", "redis", "weaviate"):
        assert values[sub] == {"enabled": False}
    assert values["externalPostgres"] == {
        "enabled": True, "username": "dify", "address": "10.20.0.3", "port": 5432,
        "database": {"api": "dify", "pluginDaemon": "dify_plugin"}}
    assert values["externalRedis"]["useSSL"] is True
    assert values["externalRedis"]["port"] == 6378
    assert values["externalQdrant"]["endpoint"].startswith("https://")
    assert values["externalGCS"]["bucketName"] == {"api": "example-dify-files",
                                                   "pluginDaemon": "example-dify-files"}
    assert values["ingress"]["tls"] == [{"secretName": "dify-tls",
                                         "hosts": ["dify.example.com"]}]
    api_env = {e["name"]: e.get("value") for e in values["api"]["extraEnv"]}
    assert api_env["DB_EXTRAS"] == "sslmode=require"
    daemon_env = {e["name"]: e.get("value") for e in values["pluginDaemon"]["extraEnv"]}
    assert daemon_env["PLUGIN_STORAGE_TYPE"] == "gcs"
    assert "password" not in yaml.safe_dump(values).lower()


def test_example_is_a_file_users_can_copy(tmp_path: Path) -> None:
    """The example renders from a copy in any directory (no path tied to the repo)."""
    (tmp_path / "managed-services.yaml").write_text(
        (EXAMPLES / "managed-services.yaml").read_text())
    copy = render([find("managed-services", tmp_path)])
    assert copy.files.keys() == render([find("managed-services", EXAMPLES)]).files.keys()


@pytest.mark.kustomize
def test_manifest_validation_checks_the_budget_against_the_declared_database(
        built: list[Obj]) -> None:
    """`kubectl kustomize ... | difygen validate --manifests -` has no postgres container
    to read max_connections from: the difygen-database ConfigMap declares it."""
    import copy

    from generator.manifest_loader import load_text
    from generator.validate import select_rules, validate_objects

    [cm] = [o for o in built if o["kind"] == "ConfigMap"
            and o["metadata"]["name"] == "difygen-database"]
    assert cm["data"] == {"host": "10.20.0.3", "port": "5432", "maxConnections": "400",
                          "limitSource": "max_connections"}
    rules = select_rules(only=["db-connection-budget"])
    ok = validate_objects(load_text(yaml.safe_dump_all(built)), rules=rules)
    assert ok.findings == ()
    shrunk = copy.deepcopy(built)
    for obj in shrunk:
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == "difygen-database":
            obj["data"]["maxConnections"] = "100"
    bad = validate_objects(load_text(yaml.safe_dump_all(shrunk)), rules=rules)
    [finding] = bad.findings
    assert finding.severity == "error" and finding.name == "difygen-database"
    assert "80% of max_connections declared for the external database 100" in finding.message
