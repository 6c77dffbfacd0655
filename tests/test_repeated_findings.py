"""A verbatim repeat of a document gets the findings of the schema, object and workload
rules that its first copy got, moved to its own lines; a namespace-blind rule finds
nothing on a copy in another namespace of a clean object: exactly what the rules find
when they judge every copy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import generator.manifest_fast as fast_reader
import generator.manifest_loader as manifests
from generator.manifest_loader import Manifest
from generator.rules import Context, Finding
from generator.rules.base import ObjectRule, finding
from generator.rules.k8s_labels import K8sLabels
from generator.rules.pss_privileged import Privileged
from generator.rules.schema import Schema
from generator.validate import validate_objects
from tests.conftest import REPO

NEGATIVE = REPO / "tests" / "cases" / "manifests" / "negative"
CASES = ["pss-baseline.yaml", "pss-restricted.yaml", "k8s-api-rules.yaml", "policy.yaml",
         "brief-example.yaml", "schema.yaml"]


@pytest.fixture(autouse=True)
def _piece_per_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """A piece per document: a copy in a later piece than its first copy points at the
    first copy's text (as in a big file), which makes it a repeat."""
    monkeypatch.setattr(fast_reader, "PIECE_CHARS", 1)


def _repeated_text() -> str:
    """The cases three times in one file, a different document between the copies (so
    each copy is further down by a different number of lines)."""
    body = "\n---\n".join((NEGATIVE / name).read_text(encoding="utf-8").strip("\n")
                          for name in CASES)
    spacer = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: spacer-{i}\n" + \
        "data:\n" + "".join(f"  k{j}: v\n" for j in range(7)) + "# {i}\n" * 3
    return "\n---\n".join([body, spacer.format(i=1), body, spacer.format(i=2), body])


def _read(text: str) -> list[Manifest]:
    read = manifests._load_fast(text, "repeated.yaml")
    assert read is not None, "the fast reader reads the cases"
    return read


