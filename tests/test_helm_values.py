"""Helm values for the community chart: schema, sizing fidelity, and parity with Kustomize."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.errors import RenderInvalid
from generator.helm_schema import validate_values
from generator.plan import Plan, plan_for
from generator.profile_load import BUILTIN_PROFILES, ProfileRef
from generator.quantity import format_cpu, format_memory, parse_quantity
from generator.resources import profiles_dir
from generator.sizing import ComponentSizing
from generator.targets.helm import HelmValues, render_values, values_path

# Profiles written here cover what the built-in ones may not: components turned off,
# autoscaling where the chart has none, memory-only targets, S3, spreading, scheduling.
TEST_PROFILES: dict[str, str] = {
    "plain": "description: catalog defaults only\n",
    "lean": """\
description: optional components off, tight sizes
components:
  api-websocket: {enabled: false}
  agent-backend: {enabled: false}
  local-sandbox: {enabled: false}
  api:
    resources: {requests: {cpu: 200m, memory: 768Mi}, limits: {cpu: 700m, memory: 1536Mi}}
resourceQuota: {enabled: false}
limitRange: {enabled: false}
""",
    "scaled": """\
description: autoscaling, spreading, S3 and scheduling
fileStorage:
  backend: s3
  s3: {endpoint: "https://s3.example.com", bucket: dify-files, region: eu-west-1}
podDisruptionBudgets: {enabled: true}
components:
  api:
    autoscaling: {minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 70}
    resources: {requests: {cpu: 500m, memory: 1Gi}, limits: {cpu: "2", memory: 2Gi}}
    scheduling:
      spreadAcrossNodes: preferred
      spreadAcrossZones: required
      nodeSelector: {pool: apps}
      tolerations: [{key: dedicated, operator: Equal, value: dify, effect: NoSchedule}]
      priorityClassName: dify-high
  worker:
    autoscaling: {minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 75}
  web:
    # memory only is refused for Python components, allowed for Node.js
    autoscaling: {minReplicas: 2, maxReplicas: 4, targetMemoryUtilizationPercentage: 75}
  plugin-daemon:
    autoscaling: {minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 80}
  postgres:
    resources: {requests: {cpu: "2", memory: 4Gi}, limits: {cpu: "2", memory: 4Gi}}
    persistence: {storageClass: fast-ssd, size: 50Gi}
    probes: {liveness: {initialDelaySeconds: 40, periodSeconds: 20}}
  redis:
    resources: {requests: {cpu: 500m, memory: 1Gi}, limits: {cpu: 500m, memory: 1Gi}}
  weaviate:
    persistence: {storageClass: fast-ssd, size: 30Gi}
""",
}

# Chart values key of each Dify component (subcharts are checked separately).
DIFY_KEYS = {
    "api": "api", "api-websocket": "apiWebsocket", "worker": "worker", "worker-beat": "beat",
    "web": "web", "sandbox": "sandbox", "plugin-daemon": "pluginDaemon",
    "ssrf-proxy": "ssrfProxy", "nginx": "proxy", "agent-backend": "agentBackend",
    "local-sandbox": "localSandbox",
}
PROBE_KINDS = ("liveness", "readiness", "startup")
SECRETISH = re.compile(r"(password|secret|token|apikey|api_key|accesskey|serverkey)", re.I)


def builtin_names() -> list[str]:
    return [n for n in BUILTIN_PROFILES if (profiles_dir() / f"{n}.yaml").is_file()]


def all_profile_ids() -> list[str]:
    return [*builtin_names(), *TEST_PROFILES]


def plan_named(name: str, directory: Path) -> Plan:
    if name in TEST_PROFILES:
        path = directory / f"{name}.yaml"
        if not path.exists():
            path.write_text(TEST_PROFILES[name], encoding="utf-8")
        return plan_for(ProfileRef(name, path, False))
    return plan_for(ProfileRef(name, profiles_dir() / f"{name}.yaml", True))


@pytest.fixture(scope="module")
def profile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("profiles")


@pytest.fixture(scope="module", params=all_profile_ids())
def rendered(request: pytest.FixtureRequest, profile_dir: Path) -> tuple[Plan, HelmValues]:
    plan = plan_named(request.param, profile_dir)
    return plan, render_values(plan)


def resources_of(sizing: ComponentSizing) -> dict[str, Any]:
    res = sizing.resources
    return {
        "requests": {"cpu": format_cpu(res.requests.cpu),
                     "memory": format_memory(res.requests.memory)},
        "limits": {"cpu": format_cpu(res.limits.cpu), "memory": format_memory(res.limits.memory)},
    }


def helm_probe(block: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The probe the chart renders for `kind`: custom wins over the native block."""
    cap = kind[0].upper() + kind[1:]
    if f"custom{cap}Probe" in block:
        return dict(block[f"custom{cap}Probe"])
    native = block.get(f"{kind}Probe")
    if native and native.get("enabled"):
        return {k: v for k, v in native.items() if k != "enabled"}
    return None


