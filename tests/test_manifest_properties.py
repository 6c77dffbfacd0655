"""The properties that matter, asserted directly on the rendered manifests.

These read the Kubernetes objects themselves (not the plan that produced them), so a bug
in the plan cannot hide behind itself.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from generator.catalog import COMPONENTS
from generator.profile_load import BUILTIN_PROFILES
from generator.quantity import parse_quantity
from generator.render import RenderedProfile, RenderResult
from tests.k8s import containers, pod_spec, workloads

Obj = dict[str, Any]


@pytest.fixture(params=BUILTIN_PROFILES)
def rendered(request: pytest.FixtureRequest, builtin_render: RenderResult) -> RenderedProfile:
    return next(p for p in builtin_render.profiles if p.plan.name == request.param)


def objs(rendered: RenderedProfile, kind: str | None = None) -> list[Obj]:
    return [o for o in rendered.overlay.objects if kind is None or o["kind"] == kind]


def by_name(rendered: RenderedProfile, kind: str, name: str) -> Obj:
    return next(o for o in objs(rendered, kind) if o["metadata"]["name"] == name)


def component(obj: Obj) -> str:
    label: str = obj["metadata"]["labels"]["app.kubernetes.io/component"]
    return label


def catalog_entry(obj: Obj) -> Any:
    """The catalog component a workload runs (the migration Job runs the api image)."""
    name = component(obj)
    return COMPONENTS["api" if name == "migration" else name]


def max_replicas(rendered: RenderedProfile, workload: Obj) -> int:
    if workload["kind"] == "Job":
        return int(workload["spec"].get("parallelism", 1))
    for hpa in objs(rendered, "HorizontalPodAutoscaler"):
        if hpa["spec"]["scaleTargetRef"]["name"] == workload["metadata"]["name"]:
            return int(hpa["spec"]["maxReplicas"])
    return int(workload["spec"]["replicas"])


def test_every_container_has_requests_and_limits(rendered: RenderedProfile) -> None:
    for w in workloads(objs(rendered)):
        for c in containers(w):
            res = c.get("resources", {})
            for kind in ("requests", "limits"):
                for key in ("cpu", "memory"):
                    assert key in res.get(kind, {}), (w["metadata"]["name"], kind, key)
            for key in ("cpu", "memory"):
                assert parse_quantity(res["limits"][key]) >= parse_quantity(
                    res["requests"][key]), (w["metadata"]["name"], key)


def test_every_container_is_probed(rendered: RenderedProfile) -> None:
    for w in workloads(objs(rendered)):
        if w["kind"] == "Job":
            # A run-to-completion pod: no Service, nothing to probe.
            continue
        comp = COMPONENTS[component(w)]
        for c in containers(w):
            assert "livenessProbe" in c and "readinessProbe" in c, w["metadata"]["name"]
            for probe in ("livenessProbe", "readinessProbe"):
                handlers = {"httpGet", "tcpSocket", "exec", "grpc"} & set(c[probe])
                assert len(handlers) == 1, (w["metadata"]["name"], probe)
            assert ("startupProbe" in c) == (comp.startup is not None), w["metadata"]["name"]


def _effective(pod: Obj, container: Obj, key: str) -> Any:
    ctx = container.get("securityContext", {})
    return ctx[key] if key in ctx else pod.get("securityContext", {}).get(key)


def test_every_pod_is_non_root_or_a_declared_exception(rendered: RenderedProfile) -> None:
    for w in workloads(objs(rendered)):
        pod = pod_spec(w)
        assert pod is not None
        comp = catalog_entry(w)
        annotations = w["spec"]["template"]["metadata"].get("annotations", {})
        for c in containers(w):
            ctx = c["securityContext"]
            # Rules every pod meets, exception or not (baseline and more).
            assert ctx["allowPrivilegeEscalation"] is False
            assert ctx.get("privileged", False) is False
            assert ctx["capabilities"]["drop"] == ["ALL"]
            assert _effective(pod, c, "seccompProfile") == {"type": "RuntimeDefault"}
            assert not pod.get("hostNetwork") and not pod.get("hostPID")
            if comp.security.exception is None:
                assert _effective(pod, c, "runAsNonRoot") is True, w["metadata"]["name"]
                assert _effective(pod, c, "runAsUser") not in (None, 0)
                assert "add" not in ctx["capabilities"]
                assert "difygen.io/security-exception" not in annotations
            else:
                assert annotations["difygen.io/security-exception"] == (
                    comp.security.exception.reason)
                assert set(ctx["capabilities"].get("add", [])) == set(
                    comp.security.exception.add_capabilities)
        for vol in pod.get("volumes", []):
            assert "hostPath" not in vol


def test_read_only_roots_have_a_writable_tmp(rendered: RenderedProfile) -> None:
    for w in workloads(objs(rendered)):
        pod = pod_spec(w)
        assert pod is not None
        empty = {v["name"] for v in pod.get("volumes", []) if "emptyDir" in v}
        for c in containers(w):
            if c["securityContext"].get("readOnlyRootFilesystem"):
                mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
                assert mounts.get("/tmp") in empty, w["metadata"]["name"]


def test_service_account_tokens_are_not_mounted(rendered: RenderedProfile) -> None:
    for w in workloads(objs(rendered)):
        pod = pod_spec(w)
        assert pod is not None and pod["automountServiceAccountToken"] is False
    for sa in objs(rendered, "ServiceAccount"):
        assert sa["automountServiceAccountToken"] is False


def test_no_secret_values_in_output(rendered: RenderedProfile, builtin_render: RenderResult
                                    ) -> None:
    assert not objs(rendered, "Secret")
    for w in workloads(objs(rendered)):
        for c in containers(w):
            for env in c.get("env", []):
                name = env["name"]
                if any(word in name for word in ("PASSWORD", "SECRET", "TOKEN")) or (
                        name.endswith("_KEY")):
                    assert "valueFrom" in env and "value" not in env, (w["metadata"]["name"],
                                                                       name)
    for cm in objs(rendered, "ConfigMap"):
        for name in cm.get("data", {}):
            assert not any(word in name for word in ("PASSWORD", "SECRET", "TOKEN")), name


def test_persistent_volumes_carry_the_profile_storage_class(rendered: RenderedProfile) -> None:
    profile = rendered.plan.profile
    claims: list[tuple[str, Obj]] = []
    for pvc in objs(rendered, "PersistentVolumeClaim"):
        claims.append((component(pvc), pvc["spec"]))
    for sts in objs(rendered, "StatefulSet"):
        for tpl in sts["spec"]["volumeClaimTemplates"]:
            claims.append((component(sts), tpl["spec"]))
    assert claims
    for name, spec in claims:
        pers = profile.components[name].persistence
        assert pers is not None
        assert spec["storageClassName"] == pers.storage_class
        assert spec["accessModes"] == [pers.access_mode]


def _config(rendered: RenderedProfile, name: str) -> dict[str, str]:
    data: dict[str, str] = by_name(rendered, "ConfigMap", name)["data"]
    return data


def _surge(workload: Obj, replicas: int) -> int:
    """Pods a rolling update adds, read from the Deployment's own strategy."""
    if workload["kind"] != "Deployment":
        return 0
    strategy = workload["spec"].get("strategy", {})
    if strategy.get("type") == "Recreate":
        return 0
    value = strategy.get("rollingUpdate", {}).get("maxSurge", "25%")
    if isinstance(value, str):
        return -(-int(value.rstrip("%")) * replicas // 100)
    return int(value)


def test_connection_budget_holds_at_maximum_scale_plus_surge(
        rendered: RenderedProfile) -> None:
    """Recomputed from the manifests: every pool at maximum HPA scale, plus the pods a
    rollout adds, fits 80% of max_connections."""
    api_cfg = _config(rendered, "dify-config")
    per_pool = int(api_cfg["SQLALCHEMY_POOL_SIZE"]) + int(api_cfg["SQLALCHEMY_MAX_OVERFLOW"])
    total = 0
    surged = 0
    for w in workloads(objs(rendered)):
        if w["kind"] == "Job":
            # The migration opens one connection, inside the 20% kept for migrations.
            continue
        c = w["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        uses_api_config = any(ref.get("configMapRef", {}).get("name") == "dify-config"
                              for ref in c.get("envFrom", []))
        top = max_replicas(rendered, w)
        pods = top + _surge(w, top)
        surged += pods - top
        if uses_api_config:
            processes = int(env.get("SERVER_WORKER_AMOUNT") or (
                api_cfg["SERVER_WORKER_AMOUNT"] if env.get("MODE") == "api" else 1))
            if env.get("MODE") != "api":
                processes = 1
            total += pods * processes * per_pool
        if component(w) == "plugin-daemon":
            open_conns = int(_config(rendered, "dify-plugin-daemon-config")["DB_MAX_OPEN_CONNS"])
            total += pods * open_conns
    max_connections = int(_config(rendered, "dify-postgres-config")["POSTGRES_MAX_CONNECTIONS"])
    postgres = by_name(rendered, "StatefulSet", "dify-postgres")
    assert "max_connections=$(POSTGRES_MAX_CONNECTIONS)" in (
        postgres["spec"]["template"]["spec"]["containers"][0]["args"])
    assert total > 0 and surged > 0
    assert total <= Fraction(8, 10) * max_connections, (total, max_connections)


def test_api_pool_covers_the_requests_each_process_serves(rendered: RenderedProfile) -> None:
    api_cfg = _config(rendered, "dify-config")
    api = by_name(rendered, "Deployment", "dify-api")
    env = {e["name"]: e.get("value") for e in next(containers(api)).get("env", [])}
    serves = int(env.get("SERVER_WORKER_CONNECTIONS") or api_cfg["SERVER_WORKER_CONNECTIONS"])
    pooled = int(api_cfg["SQLALCHEMY_POOL_SIZE"]) + int(api_cfg["SQLALCHEMY_MAX_OVERFLOW"])
    assert serves >= 5
    assert pooled >= serves + 2, (pooled, serves)


def test_requests_at_maximum_scale_fit_the_quota(rendered: RenderedProfile) -> None:
    quota = objs(rendered, "ResourceQuota")
    assert len(quota) == 1 and len(objs(rendered, "LimitRange")) == 1
    hard = quota[0]["spec"]["hard"]
    sums = {"requests.cpu": Fraction(0), "requests.memory": Fraction(0),
            "limits.cpu": Fraction(0), "limits.memory": Fraction(0)}
    pods = 0
    for w in workloads(objs(rendered)):
        n = max_replicas(rendered, w)
        pods += n
        for c in containers(w):
            for kind in ("requests", "limits"):
                for res in ("cpu", "memory"):
                    sums[f"{kind}.{res}"] += n * parse_quantity(c["resources"][kind][res])
    for name, total in sums.items():
        assert total <= parse_quantity(hard[name]), name
    assert pods <= int(hard["pods"])


def test_redis_maxmemory_is_60_to_80_percent_of_its_limit(rendered: RenderedProfile) -> None:
    redis = by_name(rendered, "StatefulSet", "dify-redis")
    c = redis["spec"]["template"]["spec"]["containers"][0]
    assert c["args"][c["args"].index("--maxmemory") + 1] == "$(REDIS_MAXMEMORY)"
    value = _config(rendered, "dify-redis-config")["REDIS_MAXMEMORY"]
    assert value.endswith("mb")
    maxmemory = int(value[:-2]) * 2**20
    limit = parse_quantity(c["resources"]["limits"]["memory"])
    assert Fraction(6, 10) <= maxmemory / limit <= Fraction(8, 10)


def test_read_write_once_volumes_are_never_shared_across_nodes(
        rendered: RenderedProfile) -> None:
    single_node = rendered.plan.profile.node is not None
    pvc_modes = {p["metadata"]["name"]: p["spec"]["accessModes"]
                 for p in objs(rendered, "PersistentVolumeClaim")}
    users: dict[str, list[tuple[str, int]]] = {}
    for w in workloads(objs(rendered)):
        pod = pod_spec(w)
        assert pod is not None
        for vol in pod.get("volumes", []):
            claim = vol.get("persistentVolumeClaim", {}).get("claimName")
            if claim:
                users.setdefault(claim, []).append((w["metadata"]["name"],
                                                    max_replicas(rendered, w)))
    for claim, who in users.items():
        if "ReadWriteOnce" in pvc_modes[claim] and not single_node:
            assert len(who) == 1 and who[0][1] == 1, (claim, who)


def test_hpa_and_pdb_follow_the_profile(rendered: RenderedProfile) -> None:
    profile = rendered.plan.profile
    hpas = {h["metadata"]["name"]: h for h in objs(rendered, "HorizontalPodAutoscaler")}
    pdbs = {p["metadata"]["name"] for p in objs(rendered, "PodDisruptionBudget")}
    for sizing in profile.enabled_components():
        name = f"dify-{sizing.name}"
        if sizing.scaling.autoscale:
            spec = hpas[name]["spec"]
            assert (spec["minReplicas"], spec["maxReplicas"]) == (
                sizing.scaling.min_replicas, sizing.scaling.max_replicas)
        else:
            assert name not in hpas
        wants_pdb = profile.disruption.enabled and sizing.scaling.min_replicas >= 2
        assert (name in pdbs) == wants_pdb, name


def test_production_is_what_the_brief_asks(builtin_render: RenderResult) -> None:
    prod = next(p for p in builtin_render.profiles if p.plan.name == "production")
    hpa = by_name(prod, "HorizontalPodAutoscaler", "dify-api")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 10)
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    assert objs(prod, "PodDisruptionBudget")
    api = by_name(prod, "Deployment", "dify-api")
    anti = api["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    keys = {t["podAffinityTerm"]["topologyKey"]
            for t in anti["preferredDuringSchedulingIgnoredDuringExecution"]}
    assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    assert _config(prod, "dify-config")["STORAGE_TYPE"] == "s3"
    assert not objs(prod, "PersistentVolumeClaim"), "files must live in object storage"


