"""Property-based tests: random valid profiles render cleanly, random invalid ones are
refused with a positioned message and exit 2, never with another exception.

Profiles extend `production` (files in S3, so every stateless component may scale) and
override a random subset of components with consistent random numbers. Each example is
written to its own fresh directory: the loader caches parsed files by path and mtime.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generator.catalog import CATALOG, COMPONENTS, VECTOR_STORES
from generator.errors import GeneratorError, SizingError
from generator.profile_load import ProfileRef
from generator.quantity import parse_quantity
from generator.render import render
from tests.conftest import cli_in_process

SCALABLE = [c.name for c in CATALOG if c.scalable]
OPTIONAL = [c.name for c in CATALOG if not c.required]
STATEFUL = [c.name for c in CATALOG if c.stateful]
PYTHON = [c.name for c in CATALOG if c.runtime == "python"]
WITH_STARTUP = {c.name for c in CATALOG if c.startup is not None}
NAMES = [c.name for c in CATALOG]
# vector stores that run in the cluster, by their component; a profile deploys only the one
# it chooses, and sizing another is refused
IN_CLUSTER_STORES = {s.component: s.kind for s in VECTOR_STORES if s.component is not None}
STORAGE_CLASSES = ["standard", "gp3", "fast-ssd", "local-path", "premium.rwo"]
SECURITY_EXCEPTION = "difygen.io/security-exception"
POSITIONED = re.compile(r"/p[0-9a-f]{10}\.yaml:\d+:\d+: ")

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------- strategies


def _cpu(millis: int) -> str:
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def _mem(mebi: int) -> str:
    return f"{mebi // 1024}Gi" if mebi % 1024 == 0 else f"{mebi}Mi"


@st.composite
def resources(draw: st.DrawFn, min_memory_mi: int = 32,
              guaranteed: bool = False) -> dict[str, Any]:
    req_cpu = draw(st.integers(10, 4000))
    lim_cpu = req_cpu if guaranteed else draw(st.integers(req_cpu, 8000))
    req_mem = draw(st.integers(min_memory_mi, 8192))
    lim_mem = req_mem if guaranteed else draw(st.integers(req_mem, 16384))
    return {"requests": {"cpu": _cpu(req_cpu), "memory": _mem(req_mem)},
            "limits": {"cpu": _cpu(lim_cpu), "memory": _mem(lim_mem)}}


@st.composite
def probe(draw: st.DrawFn, readiness: bool) -> dict[str, int]:
    period = draw(st.integers(1, 60))
    out = {"periodSeconds": period, "timeoutSeconds": draw(st.integers(1, period)),
           "failureThreshold": draw(st.integers(1, 10)),
           "initialDelaySeconds": draw(st.integers(0, 120))}
    if readiness:
        out["successThreshold"] = draw(st.integers(1, 3))
    return out


@st.composite
def component(draw: st.DrawFn, name: str, storage_class: str) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if draw(st.booleans()):
        # Postgres' memory limit sets max_connections: keep it large enough for the pools
        # and stateful components run Guaranteed QoS (requests equal limits)
        spec["resources"] = draw(resources(4096 if name == "postgres" else 32,
                                           guaranteed=name in STATEFUL))
        if name == "postgres":
            # 10Gi and more give max_connections 1000: room for every pool at maximum
            # scale plus surge with the largest api process counts drawn here
            memory = _mem(draw(st.integers(10240, 16384)))
            spec["resources"]["limits"]["memory"] = memory
            spec["resources"]["requests"]["memory"] = memory
    if name in SCALABLE and draw(st.booleans()):
        if draw(st.booleans()):
            spec["replicas"] = draw(st.integers(1, 5))
        else:
            low = draw(st.integers(1, 4))
            auto: dict[str, int] = {"minReplicas": low,
                                    "maxReplicas": draw(st.integers(low, 8))}
            # Python processes scale on CPU (a memory-only HPA on them is refused)
            keys = (["targetCPUUtilizationPercentage"] if name in PYTHON else
                    ["targetCPUUtilizationPercentage", "targetMemoryUtilizationPercentage"])
            auto[draw(st.sampled_from(keys))] = draw(st.integers(1, 100))
            spec["autoscaling"] = auto
    if draw(st.booleans()):
        kinds = ["liveness", "readiness"] + (["startup"] if name in WITH_STARTUP else [])
        chosen = draw(st.lists(st.sampled_from(kinds), unique=True, min_size=1))
        spec["probes"] = {k: draw(probe(k == "readiness")) for k in chosen}
    if draw(st.booleans()):
        spec["scheduling"] = {
            "spreadAcrossNodes": draw(st.sampled_from(["none", "preferred", "required"])),
            "spreadAcrossZones": draw(st.sampled_from(["none", "preferred"])),
            "nodeSelector": {"pool": draw(st.sampled_from(["apps", "data", "general"]))},
        }
    if name in STATEFUL:
        spec["persistence"] = {"storageClass": storage_class,
                               "size": f"{draw(st.integers(1, 500))}Gi"}
    return spec


@st.composite
def valid_profiles(draw: st.DrawFn) -> dict[str, Any]:
    storage_class = draw(st.sampled_from(STORAGE_CLASSES))
    store = draw(st.sampled_from(sorted(IN_CLUSTER_STORES)))
    names = [n for n in NAMES if n not in IN_CLUSTER_STORES or n == store]
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    components = {name: draw(component(name, storage_class)) for name in chosen}
    # every stateful component it deploys gets the profile's storage class, chosen or not
    for name in STATEFUL:
        if name in names:
            components.setdefault(name, {"persistence": {"storageClass": storage_class}})
    for name in draw(st.lists(st.sampled_from(OPTIONAL), unique=True)):
        components.setdefault(name, {})["enabled"] = False
    return {"description": "generated", "extends": "production",
            "namespace": draw(st.sampled_from(["dify", "team-a", "ai-platform"])),
            "vectorDatabase": {"type": IN_CLUSTER_STORES[store]},
            "components": components}


_MUTATIONS = ["unknown-top", "unknown-component-key", "unknown-resources-key",
              "wrong-type-replicas", "wrong-type-enabled", "bad-quantity", "min-above-max",
              "timeout-above-period", "zero-replicas", "bad-storage-class"]


@st.composite
def invalid_profiles(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    data = draw(valid_profiles())
    comps = data["components"]
    kind = draw(st.sampled_from(_MUTATIONS))
    name = draw(st.sampled_from(sorted(comps)))
    spec = comps[name]
    junk = draw(st.from_regex(r"[a-z][a-zA-Z]{2,12}", fullmatch=True))
    if kind == "unknown-top":
        data["x" + junk] = draw(st.integers())
    elif kind == "unknown-component-key":
        spec["x" + junk] = True
    elif kind == "unknown-resources-key":
        spec.setdefault("resources", {})["x" + junk] = {"cpu": "1"}
    elif kind == "wrong-type-replicas":
        spec.pop("autoscaling", None)
        spec["replicas"] = draw(st.sampled_from(["two", "1", 2.5, True, [1], {"n": 1}]))
    elif kind == "wrong-type-enabled":
        spec["enabled"] = draw(st.sampled_from(["yes", "no", 0, 1, "false"]))
    elif kind == "bad-quantity":
        bad = draw(st.sampled_from(["512Mb", "1.5.5", "-1Gi", "abc", "0", "1e999", "2 Gi",
                                    "", "1GB", "--1"]))
        where = draw(st.sampled_from([("requests", "cpu"), ("requests", "memory"),
                                      ("limits", "cpu"), ("limits", "memory")]))
        spec.setdefault("resources", {}).setdefault(where[0], {})[where[1]] = bad
    elif kind == "min-above-max":
        name = draw(st.sampled_from(["api", "worker", "web", "nginx"]))
        comps[name] = {"autoscaling": {"minReplicas": draw(st.integers(2, 20)),
                                       "maxReplicas": 1,
                                       "targetCPUUtilizationPercentage": 70}}
        name = name + " " + str(comps[name]["autoscaling"]["minReplicas"])
    elif kind == "timeout-above-period":
        period = draw(st.integers(1, 30))
        spec["probes"] = {"liveness": {"periodSeconds": period,
                                       "timeoutSeconds": draw(st.integers(period + 1, 60))}}
    elif kind == "zero-replicas":
        spec.pop("autoscaling", None)
        spec["replicas"] = draw(st.sampled_from([0, -1, 1001]))
    elif kind == "bad-storage-class":
        comps["postgres"]["persistence"]["storageClass"] = draw(
            st.sampled_from(["Fast_SSD", "-x", "a..b", "UPPER", "x" * 254]))
    return kind, data


# ---------------------------------------------------------------------------- helpers


@contextlib.contextmanager
def profile_file(data: dict[str, Any]) -> Iterator[ProfileRef]:
    with tempfile.TemporaryDirectory() as tmp:
        name = f"p{uuid.uuid4().hex[:10]}"
        directory = Path(tmp) / "profiles"
        directory.mkdir()
        path = directory / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        yield ProfileRef(name, path, False)


def _workloads(objects: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield from (o for o in objects if o["kind"] in ("Deployment", "StatefulSet"))


# ---------------------------------------------------------------------------- properties


@SETTINGS
@given(valid_profiles())
def test_valid_profiles_render_and_keep_our_properties(data: dict[str, Any]) -> None:
    with profile_file(data) as ref:
        try:
            result = render([ref])
        except SizingError:
            event("refused: sizing")
            return  # a clean refusal: the numbers cannot give a sound plan
    event("rendered")
    (rendered,) = result.profiles
    objects = rendered.overlay.objects
    storage_class = data["components"]["postgres"]["persistence"]["storageClass"]
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {
        data["namespace"]}
    for obj in _workloads(objects):
        pod = obj["spec"]["template"]
        spec = pod["spec"]
        containers = spec["containers"] + spec.get("initContainers", [])
        for c in containers:
            res = c.get("resources", {})
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(res.get(kind, {})), (obj["metadata"], c["name"])
        excepted = SECURITY_EXCEPTION in pod["metadata"].get("annotations", {})
        if not excepted:
            pod_level = spec.get("securityContext", {}).get("runAsNonRoot") is True
            assert pod_level or all(c.get("securityContext", {}).get("runAsNonRoot") is True
                                    for c in containers), obj["metadata"]["name"]
        for claim in obj["spec"].get("volumeClaimTemplates", []):
            assert claim["spec"]["storageClassName"] == storage_class
    for obj in objects:
        if obj["kind"] == "PersistentVolumeClaim":
            assert obj["spec"]["storageClassName"] == storage_class
    # the profile's numbers reach the main container unchanged
    by_name = {o["metadata"]["name"]: o for o in _workloads(objects)}
    for name, spec in data["components"].items():
        leader = COMPONENTS[name].follows
        if "resources" not in spec or spec.get("enabled") is False or (
                leader and data["components"].get(leader, {}).get("enabled") is False):
            continue
        main = by_name[f"dify-{name}"]["spec"]["template"]["spec"]["containers"][0]
        for kind in ("requests", "limits"):
            for key in ("cpu", "memory"):
                assert parse_quantity(main["resources"][kind][key]) == parse_quantity(
                    spec["resources"][kind][key]), (name, kind, key)
        if "replicas" in spec and "autoscaling" not in spec:
            assert by_name[f"dify-{name}"]["spec"]["replicas"] == spec["replicas"]


@settings(SETTINGS, max_examples=80)
@given(invalid_profiles())
def test_invalid_profiles_are_refused_with_a_position(case: tuple[str, dict[str, Any]]) -> None:
    kind, data = case
    event(kind)
    with profile_file(data) as ref:
        try:
            render([ref])
        except GeneratorError as exc:
            assert exc.exit_code == 2
            lines = exc.lines()
        else:
            raise AssertionError(f"{kind}: an invalid profile rendered")
        code, _, err = cli_in_process(["render", ref.name, "--profiles-dir",
                                    str(ref.path.parent), "--dry-run"])
    assert lines and all(POSITIONED.search(line) for line in lines), lines
    assert code == 2, err
    assert "internal error" not in err and "Traceback" not in err
    assert all(f"error: {line}" in err for line in lines)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_an_answer(text: str) -> None:
    """Arbitrary text as a profile: either it renders or it is refused as bad input."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            render([ProfileRef("fuzz", path, False)])
        except GeneratorError as exc:
            assert exc.exit_code == 2
            assert exc.lines()
            event(type(exc).__name__)
        except UnicodeEncodeError:
            pass  # lone surrogates cannot even be written as UTF-8


def test_a_refused_quantity_is_not_compared_with_its_pair_as_well() -> None:
    """The case the property above once found: a negative CPU limit on postgres (which
    runs Guaranteed QoS) is one error at the user's line, not three (below the request,
    differing from the request in the parent profile's file)."""
    data = {"extends": "production", "components": {
        "postgres": {"resources": {"limits": {"cpu": "-1Gi"}}}}}
    with profile_file(data) as ref:
        try:
            render([ref])
        except GeneratorError as exc:
            lines = exc.lines()
        else:
            raise AssertionError("rendered")
    assert len(lines) == 1, lines
    assert POSITIONED.search(lines[0]) and "must be greater than zero" in lines[0]