def timing_of(probe: dict[str, Any]) -> dict[str, Any]:
    keys = ("initialDelaySeconds", "periodSeconds", "timeoutSeconds", "failureThreshold",
            "successThreshold")
    return {k: probe.get(k) for k in keys}


# ---------------------------------------------------------------------------- output


def test_values_pass_the_schema_and_the_file_is_their_dump(
        rendered: tuple[Plan, HelmValues]) -> None:
    plan, helm = rendered
    assert validate_values(helm.values, values_path(plan.name)) == []
    first, _, body = helm.text.partition("\n")
    assert first == (f"# Generated by difygen from profile {plan.name}. Do not edit: change "
                     "the profile and run difygen render.")
    assert helm.text.endswith("\n") and "\r" not in helm.text
    assert yaml.safe_load(body) == helm.values
    assert values_path(plan.name) == f"helm/{plan.name}/values.yaml"


def test_rendering_is_deterministic(rendered: tuple[Plan, HelmValues]) -> None:
    plan, helm = rendered
    again = render_values(plan)
    assert again.text == helm.text and again.gaps == helm.gaps


def test_no_secret_is_written(rendered: tuple[Plan, HelmValues]) -> None:
    _, helm = rendered

    def keys(node: Any) -> list[str]:
        # A switch is not a secret: automountServiceAccountToken: false stays allowed.
        if isinstance(node, dict):
            return [k for k, v in node.items() if not isinstance(v, bool)
                    for k in [k, *keys(v)]]
        if isinstance(node, list):
            return [k for item in node for k in keys(item)]
        return []

    assert [k for k in keys(helm.values) if SECRETISH.search(k)] == []
    env_names = [e["name"] for block in helm.values.values() if isinstance(block, dict)
                 for e in block.get("extraEnv", [])]
    assert [n for n in env_names if SECRETISH.search(n)] == []


# ---------------------------------------------------------------------------- schema


def test_misspelled_key_is_reported_with_its_path(rendered: tuple[Plan, HelmValues]) -> None:
    plan, helm = rendered
    values = copy.deepcopy(helm.values)
    values["api"]["replicsa"] = 2
    values["postgresql"]["primary"]["resources"]["limit"] = {}
    problems = validate_values(values, values_path(plan.name))
    texts = [str(p) for p in problems]
    assert any("api.replicsa" in t and "unknown key 'replicsa'" in t for t in texts), texts
    assert any("postgresql.primary.resources.limit:" in t for t in texts), texts
    assert all(t.startswith(f"helm/{plan.name}/values.yaml: ") for t in texts)