def test_edge_fits_its_node(builtin_render: RenderResult) -> None:
    edge = next(p for p in builtin_render.profiles if p.plan.name == "edge")
    assert not objs(edge, "HorizontalPodAutoscaler")
    cpu = mem = Fraction(0)
    for w in workloads(objs(edge)):
        assert w["spec"].get("replicas", w["spec"].get("parallelism", 1)) == 1
        for c in containers(w):
            cpu += parse_quantity(c["resources"]["requests"]["cpu"])
            mem += parse_quantity(c["resources"]["requests"]["memory"])
    assert cpu <= Fraction(4) * Fraction(9, 10)
    assert mem <= 8 * 2**30 * Fraction(9, 10)
    classes = {t["spec"]["storageClassName"] for s in objs(edge, "StatefulSet")
               for t in s["spec"]["volumeClaimTemplates"]}
    assert classes == {"local-path"}


def test_every_hpa_stabilizes_scale_down_and_bounds_each_step(
        rendered: RenderedProfile) -> None:
    hpas = objs(rendered, "HorizontalPodAutoscaler")
    assert hpas or rendered.plan.name == "edge"
    for hpa in hpas:
        behavior = hpa["spec"]["behavior"]
        down = behavior["scaleDown"]
        assert down["stabilizationWindowSeconds"] >= 300, hpa["metadata"]["name"]
        assert down["selectPolicy"] == "Min"
        assert all(p["type"] == "Pods" and p["value"] == 1 for p in down["policies"])
        up = behavior["scaleUp"]
        assert up["policies"] and all(p["periodSeconds"] >= 60 for p in up["policies"])


