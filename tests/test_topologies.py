"""Ingress and the escape hatches (extra env, pod metadata, pull Secrets, topology spread),
asserted on the objects the real kustomize builds from the written overlay, and on the
Helm values of the same profile."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.k8s_schemas import schema_set
from generator.plan import plan_for
from generator.profile_load import find
from generator.render import RenderResult, render
from generator.targets.helm import render_values
from generator.writer import write_tree
from tests.k8s import containers, key, pod_spec, workloads

Obj = dict[str, Any]

PROFILE = """\
extends: production
images:
  registry: registry.example.com/mirror
  pullSecrets: [regcred, backup-cred]
podLabels:
  team: ai
podAnnotations:
  example.com/owner: platform
ingress:
  className: nginx
  hosts: [dify.example.com, www.dify.example.com]
  tls:
    secretName: dify-tls
  certManager:
    clusterIssuer: letsencrypt
  annotations:
    nginx.ingress.kubernetes.io/proxy-body-size: 100m
components:
  api:
    env:
      SENTRY_DSN: {secretKey: SENTRY_DSN}
      LOG_TZ: UTC
    podLabels: {tier: backend, team: dify-api}
    podAnnotations: {example.com/owner: api-team}
    scheduling:
      topologySpread: {zones: required, nodes: preferred}
  web:
    scheduling:
      topologySpread: {zones: preferred}