def test_wrong_type_is_reported_with_its_path(rendered: tuple[Plan, HelmValues]) -> None:
    plan, helm = rendered
    values = copy.deepcopy(helm.values)
    values["web"]["resources"]["limits"]["cpu"] = 2
    values["redis"]["master"]["persistence"]["enabled"] = "yes"
    problems = {p.location.key_path: p.message
                for p in validate_values(values, values_path(plan.name))}
    assert "expected string" in problems["web.resources.limits.cpu"]
    assert "expected boolean" in problems["redis.master.persistence.enabled"]


def test_render_refuses_values_the_schema_rejects(
        rendered: tuple[Plan, HelmValues], monkeypatch: pytest.MonkeyPatch) -> None:
    plan, _ = rendered
    from generator.targets import helm as target

    # A component the chart does not know: the rendered block must be refused, not written.
    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"enabled": True, "replica": 1}

    monkeypatch.setitem(target._SUBCHARTS, "postgresql", lambda plan, comp, gaps: broken())
    with pytest.raises(RenderInvalid) as info:
        render_values(plan)
    assert any(p.location.key_path == "postgresql.replica" for p in info.value.problems)


# ---------------------------------------------------------------------------- sizing


def test_disabled_components_are_turned_off(rendered: tuple[Plan, HelmValues]) -> None:
    plan, helm = rendered
    for name, key in DIFY_KEYS.items():
        enabled = plan.profile.components[name].enabled
        assert helm.values[key]["enabled"] is enabled, key
        if not enabled:
            assert helm.values[key] == {"enabled": False}
    # the chart turns these two off by default: difygen always says which it wants
    assert "enabled" in helm.values["ssrfProxy"] and "enabled" in helm.values["apiWebsocket"]


def test_resources_equal_the_plan(rendered: tuple[Plan, HelmValues]) -> None:
    plan, helm = rendered
    for comp, sizing in plan.components():
        want = resources_of(sizing)
        if comp.name in DIFY_KEYS:
            got = helm.values[DIFY_KEYS[comp.name]]["resources"]
        elif comp.name == "postgres":
            got = helm.values["postgresql"]["primary"]["resources"]
        elif comp.name == "redis":
            got = helm.values["redis"]["master"]["resources"]
        elif comp.name == "weaviate":
            got = helm.values["weaviate"]["resources"]
        else:
            # No slot in the chart: the gap list must say so.
            assert any(g.startswith(f"{comp.name}:") for g in helm.gaps), comp.name
            continue
        assert got == want, comp.name
        for kind in ("requests", "limits"):
            assert parse_quantity(got[kind]["cpu"]) == getattr(
                sizing.resources, kind).cpu, comp.name


def test_images_come_from_the_plan(rendered: tuple[Plan, HelmValues]) -> None:
    plan, helm = rendered
    images = helm.values["image"]
    for name, key in DIFY_KEYS.items():
        image_key = "api" if key in ("apiWebsocket", "worker", "beat") else key
        got = images[image_key]
        assert f"{got['repository']}:{got['tag']}" == plan.image(name)
        assert got["pullPolicy"] == plan.profile.images.pull_policy
    weaviate = helm.values["weaviate"]
    if weaviate["enabled"]:
        assert plan.image("weaviate").endswith(f"{weaviate['image']['repo']}:"
                                               f"{weaviate['image']['tag']}")