def test_no_hpa_scales_a_python_process_on_memory(rendered: RenderedProfile) -> None:
    python_images = {COMPONENTS[n].image for n in COMPONENTS
                     if COMPONENTS[n].runtime == "python"}
    for hpa in objs(rendered, "HorizontalPodAutoscaler"):
        target = by_name(rendered, hpa["spec"]["scaleTargetRef"]["kind"],
                         hpa["spec"]["scaleTargetRef"]["name"])
        images = {c["image"].rsplit(":", 1)[0] for c in containers(target)}
        if not images & python_images:
            continue
        names = [m["resource"]["name"] for m in hpa["spec"]["metrics"]]
        assert "memory" not in names and "cpu" in names, hpa["metadata"]["name"]


def test_volume_claims_and_storage_in_the_quota_have_headroom(
        rendered: RenderedProfile) -> None:
    hard = objs(rendered, "ResourceQuota")[0]["spec"]["hard"]
    sizes = [parse_quantity(p["spec"]["resources"]["requests"]["storage"])
             for p in objs(rendered, "PersistentVolumeClaim")]
    for sts in objs(rendered, "StatefulSet"):
        for t in sts["spec"].get("volumeClaimTemplates", []):
            sizes += [parse_quantity(t["spec"]["resources"]["requests"]["storage"])] * int(
                sts["spec"]["replicas"])
    headroom = Fraction(100 + rendered.plan.profile.quota.headroom_percent, 100)
    assert int(hard["persistentvolumeclaims"]) >= len(sizes) * headroom > len(sizes)
    assert parse_quantity(hard["requests.storage"]) >= sum(sizes) * headroom


