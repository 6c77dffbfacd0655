"""The generated values through the real community chart (`helm lint --strict` and
`helm template`), local only.

CI cannot reach the chart repositories, so this runs where a developer has the chart with
its subcharts unpacked: set DIFYGEN_HELM_CHART to that directory, and put helm on PATH or
point DIFYGEN_HELM at the binary. docs/helm.md says how the chart was assembled and which
helm was used. Without them every test here is skipped, and the skip says why.

Every built-in profile, every file in docs/examples/profiles/ and the test profiles below
go through the chart together with a secrets file built from the table in docs/helm.md
(what the README's `helm upgrade` passes as `-f secrets.yaml`).
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_helm_values import DIFY_KEYS, TEST_PROFILES, builtin_names, resources_of

from generator.catalog import COMPONENTS
from generator.helm_merge import check as check_helm_values
from generator.helm_merge import merge
from generator.k8s_schemas import schema_set
from generator.profile_load import ProfileRef, find
from generator.render import RenderedProfile, render
from generator.rules.base import ERROR, Finding
from generator.targets.helm import CHART_APP_VERSION, CHART_VERSION, values_path
from generator.validate import validate_manifests
from generator.versions import DEFAULT_KUBERNETES_VERSION
from tests.conftest import REPO

Obj = dict[str, Any]
RELEASE = "dify"
EXAMPLES = REPO / "docs" / "examples" / "profiles"
HELM_DOC = REPO / "docs" / "helm.md"
# The subchart versions the chart pins (its Chart.lock); docs/helm.md names them.
SUBCHARTS = {"postgresql": "12.5.6", "redis": "16.13.2", "weaviate": "17.3.3"}
# the Kubernetes version difygen targets, for the chart's Capabilities checks
KUBE_VERSION = f"{DEFAULT_KUBERNETES_VERSION}.0"
REGISTRY = "registry.example.com/mirror"
PULL_SECRETS = ["regcred", "backup-cred"]

# Profiles only this test renders: a mirror registry, and every external backend the
# examples do not cover, each to be wired through the chart's own keys.
CHART_PROFILES: dict[str, str] = {
    "mirror": f"""\
extends: production
publicUrl: https://dify.example.com
images:
  registry: {REGISTRY}
  pullSecrets: [{", ".join(PULL_SECRETS)}]
""",
    "ext-azure-sentinel": """\
extends: production
database:
  external: {host: pg.example.com, username: dify, maxConnections: 2000, sslMode: verify-full}
redis:
  external:
    sentinel: {masterName: dify, nodes: ["s1.example.com:26379", "s2.example.com:26379"]}
    db: 3
