"""Fleets: a fleet file renders one validated overlay per environment, plus Argo CD and Flux
objects that point at them; bad fleet files are refused with file:line:col and key path."""

from __future__ import annotations

import json
import os
import pty
import random
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.catalog import CATALOG
from generator.errors import FleetError
from generator.fleet import (
    ENVIRONMENT_CONFIGMAP,
    HOSTS_ANNOTATION,
    Fleet,
    FleetResult,
    load_fleet,
    render_fleet,
    render_loaded,
)
from generator.k8s_schemas import schema_set
from generator.render import orphan_units, orphans
from generator.resources import schemas_dir
from generator.writer import write_tree
from tests.k8s import key

DIFYGEN = str(Path(sys.executable).parent / "difygen")
PROFILES = ("edge", "small", "production", "custom")
REGISTRY = "registry.example.com/mirror"
CUSTOM = """\
description: a team's own sizing, on top of small
extends: small
components:
  worker:
    autoscaling: {minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 70}
  web:
    resources: {requests: {cpu: 200m, memory: 384Mi}, limits: {cpu: "1", memory: 768Mi}}
"""


def env_spec(i: int) -> dict[str, Any]:
    """Environment i of the generated fleet: every override, in varied combinations."""
    profile = PROFILES[i % 4]
    env: dict[str, Any] = {"name": f"env-{i:02d}", "profile": profile}
    if i % 2:
        env["namespace"] = f"dify-{i:02d}"
    if i % 3 == 0:
        env["storageClass"] = f"fast-{i % 2}"
    if i % 6 == 0:
        env["readWriteManyStorageClass"] = "shared-files"
    env["hosts"] = [f"env-{i:02d}.dify.example.com"] + (
        [f"alt-{i:02d}.example.com"] if i % 5 == 0 else [])
    if i % 5 == 0:
        env["imageRegistry"] = REGISTRY
    if profile == "edge" and i % 8 == 0:
        # edge's node keeps 20% for k3s: room for a second (small) nginx, not a second web
        env["replicas"] = {"nginx": 2}
    elif profile in ("small", "custom") and i % 3:
        env["replicas"] = {"api": {"min": 2, "max": 3}, "nginx": 2}
    elif profile == "production" and i % 3 == 0:
        env["replicas"] = {"api": {"max": 6}, "web": {"min": 3}}
    if i % 7 == 0:
        env["cluster"] = {"server": f"https://cluster-{i}.example.com:6443",
                          "kubeConfigSecret": f"cluster-{i}-kubeconfig"}
    elif i % 11 == 0:
        env["cluster"] = {"name": f"registered-{i}"}
    return env


def write_fleet(root: Path, environments: list[dict[str, Any]], **top: Any) -> Path:
    (root / "profiles.d").mkdir(parents=True, exist_ok=True)
    (root / "profiles.d" / "custom.yaml").write_text(CUSTOM, encoding="utf-8")
    data = {"profilesDir": "profiles.d",
            "repoURL": "https://git.example.com/platform/gitops.git",
            "targetRevision": "main", "path": "clusters/dify",
            "argocd": {"project": "dify"},
            "flux": {"sourceRef": {"name": "gitops"}, "interval": "5m", "timeout": "10m"},
            **top, "environments": environments}
    path = root / "fleet.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def fleet50(tmp_path_factory: pytest.TempPathFactory) -> tuple[Fleet, FleetResult, Path]:
    root = tmp_path_factory.mktemp("fleet50")
    fleet = load_fleet(write_fleet(root, [env_spec(i) for i in range(50)]))
    result = render_loaded(fleet)
    out = root / "out"
    write_tree(out, result.files, result.managed)
    return fleet, result, out