def test_edge_reserves_what_k3s_documents_for_a_server_with_a_workload(
        builtin_render: RenderResult) -> None:
    edge = next(p for p in builtin_render.profiles if p.plan.name == "edge")
    node = by_name(edge, "ConfigMap", "difygen-node")["data"]
    reserve = parse_quantity(node["memory"]) * int(node["reservedPercent"]) / 100
    # docs.k3s.io/reference/resource-profiling: 1596 M (SQLite), 30% of a Pi 4 core
    assert reserve >= 1596 * 10**6
    assert parse_quantity(node["cpu"]) * int(node["reservedPercent"]) / 100 >= Fraction(3, 10)


# ---------------------------------------------------------------------------- wiring
# Properties from Dify 1.16.1's own sources (issue 9), read off the built objects.

LOOPBACK = ("127.", "localhost", "[::1]", "0.0.0.0")
BROWSER_FACING = ("CONSOLE_API_URL", "APP_API_URL", "CONSOLE_WEB_URL", "APP_WEB_URL",
                  "SERVICE_API_URL", "FILES_URL", "TRIGGER_URL", "NEXT_PUBLIC_SOCKET_URL")


def env_of(rendered: RenderedProfile, c: Obj) -> dict[str, str]:
    """A container's literal env, with its envFrom ConfigMaps (Secrets are unknowable)."""
    out: dict[str, str] = {}
    for ref in c.get("envFrom", []):
        name = ref.get("configMapRef", {}).get("name")
        if name:
            out.update(_config(rendered, name))
    for e in c.get("env", []):
        if "value" in e:
            out[e["name"]] = e["value"]
    return out


