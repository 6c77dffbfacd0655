"""docs/examples/profiles/pgvector.yaml: an in-cluster pgvector instead of Weaviate,
rendered, built with the real kustomize, validated against the strict schemas, and
asserted on: the store is sized, probed, persisted, hardened and reachable only by its
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
from tests.test_qdrant_example import CLIENTS, EXAMPLES, _config, _one

Obj = dict[str, Any]
OVERLAY = "kustomize/overlays/pgvector"


@pytest.fixture(scope="module")
def result() -> RenderResult:
    return render([find("pgvector", EXAMPLES)])


@pytest.fixture(scope="module")
def built(result: RenderResult, tmp_path_factory: pytest.TempPathFactory,
          kubectl: str) -> list[Obj]:
    out = tmp_path_factory.mktemp("render") / "output"
    write_tree(out, result.files, result.managed)
    proc = subprocess.run([kubectl, "kustomize", str(out / OVERLAY)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    objs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    # what kustomize builds is exactly what difygen validated in memory
    assert sorted(objs, key=key) == sorted(result.profiles[0].overlay.objects, key=key)
    return objs


@pytest.mark.kustomize
def test_built_objects_pass_strict_schemas(built: list[Obj]) -> None:
    schemas = schema_set("1.35")
    for obj in built:
        assert schemas.knows(obj["apiVersion"], obj["kind"]), key(obj)
        assert schemas.validate(obj) == [], key(obj)


@pytest.mark.kustomize
def test_no_weaviate_object_remains(built: list[Obj]) -> None:
    for obj in built:
        assert obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") \
            != "weaviate", key(obj)
        assert "weaviate" not in obj["metadata"]["name"], key(obj)


@pytest.mark.kustomize
def test_pgvector_runs_as_a_persisted_probed_hardened_statefulset(built: list[Obj]) -> None:
    sts = _one(built, "StatefulSet", "dify-pgvector")
    pod = sts["spec"]["template"]["spec"]
    [c] = containers(sts)
    assert c["image"] == "pgvector/pgvector:pg16"
    env = {e["name"]: e for e in c["env"]}
    # persisted: a claim of the profile's size and storage class, PGDATA below its mount
    [claim] = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert claim["spec"]["storageClassName"] == "standard"
    data = next(m["mountPath"] for m in c["volumeMounts"]
                if m["name"] == claim["metadata"]["name"])
    assert data == "/var/lib/postgresql/data"
    assert env["PGDATA"]["value"].startswith(data + "/")
    # probed with pg_isready over TCP, the readiness one on Dify's database
    live = c["livenessProbe"]["exec"]["command"]
    ready = c["readinessProbe"]["exec"]["command"]
    assert live[0] == ready[0] == "pg_isready" and "127.0.0.1" in live
    assert ready[ready.index("-d") + 1] == env["POSTGRES_DB"]["value"] == "dify"
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"postgres": 5432}
    # hardened: uid 999 (the Debian image's postgres), read-only root, nothing added
    ctx = pod["securityContext"]
    assert ctx["runAsUser"] == ctx["runAsGroup"] == ctx["fsGroup"] == 999
    assert ctx["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    sec = c["securityContext"]
    assert sec["runAsNonRoot"] is True and sec["readOnlyRootFilesystem"] is True
    assert sec["allowPrivilegeEscalation"] is False and sec["capabilities"] == {"drop": ["ALL"]}
    # what the server writes outside its volume is an emptyDir: the socket, /tmp, /dev/shm
    vols = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    for path in ("/var/run/postgresql", "/tmp", "/dev/shm"):
        assert "emptyDir" in vols[mounts[path]], path
    shm = vols[mounts["/dev/shm"]]["emptyDir"]
    # memory-backed, an eighth of its own 1Gi limit (not of the postgres component's)
    assert shm == {"medium": "Memory", "sizeLimit": "128Mi"}
    # the password by reference, never a value
    assert env["POSTGRES_PASSWORD"]["valueFrom"] == {
        "secretKeyRef": {"name": "dify-secrets", "key": "PGVECTOR_PASSWORD"}}
    # Guaranteed QoS like every datastore
    assert c["resources"]["requests"] == c["resources"]["limits"]


@pytest.mark.kustomize
def test_dify_is_wired_to_the_pgvector_service(built: list[Obj]) -> None:
    svc = _one(built, "Service", "dify-pgvector")
    [port] = svc["spec"]["ports"]
    data = _config(built, "dify-config")
    [sts_c] = containers(_one(built, "StatefulSet", "dify-pgvector"))
    server = {e["name"]: e.get("value") for e in sts_c["env"]}
    assert data["VECTOR_STORE"] == "pgvector"
    assert data["PGVECTOR_HOST"] == svc["metadata"]["name"]
    assert data["PGVECTOR_PORT"] == str(port["port"]) == "5432"
    assert data["PGVECTOR_USER"] == server["POSTGRES_USER"]
    assert data["PGVECTOR_DATABASE"] == server["POSTGRES_DB"]
    assert "PGVECTOR_PASSWORD" not in data  # a Secret key, read through envFrom
    assert not [k for k in data if k.startswith(("WEAVIATE", "QDRANT"))]
    for name in ("dify-api", "dify-worker"):
        [c] = containers(_one(built, "Deployment", name))
        refs = c["envFrom"]
        assert {"configMapRef": {"name": "dify-config"}} in refs
        assert {"secretRef": {"name": "dify-secrets"}} in refs


@pytest.mark.kustomize
def test_only_its_clients_reach_pgvector(built: list[Obj]) -> None:
    policy = _one(built, "NetworkPolicy", "dify-pgvector")
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] \
        == "pgvector"
    allowed = ingress_peers(policy)
    assert allowed == {5432: CLIENTS}
    assert policy["spec"].get("egress", []) == []  # it calls nothing
    api = _one(built, "NetworkPolicy", "dify-api")
    to_store = [r for r in api["spec"]["egress"]
                if any(p.get("podSelector", {}).get("matchLabels", {})
                       .get("app.kubernetes.io/component") == "pgvector"
                       for p in r.get("to", []))]
    assert [p["port"] for r in to_store for p in r["ports"]] == [5432]


@pytest.mark.kustomize
def test_quota_counts_the_pgvector_volume_and_limits(built: list[Obj],
                                                     result: RenderResult) -> None:
    plan = result.profiles[0].plan
    quota = _one(built, "ResourceQuota", "dify-quota")["spec"]["hard"]
    claims = sum(len(o["spec"].get("volumeClaimTemplates", []))
                 for o in built if o["kind"] == "StatefulSet")
    claims += len([o for o in built if o["kind"] == "PersistentVolumeClaim"])
    assert plan.volume_claims == claims
    assert int(quota["persistentvolumeclaims"]) >= claims
    assert "pgvector" in plan.profile.components
    assert plan.profile.components["pgvector"].enabled
    assert not plan.profile.components["weaviate"].enabled


def test_helm_values_point_the_chart_at_the_in_cluster_pgvector(result: RenderResult) -> None:
    path = "helm/pgvector/values.yaml"
    values = yaml.safe_load(result.files[path].partition("\n")[2])
    assert validate_values(values, path) == []
    assert values["weaviate"] == {"enabled": False}
    assert values["externalPgvector"] == {"enabled": True, "address": "dify-pgvector",
                                          "port": 5432, "dbName": "dify",
                                          "username": "postgres"}
    gaps = result.profiles[0].helm_gaps
    assert any(g.startswith("pgvector: the chart cannot deploy pgvector") for g in gaps)
    assert any(g.startswith("pgvector: the chart points Dify at dify-pgvector:5432")
               for g in gaps)


def test_pgvector_is_catalog_data_only() -> None:
    """Adding the store was a catalog entry: the targets know no name 'pgvector' beyond
    the chart's external block for an external one (kind == "pgvector" or its else)."""
    comp = COMPONENTS["pgvector"]
    assert comp.stateful and comp.data_mount is not None and comp.shm
    for module in sorted((REPO / "generator" / "targets").glob("*.py")):
        text = module.read_text()
        assert '"pgvector"' not in text.replace('kind == "pgvector"', ""), module.name