def test_tunables_reach_extra_env(rendered: tuple[Plan, HelmValues]) -> None:
    plan, helm = rendered
    t = plan.tunables

    def env(key: str) -> dict[str, str]:
        return {e["name"]: e["value"] for e in helm.values[key].get("extraEnv", [])}

    for key in ("api", "worker", "beat"):
        assert t.api_env().items() <= env(key).items(), key
    api = env("api")
    assert api["SERVER_WORKER_AMOUNT"] == str(t.server_worker_amount)
    assert api["SQLALCHEMY_POOL_SIZE"] == str(t.sqlalchemy_pool_size)
    assert api["CHECK_UPDATE_URL"] == ""  # the chart default a list override would lose
    assert env("worker")["CELERY_WORKER_AMOUNT"] == str(t.celery_worker_amount)
    assert t.plugin_env().items() <= env("pluginDaemon").items()
    assert env("sandbox")["WORKER_TIMEOUT"] == "15"
    if helm.values["apiWebsocket"]["enabled"]:
        ws = env("apiWebsocket")
        assert ws["SQLALCHEMY_POOL_SIZE"] == str(t.sqlalchemy_pool_size)
        assert "SERVER_WORKER_AMOUNT" not in ws  # the chart pins one websocket process
    conf = helm.values["postgresql"]["primary"]["extendedConfiguration"]
    assert f"max_connections = {t.postgres_max_connections}\n" in conf
    assert f"shared_buffers = {t.postgres_shared_buffers_mb}MB\n" in conf
    redis = helm.values["redis"]
    assert f"maxmemory {t.redis_maxmemory_mb}mb\n" in redis["commonConfiguration"]
    # Never an allkeys-* policy: the same Redis holds the Celery broker's queued tasks.
    assert "maxmemory-policy volatile-lru" in redis["commonConfiguration"]
    assert "allkeys" not in redis["commonConfiguration"]
    assert "appendonly yes" in redis["commonConfiguration"]
    assert redis["architecture"] == helm.values["postgresql"]["architecture"] == "standalone"


def test_storage_follows_the_plan(rendered: tuple[Plan, HelmValues]) -> None:
    plan, helm = rendered
    storage = plan.profile.file_storage
    for name, key in (("api", "api"), ("plugin-daemon", "pluginDaemon")):
        block = helm.values[key]
        pers = plan.profile.components[name].persistence
        if storage.backend == "local" and pers is not None:
            assert block["persistence"]["persistentVolumeClaim"] == {
                "storageClass": pers.storage_class, "accessModes": pers.access_mode,
                "size": format_memory(pers.size)}
        else:
            assert "persistence" not in block
    if storage.backend == "s3":
        assert storage.s3 is not None
        s3 = helm.values["externalS3"]
        assert s3["bucketName"] == {"api": storage.s3.bucket,
                                    "pluginDaemon": storage.s3.bucket}
        assert s3["endpoint"] == storage.s3.endpoint and s3["enabled"] is True
    else:
        assert "externalS3" not in helm.values
    pg = plan.profile.components["postgres"].persistence
    assert pg is not None
    assert helm.values["postgresql"]["primary"]["persistence"]["storageClass"] == \
        pg.storage_class
    assert helm.values["postgresql"]["primary"]["persistence"]["size"] == format_memory(pg.size)


def test_every_enabled_component_has_liveness_and_readiness(
        rendered: tuple[Plan, HelmValues]) -> None:
    plan, helm = rendered
    for comp, sizing in plan.components():
        if comp.name not in DIFY_KEYS:
            continue
        block = helm.values[DIFY_KEYS[comp.name]]
        for kind, timing in (("liveness", sizing.probes.liveness),
                             ("readiness", sizing.probes.readiness),
                             ("startup", sizing.probes.startup)):
            probe = helm_probe(block, kind)
            if timing is None:
                assert probe is None, (comp.name, kind)
                continue
            assert probe is not None, (comp.name, kind)
            assert timing_of(probe) == {
                "initialDelaySeconds": timing.initial_delay_seconds,
                "periodSeconds": timing.period_seconds,
                "timeoutSeconds": timing.timeout_seconds,
                "failureThreshold": timing.failure_threshold,
                "successThreshold": timing.success_threshold}, (comp.name, kind)