def first(workload: Obj) -> Obj:
    c: Obj = next(iter(containers(workload)))
    return c


def workload_named(rendered: RenderedProfile, name: str) -> Obj:
    return next(w for w in workloads(objs(rendered)) if w["metadata"]["name"] == name)


def test_no_browser_facing_url_points_at_loopback(rendered: RenderedProfile) -> None:
    seen = 0
    for w in workloads(objs(rendered)):
        for c in containers(w):
            env = env_of(rendered, c)
            for name in BROWSER_FACING:
                if name in env:
                    seen += 1
                    assert not any(bad in env[name] for bad in LOOPBACK), (
                        w["metadata"]["name"], name, env[name])
    assert seen


def test_web_calls_the_api_on_the_same_origin_or_the_public_url(
        rendered: RenderedProfile) -> None:
    web = first(workload_named(rendered, "dify-web"))
    env = env_of(rendered, web)
    public = rendered.plan.profile.public_url
    # The image bakes http://127.0.0.1:5001; both must be set, empty for the same origin.
    assert env["CONSOLE_API_URL"] == public and env["APP_API_URL"] == public
    assert env["SERVER_CONSOLE_API_URL"] == "http://dify-api:5001"
    websocket = rendered.plan.profile.components["api-websocket"].enabled
    if websocket:
        assert env["NEXT_PUBLIC_SOCKET_URL"].startswith(("ws://", "wss://"))
        assert env["NEXT_PUBLIC_SOCKET_URL"].split("://")[1] == public.split("://")[1]
    else:
        assert "NEXT_PUBLIC_SOCKET_URL" not in env
    agents = rendered.plan.profile.components["agent-backend"].enabled
    assert (env.get("NEXT_PUBLIC_ENABLE_AGENT_V2") == "true") == agents


def test_api_public_urls_follow_the_one_setting(rendered: RenderedProfile) -> None:
    cfg = _config(rendered, "dify-config")
    public = rendered.plan.profile.public_url
    for name in ("CONSOLE_WEB_URL", "CONSOLE_API_URL", "SERVICE_API_URL", "APP_WEB_URL",
                 "APP_API_URL", "FILES_URL"):
        assert cfg[name] == public, name
    assert cfg["INTERNAL_FILES_URL"] == "http://dify-api:5001"