@pytest.mark.kustomize
def test_every_variable_set_is_documented(built: list[Obj]) -> None:
    """docs/components.md lists pgvector's env and the api family's PGVECTOR_* settings."""
    from tests.test_components_doc import undocumented

    missing, checked = undocumented(built)
    assert not missing
    assert checked > 50


def test_an_external_pgvector_runs_nothing_in_the_cluster(tmp_path: Path) -> None:
    """With vectorDatabase.external the in-cluster objects go; Dify reads the profile's."""
    (tmp_path / "p.yaml").write_text(
        "extends: small\nvectorDatabase:\n  type: pgvector\n"
        "  external: {host: vectors.example.com, database: vec}\n", encoding="utf-8")
    rendered = render([find("p", tmp_path)]).profiles[0]
    objs = rendered.overlay.objects
    assert not [o for o in objs
                if o["metadata"].get("labels", {}).get("app.kubernetes.io/component")
                in ("pgvector", "weaviate")]
    assert not [o for o in objs if "pgvector" in o["metadata"]["name"]]
    assert not rendered.plan.profile.components["pgvector"].enabled
    [config] = [o for o in objs if o["kind"] == "ConfigMap"
                and o["metadata"]["name"] == "dify-config"]
    assert config["data"]["PGVECTOR_HOST"] == "vectors.example.com"
    assert config["data"]["PGVECTOR_DATABASE"] == "vec"