"""


@pytest.fixture(scope="module")
def profiles_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("profiles")
    (d / "hatches.yaml").write_text(PROFILE)
    return d


@pytest.fixture(scope="module")
def result(profiles_dir: Path) -> RenderResult:
    return render([find("hatches", profiles_dir)])


@pytest.fixture(scope="module")
def built(result: RenderResult, kubectl: str,
          tmp_path_factory: pytest.TempPathFactory) -> list[Obj]:
    out = tmp_path_factory.mktemp("render") / "output"
    write_tree(out, result.files, result.managed)
    proc = subprocess.run([kubectl, "kustomize", str(out / "kustomize/overlays/hatches")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    objs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    assert sorted(objs, key=key) == sorted(result.profiles[0].overlay.objects, key=key)
    return objs


def _workload(objs: list[Obj], name: str) -> Obj:
    return next(o for o in workloads(objs) if o["metadata"]["name"] == name)


@pytest.mark.kustomize
def test_built_objects_pass_strict_schemas(built: list[Obj]) -> None:
    schemas = schema_set("1.35")
    for obj in built:
        assert schemas.validate(obj) == [], key(obj)


@pytest.mark.kustomize
def test_ingress_routes_every_host_to_the_entry_point_with_tls(built: list[Obj]) -> None:
    [ing] = [o for o in built if o["kind"] == "Ingress"]
    assert ing["apiVersion"] == "networking.k8s.io/v1"
    assert ing["metadata"]["namespace"] == "dify"
    assert ing["spec"]["ingressClassName"] == "nginx"
    assert ing["metadata"]["annotations"] == {
        "cert-manager.io/cluster-issuer": "letsencrypt",
        "nginx.ingress.kubernetes.io/proxy-body-size": "100m"}
    assert ing["spec"]["tls"] == [{"hosts": ["dify.example.com", "www.dify.example.com"],
                                   "secretName": "dify-tls"}]
    services = {o["metadata"]["name"]: o for o in built if o["kind"] == "Service"}
    hosts = []
    for rule in ing["spec"]["rules"]:
        hosts.append(rule["host"])
        [path] = rule["http"]["paths"]
        assert (path["path"], path["pathType"]) == ("/", "Prefix")
        svc = services[path["backend"]["service"]["name"]]
        # the backend is the nginx Service, by one of its port names
        assert svc["spec"]["selector"]["app.kubernetes.io/component"] == "nginx"
        assert path["backend"]["service"]["port"]["name"] in {
            p["name"] for p in svc["spec"]["ports"]}
    assert hosts == ["dify.example.com", "www.dify.example.com"]


def test_public_origin_follows_the_first_host(profiles_dir: Path) -> None:
    plan = plan_for(find("hatches", profiles_dir))
    assert plan.public_origin == plan.profile.public_origin == "https://dify.example.com"
    assert plan_for(find("production")).public_origin is None


@pytest.mark.kustomize
def test_every_pod_gets_pull_secrets_and_profile_metadata(built: list[Obj]) -> None:
    for w in workloads(built):
        spec = pod_spec(w)
        assert spec is not None
        assert spec["imagePullSecrets"] == [{"name": "regcred"}, {"name": "backup-cred"}]
        md = w["spec"]["template"]["metadata"]
        name = md["labels"]["app.kubernetes.io/component"]
        if name in ("api", "migration"):
            # the component's own value wins over the profile's on the same key (the
            # migration Job runs the api's image with the api's pod settings)
            assert md["labels"]["team"] == "dify-api" and md["labels"]["tier"] == "backend"
            assert md["annotations"]["example.com/owner"] == "api-team"
        else:
            assert md["labels"]["team"] == "ai" and "tier" not in md["labels"]
            assert md["annotations"]["example.com/owner"] == "platform"
        # the selector still matches the template
        for k, v in w["spec"].get("selector", {}).get("matchLabels", {}).items():
            assert md["labels"][k] == v
        for c in containers(w):
            assert c["image"].startswith("registry.example.com/mirror/"), c["image"]


@pytest.mark.kustomize
def test_extra_env_is_added_after_difygen_env(built: list[Obj]) -> None:
    [api] = containers(_workload(built, "dify-api"))
    env = {e["name"]: e for e in api["env"]}
    assert env["LOG_TZ"] == {"name": "LOG_TZ", "value": "UTC"}
    assert env["SENTRY_DSN"]["valueFrom"] == {
        "secretKeyRef": {"name": "dify-secrets", "key": "SENTRY_DSN"}}
    assert env["MODE"]["value"] == "api"
    [worker] = containers(_workload(built, "dify-worker"))
    assert "LOG_TZ" not in {e["name"] for e in worker.get("env", [])}


@pytest.mark.kustomize
def test_topology_spread_constraints_select_the_component(built: list[Obj]) -> None:
    api = pod_spec(_workload(built, "dify-api"))
    web = pod_spec(_workload(built, "dify-web"))
    assert api is not None and web is not None
    selector = _workload(built, "dify-api")["spec"]["selector"]["matchLabels"]
    assert api["topologySpreadConstraints"] == [
        {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
         "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": selector}},
        {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
         "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": selector}},
    ]
    assert [c["whenUnsatisfiable"] for c in web["topologySpreadConstraints"]] == [
        "ScheduleAnyway"]
    worker = pod_spec(_workload(built, "dify-worker"))
    assert worker is not None and "topologySpreadConstraints" not in worker


def test_helm_values_carry_ingress_pull_secrets_env_and_no_tokens(profiles_dir: Path) -> None:
    helm = render_values(plan_for(find("hatches", profiles_dir)))
    v = helm.values
    assert v["ingress"] == {
        "enabled": True, "className": "nginx",
        "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt",
                        "nginx.ingress.kubernetes.io/proxy-body-size": "100m"},
        "hosts": [{"host": h, "paths": [{"path": "/", "pathType": "Prefix"}]}
                  for h in ("dify.example.com", "www.dify.example.com")],
        "tls": [{"secretName": "dify-tls",
                 "hosts": ["dify.example.com", "www.dify.example.com"]}]}
    for image in v["image"].values():
        assert image["pullSecrets"] == ["regcred", "backup-cred"]
        assert image["repository"].startswith("registry.example.com/mirror/")
    # merged into global beside the public URLs, which must survive
    assert v["global"]["imageRegistry"] == "registry.example.com/mirror"
    assert v["global"]["imagePullSecrets"] == ["regcred", "backup-cred"]
    assert v["global"]["consoleApiDomain"] == "https://dify.example.com"
    for subchart in ("postgresql", "redis"):  # the chart's `helm test` Jobs read these
        assert v[subchart]["image"] == {"registry": "registry.example.com/mirror"}
    assert v["weaviate"]["image"]["registry"] == "registry.example.com/mirror"
    assert v["weaviate"]["image"]["pullSecrets"] == ["regcred", "backup-cred"]
    for key_ in ("api", "apiWebsocket", "worker", "beat", "web", "sandbox", "pluginDaemon",
                 "ssrfProxy", "proxy", "agentBackend", "localSandbox", "postgresql",
                 "redis"):
        if v[key_]["enabled"]:
            assert v[key_]["serviceAccount"] == {"create": True,
                                                 "automountServiceAccountToken": False}
    env = {e["name"]: e for e in v["api"]["extraEnv"]}
    assert env["LOG_TZ"]["value"] == "UTC"
    assert env["SENTRY_DSN"]["valueFrom"]["secretKeyRef"]["key"] == "SENTRY_DSN"
    assert "SQLALCHEMY_POOL_SIZE" in env  # derived settings are still there
    assert v["labels"] == {"team": "ai"}
    assert any("topologySpreadConstraints" in g for g in helm.gaps)
    assert any("api: the chart has no pod labels" in g for g in helm.gaps)