def test_agent_tier_is_wired(rendered: RenderedProfile) -> None:
    backend = env_of(rendered, first(workload_named(rendered, "dify-agent-backend")))
    assert backend["DIFY_AGENT_LOCAL_SANDBOX_ENDPOINT"] == "http://dify-local-sandbox:5004"
    assert "DIFY_AGENT_LOCAL_SANDBOX_URL" not in backend
    assert backend["DIFY_AGENT_INNER_API_URL"] == "http://dify-api:5001"
    assert backend["DIFY_AGENT_STUB_API_BASE_URL"] == (
        "http://dify-agent-backend:5050/agent-stub")
    sandbox_w = workload_named(rendered, "dify-local-sandbox")
    sandbox = env_of(rendered, first(sandbox_w))
    assert sandbox["HTTP_PROXY"] == sandbox["HTTPS_PROXY"] == "http://dify-agent-ssrf-proxy:3128"
    assert sandbox["NO_PROXY"] == "localhost,127.0.0.1"
    # The image's user comes from `useradd dify` without -u: uid 1000.
    assert pod_spec(sandbox_w)["securityContext"]["runAsUser"] == 1000
    proxy = workload_named(rendered, "dify-agent-ssrf-proxy")
    conf = _config(rendered, "dify-agent-ssrf-proxy-config")["squid.conf"]
    assert "urlpath_regex -i ^/agent-stub/" in conf and "urlpath_regex -i ^/files/" in conf
    assert "dify-agent-backend" in conf and "dify-api" in conf
    allow_stub = conf.index("path_agent_stub\n")
    assert allow_stub < conf.index("http_access deny to_private_networks")
    assert [p["containerPort"] for p in first(proxy)["ports"]] == [3128]


def _service_ports(rendered: RenderedProfile) -> set[tuple[str, int]]:
    return {(svc["metadata"]["name"], p["port"]) for svc in objs(rendered, "Service")
            for p in svc["spec"]["ports"]}


def test_every_host_port_the_config_reaches_is_a_rendered_service(
        rendered: RenderedProfile) -> None:
    import re

    ports = _service_ports(rendered)
    url = re.compile(r"(?:https?|grpc|wss?)://(dify-[a-z0-9-]+):([0-9]+)")
    reached: set[tuple[str, int]] = set()
    for cm in objs(rendered, "ConfigMap"):
        for value in cm.get("data", {}).values():
            reached |= {(h, int(p)) for h, p in url.findall(value)}
            for h, p in re.findall(r"cache_peer (dify-[a-z0-9-]+) parent ([0-9]+)", value):
                reached.add((h, int(p)))
    for w in workloads(objs(rendered)):
        for c in containers(w):
            env = env_of(rendered, c)
            for value in env.values():
                reached |= {(h, int(p)) for h, p in url.findall(value)}
            for host_key, port_key in (("DB_HOST", "DB_PORT"), ("REDIS_HOST", "REDIS_PORT")):
                if host_key in env:
                    reached.add((env[host_key], int(env[port_key])))
    assert reached
    assert reached <= ports, reached - ports


def test_squid_configs_match_upstream(rendered: RenderedProfile) -> None:
    for name in ("dify-ssrf-proxy-config", "dify-agent-ssrf-proxy-config"):
        conf = _config(rendered, name)["squid.conf"]
        assert "client_request_buffer_max_size 100 MB" in conf
        assert "acl localnet src 100.64.0.0/10" in conf
        for net in ("0.0.0.0/8", "224.0.0.0/4", "::ffff:0:0/96", "169.254.0.0/16",
                    "100.64.0.0/10", "127.0.0.0/8"):
            assert f"acl to_private_networks dst {net}" in conf, (name, net)
        assert conf.rstrip().endswith("http_access deny all")


def test_migrations_run_in_a_job_before_the_rollout(rendered: RenderedProfile) -> None:
    jobs = objs(rendered, "Job")
    assert len(jobs) == 1
    job = jobs[0]
    c = first(job)
    env = {e["name"]: e["value"] for e in c["env"]}
    assert env == {"MODE": "migration", "MIGRATION_ENABLED": "true"}
    assert c["image"] == rendered.plan.image("api")
    tag = rendered.plan.profile.images.tag("api").replace(".", "-")
    assert job["metadata"]["name"].startswith(f"dify-migrate-{tag}-")
    ann = job["metadata"]["annotations"]
    assert ann["argocd.argoproj.io/hook"] == "Sync"
    assert int(ann["argocd.argoproj.io/sync-wave"]) < 0
    waves = {(o["kind"], o["metadata"]["name"]): int(o["metadata"].get("annotations", {}).get(
        "argocd.argoproj.io/sync-wave", "0")) for o in objs(rendered)}
    job_wave = int(ann["argocd.argoproj.io/sync-wave"])
    # What the migration needs comes before it; every workload of Dify after it.
    for key in (("StatefulSet", "dify-postgres"), ("StatefulSet", "dify-redis"),
                ("ConfigMap", "dify-config"), ("ServiceAccount", "dify-api")):
        assert waves[key] < job_wave, key
    for w in objs(rendered, "Deployment"):
        assert waves[("Deployment", w["metadata"]["name"])] > job_wave
    # The api itself never migrates.
    assert _config(rendered, "dify-config")["MIGRATION_ENABLED"] == "false"
    for w in workloads(objs(rendered)):
        if w["kind"] != "Job":
            assert env_of(rendered, first(w)).get("MIGRATION_ENABLED") != "true"


