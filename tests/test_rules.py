"""Every rule is documented, fires on some fixture and stays silent on a sound stack."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from generator.rules import LAYERS, RULE_IDS, RULES, Rule
from generator.rules.docs import render
from generator.rules.secret_data import looks_secret
from generator.rules.workloads import expand
from generator.validate import select_rules, validate_manifests

ROOT = Path(__file__).parent.parent
CASES = Path(__file__).parent / "cases" / "manifests"
STACK = CASES / "positive" / "stack.yaml"


def test_rule_ids_are_unique_and_kebab_case() -> None:
    assert len(set(RULE_IDS)) == len(RULE_IDS)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in RULE_IDS)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_has_id_layer_and_docstring(rule: Rule) -> None:
    doc = inspect.getdoc(type(rule)) or ""
    assert rule.id and rule.layer in LAYERS
    summary, _, body = doc.partition("\n")
    assert summary.endswith(".") and len(body.strip()) > 40, doc


@pytest.fixture(scope="module")
def negative_findings() -> dict[str, set[str]]:
    result = validate_manifests([CASES / "negative"])
    fired: dict[str, set[str]] = {}
    for f in result.findings:
        fired.setdefault(f.rule, set()).add(f.severity)
    return fired


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_fires_as_an_error_on_a_negative_case(
        rule_id: str, negative_findings: dict[str, set[str]]) -> None:
    assert "error" in negative_findings.get(rule_id, set())


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_is_silent_on_a_sound_stack(rule_id: str) -> None:
    result = validate_manifests([STACK], rules=select_rules([rule_id]))
    assert result.findings == ()
    assert result.objects == 13


def test_sound_stack_exercises_the_sizing_rules() -> None:
    # Silence only means something if the stack holds what the sizing rules look at.
    kinds = {m for m in STACK.read_text(encoding="utf-8").split() if m in (
        "ResourceQuota", "PersistentVolumeClaim", "HorizontalPodAutoscaler", "difygen-node",
        "postgres:15-alpine", "redis:6-alpine", "langgenius/dify-api:1.16.1",
        "langgenius/dify-plugin-daemon:0.6.3-local")}
    assert len(kinds) == 8


def test_catalog_exception_relaxes_exactly_what_it_declares() -> None:
    result = validate_manifests([CASES / "positive" / "security-exception.yaml"])
    assert result.exit_code == 0
    assert {f.severity for f in result.findings} == {"warning"}
    assert all("must start as root" in f.message for f in result.findings)
    baseline = validate_manifests([CASES / "negative" / "security-exception-baseline.yaml"])
    assert sorted((f.rule, f.severity) for f in baseline.findings if f.severity == "error") \
        == [("pss-capabilities", "error"), ("pss-privileged", "error")]


def test_an_annotation_grants_no_exception() -> None:
    result = validate_manifests([CASES / "negative" / "security-exception-annotation.yaml"])
    assert result.findings and {f.severity for f in result.findings} == {"error"}


@pytest.mark.parametrize(("name", "secret"), [
    ("DB_PASSWORD", True), ("SECRET_KEY", True), ("PLUGIN_DAEMON_KEY", True),
    ("DIFY_AGENT_API_TOKEN", True), ("TIKTOKEN_CACHE_DIR", False), ("KEYCLOAK_URL", False),
    ("MODE", False), ("REDIS_PASSWORD", True),
])
def test_secret_names(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


def test_expand_follows_kubernetes() -> None:
    env = {"A": "1"}
    assert expand("$(A)-$(B)-$$(A)", env) == "1-$(B)-$(A)"


def test_docs_rules_md_is_up_to_date() -> None:
    current = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert current == render(), "run: python -m generator.rules.docs"


def test_namespace_totals_are_computed_per_namespace_on_a_mixed_set() -> None:
    """The sizing and isolation rules sum and group each namespace once: on a set whose
    namespaces are interleaved, and where one namespace holds a repeated node ConfigMap
    and quota, they find exactly what each namespace's objects find on their own."""
    from generator.manifest_loader import in_memory, load_paths
    from generator.validate import validate_objects
    from generator.yamlio import copy_data

    cases = Path(__file__).parent / "cases" / "manifests" / "negative"
    base = [m.obj for name in ("node-fit.yaml", "quota-fit.yaml", "sandbox-isolation.yaml")
            for m in load_paths([cases / name])]
    chosen = select_rules(only=["node-fit", "quota-fit", "sandbox-isolation"])

    def copy_into(namespace: str, suffix: str = "") -> list[dict[str, object]]:
        out = []
        for obj in base:
            obj = copy_data(obj)
            meta = obj.setdefault("metadata", {})
            if obj["kind"] == "Namespace":
                meta["name"] = namespace
            else:
                meta["namespace"] = namespace
            if suffix and obj["kind"] not in ("ConfigMap", "ResourceQuota", "Namespace"):
                meta["name"] = f"{meta['name']}{suffix}"
            out.append(obj)
        return out

    def findings(objects: list[dict[str, object]]) -> list[tuple[str, ...]]:
        result = validate_objects([in_memory(o, "f.yaml") for o in objects], rules=chosen)
        return sorted((f.rule, f.severity, f.message, f.namespace, f.kind, f.name, f.path)
                      for f in result.findings)

    a, b = copy_into("a"), copy_into("b")
    # Namespace c: every object twice over (workloads renamed, ConfigMap and quota
    # repeated), so each of its node ConfigMaps and quotas sees both copies.
    c = copy_into("c") + copy_into("c", "-2")
    mixed = [obj for trio in zip(a, b, c[:len(a)], strict=True) for obj in trio]
    mixed += c[len(a):]
    alone = findings(a) + findings(b) + findings(c)
    together = findings(mixed)
    assert together == sorted(alone)
    assert any(f[0] == "node-fit" and f[3] == "c" for f in together)
    assert any(f[0] == "quota-fit" and f[3] == "c" for f in together)


def test_pod_figures_shared_by_equal_resources_only() -> None:
    """One pod's figures are computed once per distinct set of containers' resources:
    `cpu: 1` and `cpu: true` are equal dict keys to Python but not equal quantities (a
    boolean is no quantity: it counts as nothing), and a second copy of `cpu: 1` shares
    the first one's figures."""
    from generator.manifest_loader import load_text
    from generator.rules import Context
    from generator.rules.workloads import pod_figures, workloads

    def deployment(name: str, cpu: str) -> str:
        return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, "
                f"namespace: x}}\nspec:\n  template:\n    spec:\n      containers:\n"
                f"      - name: c\n        resources: {{requests: {{cpu: {cpu}}}}}\n")

    text = "---\n".join([deployment("a", "1"), deployment("b", "true"),
                         deployment("c", "1")])
    ctx = Context(load_text(text), "1.35")
    figures = [pod_figures(ctx, w).per_pod for w in workloads(ctx)]
    assert [f[("requests", "cpu")] for f in figures] == [1, 0, 1]
    assert figures[0] is figures[2] and figures[0] is not figures[1]
