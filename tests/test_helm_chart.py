"""The generated values through the real community chart (`helm template`), local only.

CI cannot reach the chart repositories, so this runs where a developer has the chart with
its subcharts unpacked: set DIFYGEN_HELM_CHART to that directory, and put helm on PATH or
point DIFYGEN_HELM at the binary. See docs/helm.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_helm_values import DIFY_KEYS, all_profile_ids, plan_named, resources_of

from generator.catalog import COMPONENTS
from generator.plan import Plan
from generator.targets.helm import CHART_APP_VERSION, CHART_VERSION, render_values

RELEASE = "dify"


def _chart() -> Path:
    chart = os.environ.get("DIFYGEN_HELM_CHART")
    if not chart:
        pytest.skip("set DIFYGEN_HELM_CHART to an unpacked dify chart (with its charts/ "
                    "subcharts) to run helm template")
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


def _template(helm: str, chart: Path, plan: Plan, work: Path) -> list[dict[str, Any]]:
    values = work / f"{plan.name}.yaml"
    values.write_text(render_values(plan).text, encoding="utf-8")
    env = {**os.environ, "HELM_CACHE_HOME": str(work / "cache"),
           "HELM_CONFIG_HOME": str(work / "config"), "HELM_DATA_HOME": str(work / "data")}
    result = subprocess.run(
        [helm, "template", RELEASE, str(chart), "--namespace", plan.profile.namespace,
         "-f", str(values)],
        capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def test_chart_is_the_version_checked_against(chart: Path) -> None:
    meta = yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8"))
    assert (meta["version"], str(meta["appVersion"])) == (CHART_VERSION, CHART_APP_VERSION)


# The workload the chart renders for each component, for release "dify".
def _workload_name(name: str) -> str:
    special = {"worker-beat": "dify-beat", "nginx": "dify-proxy",
               "postgres": "dify-postgresql", "redis": "dify-redis-master",
               "weaviate": "weaviate"}
    return special.get(name, f"dify-{name}")


@pytest.mark.slow
@pytest.mark.parametrize("name", all_profile_ids())
def test_chart_renders_our_sizing(name: str, chart: Path, helm: str,
                                  tmp_path: Path) -> None:
    plan = plan_named(name, tmp_path)
    docs = _template(helm, chart, plan, tmp_path)
    workloads = {d["metadata"]["name"]: d for d in docs
                 if d["kind"] in ("Deployment", "StatefulSet")}
    expected = {_workload_name(c.name) for c, _ in plan.components()}
    assert set(workloads) == expected
    for comp, sizing in plan.components():
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
@pytest.mark.parametrize("name", all_profile_ids())
def test_chart_renders_derived_settings_and_no_secret_of_ours(
        name: str, chart: Path, helm: str, tmp_path: Path) -> None:
    plan = plan_named(name, tmp_path)
    docs = _template(helm, chart, plan, tmp_path)
    configs = {d["metadata"]["name"]: d.get("data", {}) for d in docs
               if d["kind"] == "ConfigMap"}
    pg = configs[f"{RELEASE}-postgresql-extended-configuration"]["override.conf"]
    assert f"max_connections = {plan.tunables.postgres_max_connections}" in pg
    redis = configs[f"{RELEASE}-redis-configuration"]["redis.conf"]
    assert f"maxmemory {plan.tunables.redis_maxmemory_mb}mb" in redis
    api = next(d for d in docs if d["kind"] == "Deployment"
               and d["metadata"]["name"] == f"{RELEASE}-api")
    env = {e["name"]: e.get("value") for e in api["spec"]["template"]["spec"]
           ["containers"][0]["env"]}
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