def test_redis_never_evicts_the_broker(rendered: RenderedProfile) -> None:
    redis = first(workload_named(rendered, "dify-redis"))
    env = env_of(rendered, redis)
    args = redis["args"]
    policy = args[args.index("--maxmemory-policy") + 1].replace(
        "$(REDIS_MAXMEMORY_POLICY)", env.get("REDIS_MAXMEMORY_POLICY", ""))
    assert policy in ("noeviction", "volatile-lru", "volatile-lfu", "volatile-random")
    assert "--maxmemory" in args


def test_grace_periods_cover_the_timeouts(rendered: RenderedProfile) -> None:
    cfg = _config(rendered, "dify-config")
    gunicorn = int(cfg["GUNICORN_TIMEOUT"])
    assert cfg["GUNICORN_CMD_ARGS"] == f"--graceful-timeout {gunicorn}"
    api = workload_named(rendered, "dify-api")
    spec = pod_spec(api)
    pre_stop = int(first(api)["lifecycle"]["preStop"]["exec"]["command"][1])
    assert spec["terminationGracePeriodSeconds"] > gunicorn + pre_stop
    worker = pod_spec(workload_named(rendered, "dify-worker"))
    assert worker["terminationGracePeriodSeconds"] > int(cfg["APP_MAX_EXECUTION_TIME"])
    for name in ("dify-web", "dify-nginx"):
        w = workload_named(rendered, name)
        assert "preStop" in first(w)["lifecycle"]
        assert pod_spec(w)["terminationGracePeriodSeconds"] > 30
    live = first(api)["livenessProbe"]
    # Lenient: a busy api (all gevent connections streaming) is not killed for a slow
    # /health; at least a minute of failures before a restart.
    assert live["timeoutSeconds"] >= 10
    assert live["periodSeconds"] * live["failureThreshold"] >= 60


def test_stateful_components_are_guaranteed_qos(rendered: RenderedProfile) -> None:
    for sts in objs(rendered, "StatefulSet"):
        for c in containers(sts):
            res = c["resources"]
            for key in ("cpu", "memory"):
                assert parse_quantity(res["requests"][key]) == parse_quantity(
                    res["limits"][key]), (sts["metadata"]["name"], key)


def test_stateful_runtime_settings(rendered: RenderedProfile) -> None:
    weaviate = first(workload_named(rendered, "dify-weaviate"))
    env = env_of(rendered, weaviate)
    limit = parse_quantity(weaviate["resources"]["limits"]["memory"])
    gomem = parse_quantity(env["GOMEMLIMIT"].replace("MiB", "Mi"))
    assert Fraction(8, 10) * limit <= gomem <= Fraction(9, 10) * limit
    assert int(env["GOMAXPROCS"]) >= 1
    pg = workload_named(rendered, "dify-postgres")
    shm = next(v for v in pod_spec(pg)["volumes"] if v["name"] == "dshm")
    assert shm["emptyDir"]["medium"] == "Memory"
    assert {"name": "dshm", "mountPath": "/dev/shm"} in first(pg)["volumeMounts"]
    cfg = _config(rendered, "dify-postgres-config")
    mib = parse_quantity(first(pg)["resources"]["limits"]["memory"]) / 2**20
    shared = int(cfg["POSTGRES_SHARED_BUFFERS"].removesuffix("MB"))
    work = int(cfg["POSTGRES_WORK_MEM"].removesuffix("MB"))
    conns = int(cfg["POSTGRES_MAX_CONNECTIONS"])
    # Per-operation memory comes out of what shared_buffers leaves.
    assert shared + work * conns <= mib


def test_web_root_filesystem_is_read_only(rendered: RenderedProfile) -> None:
    web = workload_named(rendered, "dify-web")
    c = first(web)
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert {"/tmp", "/app/web/.next/cache"} <= mounts
    assert env_of(rendered, c)["PM2_HOME"].startswith("/tmp/")
