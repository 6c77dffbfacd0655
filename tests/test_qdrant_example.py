"""docs/examples/profiles/qdrant.yaml: an in-cluster Qdrant instead of Weaviate, rendered,
built with the real kustomize, validated against the strict schemas and by kubeconform,
and asserted on: the store is sized, probed, persisted, hardened and reachable only by its
clients, and Dify is wired to its Service."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.catalog import COMPONENTS
from generator.helm_schema import validate_values
from generator.k8s_schemas import schema_set
from generator.profile_load import find
from generator.render import RenderResult, render
from generator.writer import write_tree
from tests.conftest import REPO
from tests.k8s import containers, ingress_peers, key

Obj = dict[str, Any]
EXAMPLES = REPO / "docs" / "examples" / "profiles"
OVERLAY = "kustomize/overlays/qdrant"
# The dify-api image reads VECTOR_STORE/QDRANT_* from the shared ConfigMap; the migration
# Job runs it with the api's configuration.
CLIENTS = {"api", "worker", "worker-beat", "migration"}


@pytest.fixture(scope="module")
def result() -> RenderResult:
    return render([find("qdrant", EXAMPLES)])


@pytest.fixture(scope="module")
def output(result: RenderResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("render") / "output"
    write_tree(out, result.files, result.managed)
    return out


@pytest.fixture(scope="module")
def built_text(output: Path, kubectl: str) -> str:
    proc = subprocess.run([kubectl, "kustomize", str(output / OVERLAY)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def built(built_text: str, result: RenderResult) -> list[Obj]:
    objs = [d for d in yaml.safe_load_all(built_text) if d]
    # what kustomize builds is exactly what difygen validated in memory
    assert sorted(objs, key=key) == sorted(result.profiles[0].overlay.objects, key=key)
    return objs


def _one(built: list[Obj], kind: str, name: str) -> Obj:
    [obj] = [o for o in built if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


def _config(built: list[Obj], name: str) -> dict[str, str]:
    data: dict[str, str] = _one(built, "ConfigMap", name)["data"]
    return data


@pytest.mark.kustomize
def test_built_objects_pass_strict_schemas(built: list[Obj]) -> None:
    schemas = schema_set("1.35")
    for obj in built:
        assert schemas.knows(obj["apiVersion"], obj["kind"]), key(obj)
        assert schemas.validate(obj) == [], key(obj)


@pytest.mark.kustomize
def test_kubeconform_accepts_the_overlay(built_text: str, kubeconform: Path,
                                         tmp_path: Path) -> None:
    from generator.schemas_export import export_schemas

    export_schemas("1.35", tmp_path / "schemas")
    location = str(tmp_path / "schemas") + "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    proc = subprocess.run([str(kubeconform), "-strict", "-summary", "-schema-location",
                           location], input=built_text, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Invalid: 0, Errors: 0, Skipped: 0" in proc.stdout, proc.stdout


@pytest.mark.kustomize
def test_no_weaviate_object_remains(built: list[Obj], built_text: str) -> None:
    for obj in built:
        assert obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") \
            != "weaviate", key(obj)
        assert "weaviate" not in obj["metadata"]["name"], key(obj)
    assert "weaviate" not in built_text.lower()


@pytest.mark.kustomize
def test_qdrant_runs_as_a_persisted_probed_hardened_statefulset(built: list[Obj]) -> None:
    sts = _one(built, "StatefulSet", "dify-qdrant")
    pod = sts["spec"]["template"]["spec"]
    [c] = containers(sts)
    assert c["image"] == "langgenius/qdrant:v1.8.3"
    # persisted: a claim of the profile's size and storage class, mounted at the data path
    [claim] = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert claim["spec"]["storageClassName"] == "standard"
    assert {"name": claim["metadata"]["name"], "mountPath": "/qdrant/storage"} \
        in c["volumeMounts"]
    # probed on Qdrant's own endpoints, on the named HTTP port
    assert c["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert c["startupProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 6333, "grpc": 6334}
    # hardened: non-root, read-only root, nothing added; what it writes is a volume
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["fsGroup"] == pod["securityContext"]["runAsGroup"]
    assert pod["automountServiceAccountToken"] is False
    sec = c["securityContext"]
    assert sec["runAsNonRoot"] is True and sec["readOnlyRootFilesystem"] is True
    assert sec["allowPrivilegeEscalation"] is False and sec["capabilities"] == {"drop": ["ALL"]}
    env = {e["name"]: e for e in c["env"]}
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert env["QDRANT__STORAGE__SNAPSHOTS_PATH"]["value"] in mounts
    init_dir = env["QDRANT_INIT_FILE_PATH"]["value"].rsplit("/", 1)[0]
    assert init_dir in mounts
    # the API key by reference, never a value
    assert env["QDRANT__SERVICE__API_KEY"]["valueFrom"] == {
        "secretKeyRef": {"name": "dify-secrets", "key": "QDRANT_API_KEY"}}
    # Guaranteed QoS like every datastore
    assert c["resources"]["requests"] == c["resources"]["limits"]


@pytest.mark.kustomize
def test_dify_is_wired_to_the_qdrant_service(built: list[Obj]) -> None:
    svc = _one(built, "Service", "dify-qdrant")
    port = next(p["port"] for p in svc["spec"]["ports"] if p["name"] == "http")
    grpc = next(p["port"] for p in svc["spec"]["ports"] if p["name"] == "grpc")
    data = _config(built, "dify-config")
    assert data["VECTOR_STORE"] == "qdrant"
    assert data["QDRANT_URL"] == f"http://{svc['metadata']['name']}:{port}"
    assert data["QDRANT_GRPC_PORT"] == str(grpc)
    assert not [k for k in data if k.startswith("WEAVIATE")]
    # api and worker read that ConfigMap (and the Secret, for QDRANT_API_KEY)
    for name in ("dify-api", "dify-worker"):
        [c] = containers(_one(built, "Deployment", name))
        refs = c["envFrom"]
        assert {"configMapRef": {"name": "dify-config"}} in refs
        assert {"secretRef": {"name": "dify-secrets"}} in refs


@pytest.mark.kustomize
def test_only_its_clients_reach_qdrant(built: list[Obj]) -> None:
    policy = _one(built, "NetworkPolicy", "dify-qdrant")
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] \
        == "qdrant"
    allowed = ingress_peers(policy)
    assert allowed[6333] == CLIENTS
    assert policy["spec"].get("egress", []) == []  # it calls nothing
    # and the api may call it (egress of the api's own policy)
    api = _one(built, "NetworkPolicy", "dify-api")
    to_qdrant = [r for r in api["spec"]["egress"]
                 if any(p.get("podSelector", {}).get("matchLabels", {})
                        .get("app.kubernetes.io/component") == "qdrant"
                        for p in r.get("to", []))]
    assert [p["port"] for r in to_qdrant for p in r["ports"]] == [6333, 6334]


@pytest.mark.kustomize
def test_quota_counts_the_qdrant_volume(built: list[Obj], result: RenderResult) -> None:
    plan = result.profiles[0].plan
    quota = _one(built, "ResourceQuota", "dify-quota")["spec"]["hard"]
    volumes = [o for o in built if o["kind"] == "StatefulSet"]
    claims = sum(len(o["spec"].get("volumeClaimTemplates", [])) for o in volumes)
    claims += len([o for o in built if o["kind"] == "PersistentVolumeClaim"])
    assert plan.volume_claims == claims
    assert int(quota["persistentvolumeclaims"]) >= claims


def test_helm_values_point_the_chart_at_the_in_cluster_qdrant(result: RenderResult) -> None:
    path = "helm/qdrant/values.yaml"
    values = yaml.safe_load(result.files[path].partition("\n")[2])
    assert validate_values(values, path) == []
    assert values["weaviate"] == {"enabled": False}
    assert values["externalQdrant"] == {"enabled": True, "endpoint": "http://dify-qdrant:6333",
                                        "grpc": {"enabled": False, "port": 6334}}
    gaps = result.profiles[0].helm_gaps
    assert any(g.startswith("qdrant: the chart cannot deploy Qdrant") for g in gaps)


def test_qdrant_is_catalog_data_only() -> None:
    """Adding the store was a catalog entry: the targets know no name 'qdrant'."""
    comp = COMPONENTS["qdrant"]
    assert comp.stateful and comp.data_mount is not None
    targets = REPO / "generator" / "targets"
    for module in sorted(targets.glob("*.py")):
        text = module.read_text()
        assert '"qdrant"' not in text.replace('kind == "qdrant"', ""), module.name


@pytest.mark.kustomize
def test_every_variable_set_is_documented(built: list[Obj]) -> None:
    """docs/components.md lists Qdrant's env and the api family's QDRANT_* settings."""
    from tests.test_components_doc import undocumented

    missing, checked = undocumented(built)
    assert not missing
    assert checked > 50


def test_the_real_chart_lints_and_wires_dify_to_qdrant(result: RenderResult,
                                                       tmp_path: Path) -> None:
    """helm lint --strict and helm template of the community chart with these values
    (local only, like tests/test_helm_chart.py: DIFYGEN_HELM_CHART names an unpacked chart
    with its subcharts; helm on PATH or DIFYGEN_HELM)."""
    import os
    import shutil

    chart = os.environ.get("DIFYGEN_HELM_CHART")
    helm = os.environ.get("DIFYGEN_HELM") or shutil.which("helm")
    if not chart or not (Path(chart) / "Chart.yaml").is_file() or not helm:
        pytest.skip("set DIFYGEN_HELM_CHART (and put helm on PATH) to run the real chart")
    values = tmp_path / "values.yaml"
    values.write_text(result.files["helm/qdrant/values.yaml"], encoding="utf-8")
    env = {**os.environ, **{f"HELM_{d}_HOME": str(tmp_path / d.lower())
                            for d in ("CACHE", "CONFIG", "DATA")}}
    lint = subprocess.run([helm, "lint", "--strict", chart, "-f", str(values)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    out = subprocess.run([helm, "template", "dify", chart, "--namespace", "dify",
                          "-f", str(values)],
                         capture_output=True, text=True, env=env, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    objs = [d for d in yaml.safe_load_all(out.stdout) if d]
    configs = [o["data"] for o in objs if o["kind"] == "ConfigMap"
               and o.get("data", {}).get("VECTOR_STORE")]
    assert configs and all(c["VECTOR_STORE"] == "qdrant" for c in configs)
    assert all(c["QDRANT_URL"] == "http://dify-qdrant:6333" for c in configs)
    assert not [o for o in objs if "weaviate" in o["metadata"]["name"]]