def build(kubectl: str, directory: Path) -> list[dict[str, Any]]:
    proc = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, f"{directory}: {proc.stderr}"
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def volumes_classes(objects: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """(storage class, first access mode) of every volume claim, by claim name."""
    found: dict[str, tuple[str, str]] = {}
    for obj in objects:
        if obj["kind"] == "PersistentVolumeClaim":
            found[obj["metadata"]["name"]] = (obj["spec"]["storageClassName"],
                                              obj["spec"]["accessModes"][0])
        if obj["kind"] == "StatefulSet":
            for claim in obj["spec"].get("volumeClaimTemplates", []):
                found[f"{obj['metadata']['name']}/{claim['metadata']['name']}"] = (
                    claim["spec"]["storageClassName"], claim["spec"]["accessModes"][0])
    return found


# ---------------------------------------------------------------------------- the fleet


@pytest.mark.kustomize
def test_fifty_environments_build_with_kustomize_into_their_namespaces(
        fleet50: tuple[Fleet, FleetResult, Path], kubectl: str) -> None:
    fleet, result, out = fleet50
    assert [p.plan.name for p in result.profiles] == sorted(e.name for e in fleet.environments)
    with ThreadPoolExecutor(max_workers=max(4, (os.cpu_count() or 2) * 2)) as pool:
        built = dict(zip(
            [e.name for e in fleet.sorted_environments()],
            pool.map(lambda e: build(kubectl, out / "kustomize" / "overlays" / e.name),
                     fleet.sorted_environments()), strict=True))
    specs = {e["name"]: e for e in (env_spec(i) for i in range(50))}
    for rendered in result.profiles:
        env = next(e for e in fleet.environments if e.name == rendered.plan.name)
        objects = built[env.name]
        # exactly the in-memory objects, each in the environment's namespace
        assert sorted(objects, key=key) == sorted(rendered.overlay.objects, key=key), env.name
        for obj in objects:
            if obj["kind"] == "Namespace":
                assert obj["metadata"]["name"] == env.namespace
                assert obj["metadata"]["annotations"].get(HOSTS_ANNOTATION) == ",".join(
                    specs[env.name]["hosts"])
            else:
                assert obj["metadata"].get("namespace") == env.namespace, key(obj)
        config = next(o for o in objects if o["metadata"]["name"] == ENVIRONMENT_CONFIGMAP)
        assert config["data"]["ENVIRONMENT"] == env.name
        assert config["data"]["HOSTS"] == ",".join(env.hosts)
        # overrides took effect
        classes = volumes_classes(objects)
        assert classes, env.name
        for claim, (storage_class, mode) in classes.items():
            if mode == "ReadWriteMany" and env.rwx_storage_class:
                assert storage_class == env.rwx_storage_class, (env.name, claim)
            elif env.storage_class:
                assert storage_class == env.storage_class, (env.name, claim)
        images = [c["image"] for o in objects if o["kind"] in ("Deployment", "StatefulSet")
                  for c in o["spec"]["template"]["spec"]["containers"]]
        assert images
        assert all(i.startswith(REGISTRY + "/") for i in images) == (
            env.image_registry == REGISTRY), env.name
        hpas = {o["metadata"]["name"]: o["spec"] for o in objects
                if o["kind"] == "HorizontalPodAutoscaler"}
        deployments = {o["metadata"]["name"]: o["spec"] for o in objects
                       if o["kind"] == "Deployment"}
        for comp, bounds in env.replicas:
            name = f"dify-{comp}"
            if bounds.count is not None:
                assert name not in hpas, (env.name, comp)
                assert deployments[name]["replicas"] == bounds.count, (env.name, comp)
            else:
                if bounds.min is not None:
                    assert hpas[name]["minReplicas"] == bounds.min, (env.name, comp)
                if bounds.max is not None:
                    assert hpas[name]["maxReplicas"] == bounds.max, (env.name, comp)


def test_every_overlay_object_is_a_kind_with_a_schema(
        fleet50: tuple[Fleet, FleetResult, Path]) -> None:
    _, result, _ = fleet50
    for rendered in result.profiles:
        schemas = schema_set(rendered.plan.profile.kubernetes_version)
        for obj in rendered.overlay.objects:
            assert schemas.knows(obj["apiVersion"], obj["kind"]), key(obj)
            assert schemas.validate(obj) == [], key(obj)


def test_environments_sharing_a_sizing_render_once_and_match_a_solo_render(
        fleet50: tuple[Fleet, FleetResult, Path], tmp_path: Path) -> None:
    """A copied environment is byte for byte what rendering it alone gives."""
    fleet, result, _ = fleet50
    groups: dict[tuple[object, ...], list[str]] = {}
    for env in fleet.sorted_environments():
        groups.setdefault(env.sizing_key, []).append(env.name)
    copied = [names[-1] for names in groups.values() if len(names) > 1]
    assert copied, "the generated fleet should have environments that share a sizing"
    for name in copied[:4]:
        index = int(name.split("-")[1])
        solo = render_fleet(write_fleet(tmp_path / name, [env_spec(index)]))
        prefixes = (f"kustomize/overlays/{name}/", f"helm/{name}/")
        mine = {p: t for p, t in result.files.items() if p.startswith(prefixes)}
        alone = {p: t for p, t in solo.files.items() if p.startswith(prefixes)}
        assert mine and mine == alone, name


def test_render_is_deterministic_and_independent_of_environment_order(
        tmp_path: Path) -> None:
    envs = [env_spec(i) for i in range(12)]
    first = render_fleet(write_fleet(tmp_path / "a", envs)).files
    shuffled = list(envs)
    random.Random(7).shuffle(shuffled)
    second = render_fleet(write_fleet(tmp_path / "b", shuffled)).files
    assert first == second
    assert all(text.endswith("\n") and "\r" not in text for text in first.values())


def test_progress_callback_counts_every_environment(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    render_fleet(write_fleet(tmp_path, [env_spec(i) for i in range(9)]),
                 on_progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (9, 9)
    assert all(total == 9 for _, total in calls)
    dones = [d for d, _ in calls]
    assert dones == sorted(dones) and dones[0] == 0


# ---------------------------------------------------------------------------- GitOps objects


def _gitops_objects(out: Path, directory: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((out / directory).glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def _overlay_dir(fleet: Fleet, out: Path, repo_path: str) -> Path:
    assert repo_path.startswith(fleet.path + "/kustomize/overlays/"), repo_path
    directory = out / repo_path[len(fleet.path) + 1:]
    assert (directory / "kustomization.yaml").is_file(), repo_path
    return directory


@pytest.mark.kustomize
def test_applicationset_lists_every_environment_at_its_overlay(
        fleet50: tuple[Fleet, FleetResult, Path], kubectl: str) -> None:
    fleet, _, out = fleet50
    objects = _gitops_objects(out, "gitops/argocd")
    assert [(o["apiVersion"], o["kind"]) for o in objects] == [
        ("argoproj.io/v1alpha1", "ApplicationSet")]
    appset = objects[0]
    assert appset["metadata"] == {"name": "dify", "namespace": "argocd",
                                  "labels": appset["metadata"]["labels"]}
    spec = appset["spec"]
    assert spec["goTemplate"] is True and spec["syncPolicy"]["preserveResourcesOnDeletion"]
    elements = spec["generators"][0]["list"]["elements"]
    by_env = {e.name: e for e in fleet.environments}
    assert [e["environment"] for e in elements] == sorted(by_env)
    for element in elements:
        env = by_env[element["environment"]]
        directory = _overlay_dir(fleet, out, element["path"])
        assert directory.name == env.name
        assert element["namespace"] == env.namespace
        # the fleet mixes destinations by name and by server: one of them is set
        if env.cluster.name:
            assert (element["cluster"], element["server"]) == (env.cluster.name, "")
        else:
            assert element["server"] == (env.cluster.server or "https://kubernetes.default.svc")
    template = spec["template"]["spec"]
    assert template["project"] == "dify"
    assert template["source"] == {"repoURL": fleet.repo_url, "targetRevision": "main",
                                  "path": "{{.path}}"}
    assert template["destination"] == {"namespace": "{{.namespace}}"}
    assert "{{- if .server }}" in spec["templatePatch"]
    assert build(kubectl, out / "gitops" / "argocd") == objects


@pytest.mark.kustomize
def test_flux_kustomizations_point_at_overlays(
        fleet50: tuple[Fleet, FleetResult, Path], kubectl: str) -> None:
    fleet, _, out = fleet50
    objects = _gitops_objects(out, "gitops/flux")
    assert len(objects) == 50
    by_name = {f"dify-{e.name}": e for e in fleet.environments}
    for obj in objects:
        assert (obj["apiVersion"], obj["kind"]) == ("kustomize.toolkit.fluxcd.io/v1",
                                                    "Kustomization")
        env = by_name[obj["metadata"]["name"]]
        assert obj["metadata"]["namespace"] == "flux-system"
        spec = obj["spec"]
        assert spec["path"].startswith("./")
        assert _overlay_dir(fleet, out, spec["path"][2:]).name == env.name
        assert spec["targetNamespace"] == env.namespace
        assert spec["sourceRef"] == {"kind": "GitRepository", "name": "gitops"}
        assert (spec["interval"], spec["timeout"], spec["prune"]) == ("5m", "10m", True)
        secret = env.cluster.kube_config_secret
        assert spec.get("kubeConfig") == ({"secretRef": {"name": secret}} if secret else None)
    built = build(kubectl, out / "gitops" / "flux")
    assert sorted(built, key=key) == sorted(objects, key=key)


def test_applications_style_and_uniform_destinations(tmp_path: Path) -> None:
    envs = [{"name": "a", "profile": "small"},
            {"name": "b", "profile": "edge", "cluster": {"server": "https://k.example.com"}}]
    result = render_fleet(write_fleet(tmp_path / "apps", envs,
                                      argocd={"style": "applications", "prune": True}))
    apps = {p: yaml.safe_load(t) for p, t in result.files.items()
            if p.startswith("gitops/argocd/") and not p.endswith("kustomization.yaml")}
    assert sorted(apps) == ["gitops/argocd/dify-a.yaml", "gitops/argocd/dify-b.yaml"]
    b = apps["gitops/argocd/dify-b.yaml"]
    assert (b["apiVersion"], b["kind"]) == ("argoproj.io/v1alpha1", "Application")
    assert b["spec"]["destination"] == {"server": "https://k.example.com", "namespace": "b"}
    assert b["spec"]["source"]["path"] == "clusters/dify/kustomize/overlays/b"
    assert b["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert "finalizers" not in b["metadata"]
    kustomization = yaml.safe_load(result.files["gitops/argocd/kustomization.yaml"])
    assert kustomization["resources"] == ["dify-a.yaml", "dify-b.yaml"]
    # every destination by server: a plain template, no templatePatch
    appset = render_fleet(write_fleet(tmp_path / "set", envs))
    spec = yaml.safe_load(appset.files["gitops/argocd/applicationset.yaml"])["spec"]
    assert "templatePatch" not in spec
    assert spec["template"]["spec"]["destination"] == {"server": "{{.server}}",
                                                       "namespace": "{{.namespace}}"}


def test_disabled_gitops_and_root_path(tmp_path: Path) -> None:
    envs = [{"name": "only", "profile": "edge"}]
    result = render_fleet(write_fleet(tmp_path, envs, path=".", argocd={"enabled": False}))
    assert not any(p.startswith("gitops/argocd/") for p in result.files)
    flux = yaml.safe_load(result.files["gitops/flux/dify-only.yaml"])
    assert flux["spec"]["path"] == "./kustomize/overlays/only"
    assert result.managed == ("kustomize/base", "kustomize/overlays/only", "helm/only",
                              "gitops/argocd", "gitops/flux")


def test_fleet_drops_removed_environments_on_the_next_render(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = render_fleet(write_fleet(tmp_path, [env_spec(1), env_spec(2)]))
    write_tree(out, first.files, first.managed)
    second = render_fleet(write_fleet(tmp_path, [env_spec(2)]))
    known = {p.plan.name for p in second.profiles}
    change = write_tree(out, second.files,
                        (*second.managed, *orphan_units(orphans(out, known))))
    assert not (out / "kustomize" / "overlays" / "env-01").exists()
    assert not (out / "gitops" / "flux" / "dify-env-01.yaml").exists()
    assert "kustomize/overlays/env-01/kustomization.yaml" in change.removed


# ---------------------------------------------------------------------------- the schema


def test_schema_is_strict_and_replicas_cover_exactly_the_scalable_components() -> None:
    schema = json.loads((schemas_dir() / "fleet.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if "properties" in node:
                assert node.get("additionalProperties") is False, path
            for k, v in node.items():
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(schema, "$")
    replicas = schema["$defs"]["environment"]["properties"]["replicas"]["properties"]
    assert sorted(replicas) == sorted(c.name for c in CATALOG if c.scalable)


# ---------------------------------------------------------------------------- bad fleets


def _fleet_text(root: Path, body: str) -> Path:
    (root / "profiles.d").mkdir(parents=True, exist_ok=True)
    (root / "profiles.d" / "custom.yaml").write_text(CUSTOM, encoding="utf-8")
    path = root / "fleet.yaml"
    path.write_text(body, encoding="utf-8")
    return path


HEAD = "profilesDir: profiles.d\nenvironments:\n  - name: dev\n    profile: small\n"

NEGATIVE = {
    # name: (fleet text, line, column, key path, part of the message)
    "unknown-key": (HEAD + "  - name: qa\n    profile: edge\n    storageclass: fast\n",
                    7, 5, "environments[1].storageclass",
                    "unknown key 'storageclass' (did you mean 'storageClass'?)"),
    "unknown-top-level-key": ("environment: []\n" + HEAD, 1, 1, "environment",
                              "unknown key 'environment' (did you mean 'environments'?)"),
    "duplicate-name": (HEAD + "  - name: dev\n    profile: edge\n    namespace: dev2\n",
                       5, 11, "environments[1].name", "found 'dev' again (first at line 3)"),
    "unknown-profile": (HEAD + "  - name: qa\n    profile: smal\n", 6, 14,
                        "environments[1].profile",
                        "found 'smal'; allowed: edge, production, small, custom"),
    "bad-name": (HEAD + "  - name: QA_1\n    profile: edge\n", 5, 11, "environments[1].name",
                 "found \"QA_1\"; must be a DNS-1123 label"),
    "non-scalable-replicas": (HEAD + "    replicas: {postgres: 2}\n", 5, 16,
                              "environments[0].replicas.postgres",
                              "unknown key 'postgres'"),
    "hpa-bounds-on-fixed": (HEAD + "  - name: qa\n    profile: edge\n"
                                   "    replicas: {web: {max: 3}}\n", 7, 21,
                            "environments[1].replicas.web",
                            "web runs a fixed 1 replica(s) in profile edge (no HPA)"),
    "min-above-max": (HEAD + "    replicas: {api: {min: 4, max: 2}}\n", 5, 27,
                      "environments[0].replicas.api.min", "found min 4 above max 2"),
    "rwo-scaled": (HEAD + "    replicas: {plugin-daemon: 3}\n", 5, 31,
                   "environments[0].replicas.plugin-daemon", "mounts a ReadWriteOnce volume"),
    "server-and-name": (HEAD + "    cluster: {server: 'https://a.example.com', name: a}\n",
                        5, 14, "environments[0].cluster", "found both server and name"),
    "namespace-clash": (HEAD + "  - name: qa\n    profile: edge\n    namespace: dev\n", 7, 16,
                        "environments[1].namespace", "found namespace 'dev' on cluster"),
    "argocd-without-repo": (HEAD + "argocd: {project: default}\n", 5, 1, "argocd",
                            "missing repoURL"),
    "bad-interval": (HEAD + "flux: {interval: ten}\n", 5, 18, "flux.interval",
                     "must be a duration"),
    "db-budget": (HEAD + "    replicas: {api: {max: 30}, worker: {max: 30}}\n", 5, 15,
                  "environments[0].replicas",
                  "with this environment's overrides, profile small: at maximum scale"),
    "replicas-wrong-type": (HEAD + "    replicas: {api: many}\n", 5, 21,
                            "environments[0].replicas.api",
                            'found "many" (string); expected integer or object'),
}


@pytest.mark.parametrize("case", sorted(NEGATIVE))
def test_bad_fleet_is_refused_at_its_position(case: str, tmp_path: Path) -> None:
    text, line, column, key_path, message = NEGATIVE[case]
    path = _fleet_text(tmp_path, text)
    with pytest.raises(FleetError) as info:
        render_fleet(path)
    lines = info.value.lines()
    expected = f"{path.name}:{line}:{column}: {key_path}: "
    assert any(expected in entry and message in entry for entry in lines), lines


@pytest.mark.parametrize("case", ["unknown-key", "duplicate-name", "unknown-profile"])
def test_cli_exits_2_and_writes_nothing(case: str, tmp_path: Path) -> None:
    text, line, column, key_path, message = NEGATIVE[case]
    path = _fleet_text(tmp_path, text)
    out = tmp_path / "out"
    proc = subprocess.run([DIFYGEN, "render", "--fleet", str(path), "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          check=False)
    assert proc.returncode == 2, proc.stderr
    assert f"error: fleet.yaml:{line}:{column}: {key_path}: " in proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_cli_fleet_excludes_profile_names(tmp_path: Path) -> None:
    path = write_fleet(tmp_path, [env_spec(1)])
    proc = subprocess.run([DIFYGEN, "render", "small", "--fleet", str(path)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          check=False)
    assert proc.returncode == 2
    assert "--fleet renders the environments of the fleet file" in proc.stderr


def test_cli_dry_run_and_progress_only_on_a_terminal(tmp_path: Path) -> None:
    path = write_fleet(tmp_path, [env_spec(i) for i in range(3)])
    out = tmp_path / "out"
    args = [DIFYGEN, "render", "--fleet", str(path), "--out", str(out)]
    piped = subprocess.run([*args, "--dry-run"], capture_output=True, text=True,
                           cwd=tmp_path, timeout=120, check=False)
    assert piped.returncode == 0, piped.stderr
    assert f"would add: {out}/gitops/flux/dify-env-01.yaml" in piped.stdout
    assert "rendering environments" not in piped.stderr
    assert not out.exists()
    # the same render with a terminal as stderr shows the progress line
    master, slave = pty.openpty()
    try:
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=slave, cwd=tmp_path,
                              timeout=120, check=False)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    assert proc.returncode == 0
    assert b"\rrendering environments [" in seen and b"] 3/3" in seen
    assert (out / "kustomize" / "overlays" / "env-02" / "environment.yaml").is_file()


def test_check_fleet_detects_drift_through_the_cli(tmp_path: Path) -> None:
    fleet = write_fleet(tmp_path, [env_spec(1), env_spec(2)])
    out = tmp_path / "out"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "generator", *args], capture_output=True,
                              text=True, timeout=120, check=False)

    assert cli("render", "--fleet", str(fleet), "--out", str(out)).returncode == 0
    clean = cli("check", "--fleet", str(fleet), "--out", str(out))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    flux = next((out / "gitops" / "flux").glob("dify-env-*.yaml"))
    flux.write_text(flux.read_text().replace("interval: 5m", "interval: 6m"))
    stale = cli("check", "--fleet", str(fleet), "--out", str(out))
    assert stale.returncode == 3 and flux.name in stale.stdout