def test_security_contexts_take_each_components_shape(
        rendered: tuple[Plan, HelmValues]) -> None:
    plan, helm = rendered
    gated = {"api", "apiWebsocket", "worker", "beat", "proxy"}
    for comp, _ in plan.components():
        if comp.name not in DIFY_KEYS:
            continue
        key = DIFY_KEYS[comp.name]
        pod = helm.values[key]["podSecurityContext"]
        ctr = helm.values[key]["containerSecurityContext"]
        assert ("enabled" in pod) is (key in gated) and ("enabled" in ctr) is (key in gated)
        assert ctr["allowPrivilegeEscalation"] is False
        assert ctr["capabilities"]["drop"] == ["ALL"]
        if comp.security.exception is not None and comp.security.exception.run_as_root:
            assert ctr["runAsNonRoot"] is False
        else:
            assert ctr["runAsNonRoot"] is True and ctr["runAsUser"] != 0
    weaviate = helm.values["weaviate"]
    if weaviate["enabled"]:
        assert weaviate["initContainers"] == {"sysctlInitContainer": {"enabled": False}}
        assert weaviate["containerSecurityContext"]["runAsNonRoot"] is True


def test_gaps_name_what_the_chart_cannot_carry(rendered: tuple[Plan, HelmValues]) -> None:
    plan, helm = rendered
    text = "\n".join(helm.gaps)
    assert ("PodDisruptionBudgets" in text) is plan.profile.disruption.enabled
    assert ("ResourceQuota" in text) is (plan.quota is not None)
    assert ("LimitRange" in text) is plan.profile.limit_range.enabled
    for name, key in DIFY_KEYS.items():
        sizing = plan.profile.components[name]
        chart_scales = key in ("api", "worker", "web", "sandbox")
        if sizing.enabled and sizing.scaling.autoscale and not chart_scales:
            assert f"{name}: the chart has no autoscaling" in text
            assert helm.values[key]["replicas"] == sizing.scaling.min_replicas
    assert len(set(helm.gaps)) == len(helm.gaps)


def test_scheduling_and_autoscaling_of_the_scaled_profile(profile_dir: Path) -> None:
    plan = plan_named("scaled", profile_dir)
    api = render_values(plan).values["api"]
    assert api["autoscaling"] == {"enabled": True, "minReplicas": 2, "maxReplicas": 6,
                                  "targetCPUUtilizationPercentage": 70}
    assert api["nodeSelector"] == {"pool": "apps"}
    assert api["tolerations"] == [{"key": "dedicated", "operator": "Equal", "value": "dify",
                                   "effect": "NoSchedule"}]
    assert api["priorityClassName"] == "dify-high"
    anti = api["affinity"]["podAntiAffinity"]
    assert [t["topologyKey"] for t in anti["requiredDuringSchedulingIgnoredDuringExecution"]] \
        == ["topology.kubernetes.io/zone"]
    preferred = anti["preferredDuringSchedulingIgnoredDuringExecution"]
    assert [(p["weight"], p["podAffinityTerm"]["topologyKey"]) for p in preferred] == \
        [(100, "kubernetes.io/hostname")]
    web = render_values(plan).values["web"]["autoscaling"]
    # memory only: the chart's default CPU target must be removed, not inherited
    assert web["targetCPUUtilizationPercentage"] is None
    assert web["targetMemoryUtilizationPercentage"] == 75


# ---------------------------------------------------------------------------- parity