def test_repeats_get_exactly_the_findings_the_rules_find(
        monkeypatch: pytest.MonkeyPatch) -> None:
    objects = _read(_repeated_text())
    ctx = Context(objects, "1.35")
    assert len(ctx.repeats) >= 2 * len(objects) // 3 - 2
    calls: list[str] = []
    real_object, real_workload = K8sLabels.check_object, Privileged.check_workload

    def counted_object(self: K8sLabels, m: Manifest, c: Context) -> Iterator[Finding]:
        calls.append("object")
        return real_object(self, m, c)

    def counted_workload(self: Privileged, w: object, c: Context) -> Iterator[Finding]:
        calls.append("workload")
        return real_workload(self, w, c)  # type: ignore[arg-type]

    monkeypatch.setattr(K8sLabels, "check_object", counted_object)
    monkeypatch.setattr(Privileged, "check_workload", counted_workload)
    remembered = validate_objects(objects)
    # Each distinct document judged once by each rule (and the spacers).
    assert calls.count("object") < len(objects) // 2
    assert 0 < calls.count("workload") < len(objects) // 2
    monkeypatch.setattr(Context, "repeats", property(lambda self: {}))
    worked_out = validate_objects(_read(_repeated_text()))
    assert remembered.findings == worked_out.findings
    repeated_rules = {f.rule for f in remembered.findings
                      if f.line > remembered.findings[-1].line // 2}
    assert {"k8s-labels", "pss-privileged", "pss-run-as-non-root", "schema"} <= repeated_rules


def test_only_objects_still_as_read_are_repeats() -> None:
    """A build changes objects after reading them (namespace, images, patches): those
    are judged one by one, and so is an object with patch layers."""
    objects = _read(_repeated_text())
    ctx = Context(objects, "1.35")
    first_repeat = next(m for m in objects if id(m) in ctx.repeats)
    first_repeat.set_namespace("elsewhere")
    assert not first_repeat.as_read
    layered = next(m for m in objects if id(m) in ctx.repeats and m is not first_repeat)
    layered.layers = (("patch.yaml", layered),)
    again = Context(objects, "1.35").repeats
    assert id(first_repeat) not in again and id(layered) not in again
    assert len(again) == len(ctx.repeats) - 2


def test_a_finding_placed_in_another_object_is_not_reused() -> None:
    class PointsAtTheSpacer(ObjectRule):
        id = "points-at-the-spacer"
        layer = "policy"

        def __init__(self) -> None:
            self.calls = 0

        def check_object(self, manifest: Manifest, ctx: Context) -> Iterator[Finding]:
            self.calls += 1
            yield finding(self.id, "warning", spacer, ("kind",), f"about {manifest.name}")

    objects = _read(_repeated_text())
    spacer = next(m for m in objects if m.name == "spacer-1")
    rule = PointsAtTheSpacer()
    found = list(rule.check(Context(objects, "1.35")))
    assert rule.calls == len(objects) == len(found)


def test_a_kustomize_build_changes_its_objects_so_none_is_as_read() -> None:
    """difygen's own Kustomize build (images, namespace, patches) works on copies of
    what it read: none of them counts as read, so none is a repeat."""
    from generator.manifest_sources import collect

    (built,) = collect([REPO / "output" / "kustomize" / "overlays" / "small"])
    assert len(built.manifests) > 50
    assert not any(m.as_read for m in built.manifests)
    assert not Context(built.manifests, "1.35").repeats
    assert all(m.as_read for m in _read(_repeated_text()))


NAMESPACED = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: {ns}
  labels:
    app: {label}
data:
  {field}: v
"""


def _in_namespaces(*namespaces: str) -> str:
    """A clean ConfigMap, one with a label value the API server refuses and one with a
    field no schema has (`data` holds strings: a list is refused), in each namespace."""
    return "---\n".join(
        doc for ns in namespaces for doc in (
            NAMESPACED.format(name="clean", ns=ns, label="web", field="k"),
            NAMESPACED.format(name="bad-label", ns=ns, label="-web-", field="k"),
            NAMESPACED.format(name="bad-field", ns=ns, label="web", field="k") +
            "binaryData: [1]\n"))


def test_copies_in_other_namespaces_of_clean_objects_are_clean_for_blind_rules(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A namespace-blind rule (schema, k8s-labels) does not judge again a copy in another
    namespace of an object it found nothing on; an object it found something on is
    judged in every namespace; the findings are the ones every copy judged gives."""
    objects = _read(_in_namespaces("one", "two", "three"))
    copies = Context(objects, "1.35").namespace_copies
    assert len(copies) == 6
    assert all(copies[id(m)].name == m.name and copies[id(m)].namespace == "one"
               for m in objects if m.namespace != "one")
    judged: list[str] = []
    real = K8sLabels.check_object

    def counted(self: K8sLabels, m: Manifest, c: Context) -> Iterator[Finding]:
        judged.append(f"{m.namespace}/{m.name}")
        return real(self, m, c)

    monkeypatch.setattr(K8sLabels, "check_object", counted)
    remembered = validate_objects(objects, rules=[K8sLabels(), Schema()])
    assert "two/clean" not in judged and "three/clean" not in judged
    assert {"two/bad-label", "three/bad-label"} <= set(judged)
    monkeypatch.setattr(Context, "namespace_copies", property(lambda self: {}))
    worked_out = validate_objects(_read(_in_namespaces("one", "two", "three")),
                                  rules=[K8sLabels(), Schema()])
    assert remembered.findings == worked_out.findings
    assert [f.namespace for f in remembered.findings if f.rule == "k8s-labels"] == \
        ["one", "two", "three"]
    assert [f.namespace for f in remembered.findings if f.rule == "schema"] == \
        ["one", "two", "three"]


def test_rules_that_read_the_namespace_judge_every_copy() -> None:
    """Only rules that say so skip copies: the others (which may read the namespace:
    quotas, exceptions, policies) are namespace-aware by default."""
    from generator.rules import RULES

    assert {r.id for r in RULES if r.namespace_blind} == {"schema", "k8s-labels"}