vectorDatabase:
  external: {endpoint: https://weaviate.example.com, grpcEndpoint: grpcs://weaviate.example.com:443}
fileStorage:
  backend: azure-blob
  azureBlob: {accountName: difyfiles, container: dify}
""",
    "ext-oss-pgvector": """\
extends: production
database:
  external: {host: pgbouncer.db.example.com, port: 6432, maxConnections: 2000, sslMode: disable}
redis:
  external: {host: redis.example.com, tls: true}
vectorDatabase:
  type: pgvector
  external: {host: vectors.example.com, database: dify_vectors, username: vec}
fileStorage:
  backend: aliyun-oss
  aliyunOss: {endpoint: https://oss-cn-hangzhou.aliyuncs.com, bucket: dify-files,
              region: cn-hangzhou, path: dify/}
""",
    "ext-data-weaviate-inside": """\
extends: small
database:
  external: {host: pg.example.com, maxConnections: 500, sslMode: require}
redis:
  external: {host: redis.example.com}
fileStorage:
  backend: s3
  s3: {endpoint: "https://minio.example.com", bucket: dify, addressingStyle: path}
""",
    "ext-s3-qdrant": """\
extends: production
database:
  external: {host: pg.example.com, maxConnections: 2000, sslMode: require}
redis:
  external: {host: redis.example.com, port: 6380}
vectorDatabase:
  type: qdrant
  external: {endpoint: https://qdrant.example.com:6333, grpcPort: 6334}
""",
}


# ---------------------------------------------------------------------------- setup


def _chart() -> Path:
    chart = os.environ.get("DIFYGEN_HELM_CHART")
    if not chart:
        pytest.skip("set DIFYGEN_HELM_CHART to an unpacked dify chart (with its charts/ "
                    "subcharts) to run helm lint and helm template; see docs/helm.md")
    path = Path(chart)
    if not (path / "Chart.yaml").is_file():
        pytest.skip(f"DIFYGEN_HELM_CHART={chart} has no Chart.yaml")
    return path


def _helm() -> str:
    helm = os.environ.get("DIFYGEN_HELM") or shutil.which("helm")
    if not helm:
        pytest.skip("no helm binary: put helm on PATH or set DIFYGEN_HELM")
    return helm


@pytest.fixture(scope="module")
def chart() -> Path:
    return _chart()


@pytest.fixture(scope="module")
def helm() -> str:
    return _helm()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("helm-chart")


def example_ids() -> list[str]:
    """Every example profile, picked up from the directory (a new file is tested too)."""
    return [f"example:{p.stem}" for p in sorted(EXAMPLES.glob("*.yaml"))]


def all_ids() -> list[str]:
    return [*builtin_names(), *example_ids(), *TEST_PROFILES, *CHART_PROFILES]


def _ref(name: str, work: Path) -> ProfileRef:
    if name.startswith("example:"):
        return find(name.removeprefix("example:"), EXAMPLES)
    texts = {**TEST_PROFILES, **CHART_PROFILES}
    if name in texts:
        directory = work / "profiles"
        directory.mkdir(exist_ok=True)
        (directory / f"{name}.yaml").write_text(texts[name], encoding="utf-8")
        return find(name, directory)
    return find(name)


@cache
def _rendered(name: str, work: Path) -> tuple[RenderedProfile, str]:
    """The profile rendered by difygen: its plan and overlay, and its values file text."""
    result = render([_ref(name, work)])
    profile = result.profiles[0]
    return profile, result.files[values_path(profile.plan.name)]


def _set(tree: Obj, dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[leaf] = value


def documented_secret_keys() -> list[str]:
    """The values keys of the secrets table in docs/helm.md (one key per row)."""
    text = HELM_DOC.read_text(encoding="utf-8")
    section = text.split("## Secrets", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Za-z0-9_.]+)` \|", section, flags=re.M)


def _secrets_values() -> Obj:
    """A secrets file with a fresh marker for every documented key."""
    out: Obj = {}
    for dotted in documented_secret_keys():
        leaf = dotted.rsplit(".", 1)[-1]
        if leaf == "serverSecretKey":  # the chart checks it: base64url of 32 bytes
            value: Any = base64.urlsafe_b64encode(b"difygen-test-".ljust(32, b"k")).decode()
            value = value.rstrip("=")
        elif leaf == "allowed_keys":
            value = [f"test-{dotted}"]
        else:
            value = f"test-{dotted}"
        _set(out, dotted, value)
    return out


def _helm_env(work: Path) -> dict[str, str]:
    # Helm's own state stays in the test's directory (no repositories are read).
    return {**os.environ, "HELM_CACHE_HOME": str(work / "cache"),
            "HELM_CONFIG_HOME": str(work / "config"), "HELM_DATA_HOME": str(work / "data")}


def _files(name: str, work: Path, with_secrets: bool = True) -> list[str]:
    profile, text = _rendered(name, work)
    values = work / f"{profile.plan.name}.values.yaml"
    values.write_text(text, encoding="utf-8")
    args = ["-f", str(values)]
    if with_secrets:
        secrets = work / "secrets.yaml"
        secrets.write_text(yaml.safe_dump(_secrets_values()), encoding="utf-8")
        args += ["-f", str(secrets)]
    return args


def _run(helm: str, args: list[str], work: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([helm, *args], capture_output=True, text=True,
                          env=_helm_env(work), timeout=300, check=False)


_TEMPLATES: dict[tuple[str, bool, str], list[Obj]] = {}


def _template(helm: str, chart: Path, work: Path, name: str,
              with_secrets: bool = True) -> list[Obj]:
    key = (name, with_secrets, str(work))
    if key not in _TEMPLATES:
        plan = _rendered(name, work)[0].plan
        result = _run(helm, ["template", RELEASE, str(chart), "--namespace",
                             plan.profile.namespace, "--kube-version", KUBE_VERSION,
                             *_files(name, work, with_secrets)], work)
        assert result.returncode == 0, result.stderr
        _TEMPLATES[key] = [d for d in yaml.safe_load_all(result.stdout) if d]
    return _TEMPLATES[key]


def _is_test_hook(doc: Obj) -> bool:
    return (doc["metadata"].get("annotations") or {}).get("helm.sh/hook") == "test"


def _pods(docs: list[Obj]) -> list[tuple[Obj, Obj]]:
    return [(d, d["spec"]["template"]["spec"]) for d in docs
            if d["kind"] in ("Deployment", "StatefulSet", "Job")]


# components the chart deploys (the Dify ones and its three subcharts)
CHART_WORKLOADS = {*DIFY_KEYS, "postgres", "redis", "weaviate"}


def _workload_name(name: str) -> str:
    """The workload the chart renders for each component, for release "dify"."""
    special = {"worker-beat": "dify-beat", "nginx": "dify-proxy",
               "postgres": "dify-postgresql", "redis": "dify-redis-master",
               "weaviate": "weaviate"}
    return special.get(name, f"dify-{name}")


# ---------------------------------------------------------------------------- the chart


def test_chart_is_the_version_checked_against(chart: Path) -> None:
    meta = yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8"))
    assert (meta["version"], str(meta["appVersion"])) == (CHART_VERSION, CHART_APP_VERSION)
    pinned = {d["name"]: d["version"] for d in meta["dependencies"]}
    assert pinned == SUBCHARTS
    for sub, version in SUBCHARTS.items():
        path = chart / "charts" / sub / "Chart.yaml"
        assert path.is_file(), f"{sub} is not unpacked under charts/ (see docs/helm.md)"
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["version"] == version


def test_every_example_profile_is_tested() -> None:
    assert len(example_ids()) >= 2
    assert "example:managed-services" in example_ids()


@pytest.mark.slow
@pytest.mark.parametrize("name", all_ids())
def test_helm_lint_strict_passes(name: str, chart: Path, helm: str, work: Path) -> None:
    result = _run(helm, ["lint", "--strict", "--with-subcharts", "--kube-version",
                         KUBE_VERSION, str(chart), *_files(name, work)], work)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "0 chart(s) failed" in output
    assert not re.search(r"^\[(ERROR|WARNING)\]", output, flags=re.M), output


@pytest.mark.slow
@pytest.mark.parametrize("name", all_ids())
def test_chart_renders_our_sizing(name: str, chart: Path, helm: str, work: Path) -> None:
    profile, _ = _rendered(name, work)
    plan = profile.plan
    docs = _template(helm, chart, work, name)
    workloads = {d["metadata"]["name"]: d for d in docs
                 if d["kind"] in ("Deployment", "StatefulSet")}
    carried = [(c, s) for c, s in plan.components() if c.name in CHART_WORKLOADS]
    assert set(workloads) == {_workload_name(c.name) for c, _ in carried}
    for comp, _ in plan.components():  # the chart has no slot for the rest: said so
        if comp.name not in CHART_WORKLOADS:
            assert any(g.startswith(f"{comp.name}: the chart")
                       for g in profile.helm_gaps), comp.name
    for comp, sizing in carried:
        workload = workloads[_workload_name(comp.name)]
        pod = workload["spec"]["template"]["spec"]
        main = pod["containers"][0]
        assert main["resources"] == resources_of(sizing), comp.name
        assert "livenessProbe" in main and "readinessProbe" in main, comp.name
        if sizing.probes.startup is not None:
            assert "startupProbe" in main, comp.name
        for container in pod.get("initContainers", []) + pod["containers"]:
            assert not container.get("securityContext", {}).get("privileged"), comp.name
        ctx = {**pod.get("securityContext", {}), **main.get("securityContext", {})}
        exception = COMPONENTS[comp.name].security.exception
        if exception is not None and exception.run_as_root:
            assert ctx.get("runAsUser") == 0 and ctx.get("allowPrivilegeEscalation") is False
            assert main["securityContext"]["capabilities"]["drop"] == ["ALL"]
        else:
            assert ctx.get("runAsNonRoot") is True, comp.name
            assert ctx.get("runAsUser", 0) != 0, comp.name
            assert ctx.get("allowPrivilegeEscalation") is False, comp.name
        if comp.name in DIFY_KEYS and sizing.scaling.autoscale is False:
            assert workload["spec"]["replicas"] == sizing.scaling.min_replicas, comp.name


@pytest.mark.slow
@pytest.mark.parametrize("name", all_ids())
def test_chart_renders_derived_settings(name: str, chart: Path, helm: str,
                                        work: Path) -> None:
    plan = _rendered(name, work)[0].plan
    docs = _template(helm, chart, work, name)
    configs = {d["metadata"]["name"]: d.get("data", {}) for d in docs
               if d["kind"] == "ConfigMap"}
    if plan.profile.components["postgres"].enabled:
        pg = configs[f"{RELEASE}-postgresql-extended-configuration"]["override.conf"]
        assert f"max_connections = {plan.tunables.postgres_max_connections}" in pg
    if plan.profile.components["redis"].enabled:
        redis = configs[f"{RELEASE}-redis-configuration"]["redis.conf"]
        assert f"maxmemory {plan.tunables.redis_maxmemory_mb}mb" in redis
    env = _container_env(docs, f"{RELEASE}-api")
    assert env["SQLALCHEMY_POOL_SIZE"] == str(plan.tunables.sqlalchemy_pool_size)
    hpas = {d["metadata"]["name"]: d for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    for comp, sizing in plan.components():
        key = DIFY_KEYS.get(comp.name)
        if key in ("api", "worker", "web", "sandbox") and sizing.scaling.autoscale:
            spec = hpas[_workload_name(comp.name)]["spec"]
            assert (spec["minReplicas"], spec["maxReplicas"]) == (
                sizing.scaling.min_replicas, sizing.scaling.max_replicas)
            names = sorted(m["resource"]["name"] for m in spec["metrics"])
            want = sorted(n for n, p in (("cpu", sizing.scaling.target_cpu_percent),
                                         ("memory", sizing.scaling.target_memory_percent))
                          if p is not None)
            assert names == want, comp.name


# ---------------------------------------------------------------------------- hardening


@pytest.mark.slow
@pytest.mark.parametrize("name", all_ids())
def test_pods_mount_no_service_account_token(name: str, chart: Path, helm: str,
                                             work: Path) -> None:
    profile, _ = _rendered(name, work)
    docs = _template(helm, chart, work, name)
    accounts = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ServiceAccount"}
    without_own_account = []
    for workload, pod in _pods(docs):
        account = pod.get("serviceAccountName")
        if account is None:
            without_own_account.append(workload["metadata"]["name"])
            continue
        assert accounts[account]["automountServiceAccountToken"] is False, account
        assert pod.get("automountServiceAccountToken") is not True, account
    # Only these run as the namespace's default account, and difygen says so.
    allowed = {"weaviate"} | {d["metadata"]["name"] for d in docs
                              if d["kind"] == "Job" and _is_test_hook(d)}
    assert set(without_own_account) <= allowed
    gaps = " ".join(profile.helm_gaps)
    if "weaviate" in without_own_account:
        assert "weaviate: the Weaviate subchart creates no service account" in gaps
    if set(without_own_account) - {"weaviate"}:
        assert "helm test" in gaps


@pytest.mark.slow
def test_registry_and_pull_secrets_reach_every_image(chart: Path, helm: str,
                                                     work: Path) -> None:
    docs = _template(helm, chart, work, "mirror")
    pods = _pods(docs)
    assert {w["metadata"]["name"] for w, _ in pods} >= {
        "dify-api", "dify-postgresql", "dify-redis-master", "weaviate"}
    for workload, pod in pods:
        for container in pod.get("initContainers", []) + pod["containers"]:
            assert container["image"].startswith(REGISTRY + "/"), (
                workload["metadata"]["name"], container["image"])
        if not _is_test_hook(workload):  # the chart's test Jobs take no pull Secrets
            names = [s["name"] for s in pod.get("imagePullSecrets", [])]
            assert names == PULL_SECRETS, workload["metadata"]["name"]
    # the public URLs survive beside the registry in `global`
    assert _config(docs, "dify-api")["CONSOLE_API_URL"] == "https://dify.example.com"


# ---------------------------------------------------------------------------- wiring


def _config(docs: list[Obj], name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in docs:
        if d["metadata"]["name"] != name:
            continue
        if d["kind"] == "ConfigMap":
            out.update(d.get("data") or {})
        elif d["kind"] == "Secret":
            out.update({k: base64.b64decode(v).decode() for k, v in
                        (d.get("data") or {}).items()})
    return out


def _container_env(docs: list[Obj], workload: str) -> dict[str, Any]:
    dep = next(d for d in docs if d["kind"] == "Deployment"
               and d["metadata"]["name"] == workload)
    return {e["name"]: e.get("value", e.get("valueFrom"))
            for e in dep["spec"]["template"]["spec"]["containers"][0].get("env", [])}


def _chart_env(docs: list[Obj], workload: str) -> dict[str, Any]:
    """What the container sees: ConfigMap and Secret (envFrom), then its own env."""
    return {**_config(docs, workload), **_container_env(docs, workload)}


def _overlay_env(profile: RenderedProfile, config: str, workload: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for obj in profile.overlay.objects:
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == config:
            out.update(obj["data"])
    dep = next(o for o in profile.overlay.objects
               if o["kind"] == "Deployment" and o["metadata"]["name"] == workload)
    for e in dep["spec"]["template"]["spec"]["containers"][0].get("env", []):
        out[e["name"]] = e.get("value", e.get("valueFrom"))
    return out


# env that wires Dify and the plugin daemon to their services and storage
WIRING = re.compile(r"^(DB_|REDIS_|CELERY_(BROKER|USE_SENTINEL|SENTINEL)|VECTOR_STORE|"
                    r"WEAVIATE_|QDRANT_|PGVECTOR_|STORAGE_TYPE|S3_|AZURE_|ALIYUN_|GOOGLE_|"
                    r"GCS_|PLUGIN_STORAGE_(TYPE|OSS_BUCKET))")
# Settings the chart leaves unset where the overlay writes the value the reader assumes
# when the variable is absent (so both run the same): the daemon's DB_SSL_MODE, and the
# plain-Redis port and TLS flag, which Dify ignores with Sentinel.
UNSET_SAME_AS = {"DB_SSL_MODE": "disable", "REDIS_PORT": "6379", "REDIS_USE_SSL": "false"}
# env that names an in-cluster service (the chart's Service names differ from the overlay's)
IN_CLUSTER_ENV = {"postgres": ("DB_",), "redis": ("REDIS_", "CELERY_"),
                  "weaviate": ("WEAVIATE_",)}
# (overlay ConfigMap, overlay Deployment, chart workload)
WIRED = (("dify-config", "dify-api", "dify-api"),
         ("dify-config", "dify-worker", "dify-worker"),
         ("dify-plugin-daemon-config", "dify-plugin-daemon", "dify-plugin-daemon"))


def external_ids() -> list[str]:
    return [n for n in [*example_ids(), *CHART_PROFILES] if n == "example:managed-services"
            or n.startswith("ext-")]


@pytest.mark.slow
@pytest.mark.parametrize("name", external_ids())
def test_external_services_are_wired_like_the_overlay(name: str, chart: Path, helm: str,
                                                      work: Path) -> None:
    profile, _ = _rendered(name, work)
    docs = _template(helm, chart, work, name)
    # nothing is left of an in-cluster Postgres, Redis or Weaviate the profile replaced
    names = {d["metadata"]["name"] for d in docs}
    sets = {d["metadata"]["name"] for d in docs if d["kind"] == "StatefulSet"}
    for comp, prefix in (("postgres", "dify-postgresql"), ("redis", "dify-redis"),
                         ("weaviate", "weaviate")):
        if not profile.plan.profile.components[comp].enabled:
            assert not {n for n in names if n.startswith(prefix)}, comp
        else:
            assert {n for n in sets if n.startswith(prefix)}, comp
    # the chart names its in-cluster services its own way: compare the external ones
    inside = tuple(p for comp, prefixes in IN_CLUSTER_ENV.items()
                   if profile.plan.profile.components[comp].enabled for p in prefixes)
    compared = 0
    for config, deployment, workload in WIRED:
        ours = _overlay_env(profile, config, deployment)
        theirs = _chart_env(docs, workload)
        for key_, value in ours.items():
            if not WIRING.match(key_) or key_.startswith(inside):
                continue
            if isinstance(value, dict):  # a Secret reference: the chart has its own Secret
                assert key_ in theirs, f"{workload}: {key_} (a Secret key) is not set"
                continue
            got = theirs.get(key_, UNSET_SAME_AS.get(key_))
            assert got == value, f"{workload}: {key_} is {got!r}, the overlay has {value!r}"
            compared += 1
    assert compared > 10


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in all_ids() if n.startswith("example:")])
def test_ingress_with_tls_when_the_profile_has_one(name: str, chart: Path, helm: str,
                                                   work: Path) -> None:
    spec = _rendered(name, work)[0].plan.profile.ingress
    docs = _template(helm, chart, work, name)
    ingresses = [d for d in docs if d["kind"] == "Ingress"]
    if not (spec.enabled and spec.hosts):
        assert not ingresses
        return
    (ingress,) = ingresses
    rules = ingress["spec"]["rules"]
    assert [r["host"] for r in rules] == list(spec.hosts)
    for rule in rules:
        backend = rule["http"]["paths"][0]["backend"]["service"]
        assert backend["name"] == RELEASE  # the chart's Service in front of its nginx
    if spec.tls_secret:
        assert ingress["spec"]["tls"] == [{"hosts": list(spec.hosts),
                                           "secretName": spec.tls_secret}]
    if spec.class_name:
        assert ingress["spec"]["ingressClassName"] == spec.class_name


# ---------------------------------------------------------------------------- secrets


# Secret entries that are no secret, or belong to a feature no profile turns on.
NOT_SECRETS = {"DB_USERNAME", "REDIS_USERNAME", "PGVECTOR_USER",
               "RESEND_API_KEY"}  # mail: no profile configures it


@pytest.mark.slow
@pytest.mark.parametrize("name", [*builtin_names(), *example_ids(), *CHART_PROFILES])
def test_documented_secrets_replace_every_chart_default(name: str, chart: Path, helm: str,
                                                        work: Path) -> None:
    plain = _template(helm, chart, work, name, with_secrets=False)
    ours = _template(helm, chart, work, name, with_secrets=True)

    def secrets(docs: list[Obj]) -> dict[tuple[str, str], str]:
        return {(d["metadata"]["name"], k): v for d in docs if d["kind"] == "Secret"
                for k, v in (d.get("data") or {}).items() if k not in NOT_SECRETS}

    before, after = secrets(plain), secrets(ours)
    assert before, "the chart renders no Secret"
    unchanged = sorted(f"{s}/{k}" for (s, k), v in before.items() if after.get((s, k)) == v)
    assert not unchanged, ("the chart's default stays in these Secret keys: add the values "
                           f"key to the table in docs/helm.md: {unchanged}")


# ---------------------------------------------------------------------------- the trap


USER_VALUES = """\
api:
  extraEnv:
    - name: LANG
      value: C.UTF-8
  replicas: 5
web:
  extraEnv: null
labels:
  team: ai
"""


def _without_random(docs: list[Obj]) -> list[Obj]:
    """The Weaviate subchart draws fresh basic-auth credentials at every render."""
    return [d for d in docs if not (d["kind"] == "Secret"
                                    and d["metadata"]["name"].endswith("-basic-auth"))]


@pytest.mark.slow
def test_helm_merges_values_files_like_validate_helm_values(chart: Path, helm: str,
                                                            work: Path) -> None:
    """The model behind `validate --helm-values` is Helm's own: two -f files render what
    difygen's merge of them renders, and the dropped derived env is reported."""
    profile, text = _rendered("production", work)
    ours, user = work / "ours.yaml", work / "user.yaml"
    ours.write_text(text, encoding="utf-8")
    user.write_text(USER_VALUES, encoding="utf-8")
    merged = work / "merged.yaml"
    merged.write_text(yaml.safe_dump(merge(yaml.safe_load(text), yaml.safe_load(USER_VALUES))),
                      encoding="utf-8")
    base = ["template", RELEASE, str(chart), "--namespace", profile.plan.profile.namespace]
    two = _run(helm, [*base, "-f", str(ours), "-f", str(user)], work)
    one = _run(helm, [*base, "-f", str(merged)], work)
    assert two.returncode == 0 and one.returncode == 0, two.stderr + one.stderr
    docs = [d for d in yaml.safe_load_all(two.stdout) if d]
    assert _without_random(docs) == _without_random(
        [d for d in yaml.safe_load_all(one.stdout) if d])
    env = _container_env(docs, f"{RELEASE}-api")
    assert env["LANG"] == "C.UTF-8"
    assert "SQLALCHEMY_POOL_SIZE" not in env  # the trap, for real
    findings = check_helm_values([ours, user]).findings
    assert any(f.path == "api.extraEnv" and "SQLALCHEMY_POOL_SIZE" in f.message
               for f in findings)
    assert any(f.path == "web.extraEnv" for f in findings)


def test_secrets_table_is_parsed() -> None:
    keys = documented_secret_keys()
    assert "global.appSecretKey" in keys and "externalOSS.secretKey" in keys
    assert len(keys) == len(set(keys)) >= 20


@pytest.mark.slow
@pytest.mark.parametrize("name", all_ids())
def test_chart_output_passes_strict_kubernetes_schemas(name: str, chart: Path, helm: str,
                                                       work: Path) -> None:
    """What the chart renders from our values is valid Kubernetes (strict, pinned schemas):
    probes, security contexts and volumes we hand it keep their shape."""
    docs = _template(helm, chart, work, name)
    schemas = schema_set(DEFAULT_KUBERNETES_VERSION)
    for doc in docs:
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        assert schemas.knows(doc["apiVersion"], doc["kind"]), where
        assert schemas.validate(doc) == [], where


def _chart_owned(finding: Finding, hooks: set[str]) -> bool:
    """Findings about the chart's own objects, not about what our values set: the Secrets
    it renders from values (the secrets file fills them), its `helm test` Jobs (a stated
    gap), and the Bitnami Redis flag ALLOW_EMPTY_PASSWORD=no (a literal, but no secret)."""
    return ((finding.kind == "Secret" and finding.rule == "secret-data")
            or (finding.kind == "Job" and finding.name in hooks)
            or (finding.rule == "secret-data" and "ALLOW_EMPTY_PASSWORD" in finding.message))


@pytest.mark.slow
@pytest.mark.parametrize("name", all_ids())
def test_chart_output_passes_difygen_validate(name: str, chart: Path, helm: str,
                                              work: Path) -> None:
    """The workloads the chart renders from our values pass difygen's own rules (Pod
    Security "restricted" with the catalog's exceptions, resources, tokens, secrets)."""
    docs = _template(helm, chart, work, name)
    hooks = {d["metadata"]["name"] for d in docs if _is_test_hook(d)}
    stated = {g.split(":", 1)[0] for g in _rendered(name, work)[0].helm_gaps
              if "creates no service account" in g}  # Weaviate without a Bitnami host
    result = validate_manifests(yaml.safe_dump_all(docs, sort_keys=False))
    errors = [f"{f.kind}/{f.name}: {f.message} ({f.rule})" for f in result.findings
              if f.severity == ERROR and not _chart_owned(f, hooks)
              and not (f.rule == "sa-token" and f.name in stated)]
    assert not errors, "\n".join(errors)