def _by_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def test_helm_values_match_the_kustomize_overlay(rendered: tuple[Plan, HelmValues]) -> None:
    kustomize = pytest.importorskip("generator.targets.kustomize")
    plan, helm = rendered
    objects = kustomize.render_overlay(plan).objects
    workloads = {**_by_kind(objects, "Deployment"), **_by_kind(objects, "StatefulSet")}
    hpas = _by_kind(objects, "HorizontalPodAutoscaler")
    pvcs = _by_kind(objects, "PersistentVolumeClaim")
    for comp, _ in plan.components():
        workload = workloads[comp.object_name]
        container = workload["spec"]["template"]["spec"]["containers"][0]
        if comp.name in DIFY_KEYS:
            block = helm.values[DIFY_KEYS[comp.name]]
            resources = block["resources"]
            probes = {kind: helm_probe(block, kind) for kind in PROBE_KINDS}
        elif comp.name == "weaviate":
            block = helm.values["weaviate"]
            resources = block["resources"]
            probes = {kind: block.get(f"{kind}Probe") for kind in PROBE_KINDS}
        elif comp.name not in ("postgres", "redis"):
            # No slot in the chart (agent-ssrf-proxy): named in the gaps instead.
            assert any(g.startswith(f"{comp.name}:") for g in helm.gaps), comp.name
            continue
        else:
            sub = helm.values["postgresql"]["primary"] if comp.name == "postgres" else \
                helm.values["redis"]["master"]
            block, resources = sub, sub["resources"]
            probes = {kind: sub.get(f"{kind}Probe") for kind in PROBE_KINDS}
        assert resources == container["resources"], comp.name
        for kind in PROBE_KINDS:
            theirs = container.get(f"{kind}Probe")
            ours = probes[kind]
            assert (ours is None) is (theirs is None), (comp.name, kind)
            if ours is not None and theirs is not None:
                assert timing_of(ours) == timing_of(theirs), (comp.name, kind)
        hpa = hpas.get(comp.object_name)
        auto = block.get("autoscaling", {})
        if auto.get("enabled"):
            assert hpa is not None, comp.name
            assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == \
                (auto["minReplicas"], auto["maxReplicas"])
            targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"]
                       for m in hpa["spec"]["metrics"]}
            ours_t = {"cpu": auto.get("targetCPUUtilizationPercentage"),
                      "memory": auto.get("targetMemoryUtilizationPercentage")}
            assert targets == {k: v for k, v in ours_t.items() if v is not None}, comp.name
        elif hpa is None and "replicas" in block:
            assert workload["spec"].get("replicas", 1) == block["replicas"], comp.name
        if comp.name in DIFY_KEYS and "persistence" in block:
            claim = block["persistence"]["persistentVolumeClaim"]
            volumes = workload["spec"]["template"]["spec"].get("volumes", [])
            names = [v["persistentVolumeClaim"]["claimName"] for v in volumes
                     if "persistentVolumeClaim" in v]
            assert len(names) == 1, comp.name
            spec = pvcs[names[0]]["spec"]
            assert spec["storageClassName"] == claim["storageClass"], comp.name
            assert spec["accessModes"] == [claim["accessModes"]], comp.name
            assert spec["resources"]["requests"]["storage"] == claim["size"], comp.name
        if comp.stateful:
            template = workload["spec"]["volumeClaimTemplates"][0]["spec"]
            if comp.name == "weaviate":
                want = (block["storage"]["storageClassName"], block["storage"]["size"])
            else:
                want = (block["persistence"]["storageClass"], block["persistence"]["size"])
            assert (template["storageClassName"],
                    template["resources"]["requests"]["storage"]) == want, comp.name


def test_wiring_reaches_the_chart_keys(rendered: tuple[Plan, HelmValues]) -> None:
    plan, helm = rendered
    v = helm.values
    public = plan.profile.public_url
    assert set(v["global"].values()) == {public}
    assert v["api"]["migration"] is True
    assert any("no migration Job" in g for g in helm.gaps)
    if v["weaviate"].get("enabled"):
        env = v["weaviate"]["env"]
        assert env["GOMEMLIMIT"].endswith("MiB") and int(env["GOMAXPROCS"]) >= 1
        assert v["weaviate"]["terminationGracePeriodSeconds"] == 60
    if v["apiWebsocket"].get("enabled"):
        assert v["apiWebsocket"]["socketUrl"].split("://")[1] == public.split("://")[1]
    web_env = {e["name"]: e["value"] for e in v["web"].get("extraEnv", [])}
    assert web_env["PM2_HOME"].startswith("/tmp")
    assert v["web"]["containerSecurityContext"]["readOnlyRootFilesystem"] is True
