"""validate_manifests / validate_objects and the manifest loader, in process.

The corpus under tests/cases/manifests/ runs through the real CLI in test_manifest_gate.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import InputError, UsageError
from generator.manifest_loader import MAX_DEPTH, in_memory, load_paths, load_text
from generator.rules import Context, Finding
from generator.validate import (
    ValidationResult,
    select_rules,
    validate_manifests,
    validate_objects,
)

CASES = Path(__file__).parent / "cases" / "manifests"


def test_missing_limit_root_user_and_typo_each_at_their_line() -> None:
    path = CASES / "negative" / "brief-example.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    result = validate_manifests([path])
    assert result.exit_code == 1
    by_rule = {f.rule: f for f in result.findings}
    assert set(by_rule) == {"resources-limits", "pss-run-as-user", "schema"}
    limit, root, typo = by_rule["resources-limits"], by_rule["pss-run-as-user"], by_rule["schema"]
    assert lines[limit.line - 1].strip().startswith("limits: {cpu: 200m}")
    assert limit.path == "spec.containers[0].resources.limits.memory"
    assert lines[root.line - 1].strip().startswith("runAsUser: 0")
    assert root.col == lines[root.line - 1].index("runAsUser") + 1
    assert lines[typo.line - 1].strip().startswith("imagePullPolcy")
    assert typo.message == "unknown field 'imagePullPolcy'"
    assert typo.path == "spec.containers[0].imagePullPolcy"
    assert (typo.kind, typo.namespace, typo.name) == ("Pod", "t", "example")


def test_findings_are_sorted_and_stable() -> None:
    paths = [CASES / "negative", CASES / "positive"]
    first = validate_manifests(paths)
    again = validate_manifests(list(reversed(paths)))
    keys = [f.sort_key() for f in first.findings]
    assert keys == sorted(keys)
    # Which of two equal objects is the repeat depends on the order given; all else may not.
    def stable(result: ValidationResult) -> list[Finding]:
        return sorted((f for f in result.findings if f.rule != "duplicate-object"),
                      key=lambda f: f.sort_key())
    assert stable(first) == stable(again)


def test_directory_is_read_recursively_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                          "  name: z\n", encoding="utf-8")
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
                                     "---\n---\napiVersion: v1\nkind: ConfigMap\n"
                                     "metadata:\n  name: a2\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not yaml: [", encoding="utf-8")
    manifests = load_paths([tmp_path])
    assert [(Path(m.file).name, m.name, m.line) for m in manifests] == [
        ("a.yaml", "a", 1), ("a.yaml", "a2", 7), ("z.yml", "z", 1)]


def test_stdin_dash() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\n"
    manifests = load_paths(["-"], stdin_text=text)
    assert [(m.file, m.name) for m in manifests] == [("<stdin>", "s")]
    result = validate_manifests(text)
    assert result.objects == 1 and result.exit_code == 0


@pytest.mark.parametrize(("text", "where", "words"), [
    ("apiVersion: v1\nkind: ConfigMap\ndata: [1\n", (4, 1), "not valid YAML"),
    ("- a\n- b\n", (1, 1), "a document is a list"),
    ("apiVersion: v1\nmetadata: {name: x}\n", (1, 1), "no kind"),
    ("apiVersion: v1\nkind: ConfigMap\nkind: Secret\n", (3, 1), "duplicate key 'kind'"),
    ("apiVersion: v1\nkind: ConfigMap\ndata:\n\tx: 1\n", (4, 1), "tabs"),
    ("a: &a [1, 2]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
     "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
     "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n", None, "alias bomb"),
    ("a: " + "[" * 100_000 + "]" * 100_000 + "\n", (1, MAX_DEPTH + 3), "nesting is deeper"),
])
def test_bad_input_is_an_input_error_with_a_position(
        text: str, where: tuple[int, int] | None, words: str) -> None:
    with pytest.raises(InputError) as info:
        load_text(text, "in.yaml")
    problems = info.value.problems
    assert problems, info.value.message
    assert words in problems[0].message
    if where is not None:
        assert (problems[0].location.line, problems[0].location.column) == where
    assert problems[0].location.file == "in.yaml"
    assert info.value.exit_code == 2


def test_not_utf8_reports_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"apiVersion: v1\nkind: ConfigMap\ndata: {a: \"\xff\"}\n")
    with pytest.raises(InputError) as info:
        load_paths([path])
    problem = info.value.problems[0]
    assert (problem.location.line, problem.location.column) == (3, 12)
    assert "0xff" in problem.message


def test_every_bad_file_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("- 1\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("kind: X\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_paths([tmp_path, tmp_path / "missing.yaml"])
    files = sorted(Path(p.location.file).name for p in info.value.problems)
    assert files == ["missing.yaml"]  # a missing path stops before any reading
    with pytest.raises(InputError) as info:
        load_paths([tmp_path])
    assert sorted(Path(p.location.file).name for p in info.value.problems) == [
        "a.yaml", "b.yaml"]


def test_oversized_text_is_refused() -> None:
    with pytest.raises(InputError) as info:
        load_text("#" * (64 * 1024 * 1024 + 1))
    assert "limit" in info.value.problems[0].message


def test_kubernetes_reading_of_scalars() -> None:
    [m] = load_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, "
                    "creationTimestamp: 2024-01-01T00:00:00Z}\ndata: {1: 'a', b: yes}\n")
    assert m.metadata["creationTimestamp"] == "2024-01-01T00:00:00Z"
    assert m.obj["data"] == {"1": "a", "b": True}


def test_locate_finds_fields_and_falls_back_to_ancestors() -> None:
    [m] = load_text("\n\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n"
                    "  containers:\n  - name: c\n    image: x:1\n")
    assert (m.line, m.col) == (3, 1)
    assert m.locate(("spec", "containers", 0, "image")) == (10, 5)
    assert m.locate(("spec", "containers", 0, "resources", "limits")) == (9, 5)
    assert m.locate(("spec", "volumes")) == (7, 1)


def test_validate_objects_in_memory_uses_given_file_and_line() -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "x:1", "bogus": 1}]}}
    result = validate_objects([in_memory(obj, "kustomize/base/p.yaml", 7)], "1.35",
                              rules=select_rules(["schema"]))
    assert [(f.file, f.line, f.message) for f in result.findings] == [
        ("kustomize/base/p.yaml", 7, "unknown field 'bogus'")]
    assert result.exit_code == 1


def test_unknown_kube_version_and_rule_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        validate_objects([], "0.1")
    with pytest.raises(UsageError):
        select_rules(["no-such-rule"])


def test_layers_select_rules() -> None:
    assert {r.layer for r in select_rules(["sizing"])} == {"sizing"}
    assert "schema" not in {r.id for r in select_rules(skip=["schema"])}


def test_default_kubernetes_versions_agree() -> None:
    from generator import commands, validate, versions

    assert validate.DEFAULT_KUBERNETES_VERSION == versions.DEFAULT_KUBERNETES_VERSION
    assert commands.DEFAULT_KUBE == versions.DEFAULT_KUBERNETES_VERSION


def test_keep_loaded_receives_the_objects_and_changes_no_finding(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text((CASES / "negative" / "brief-example.yaml").read_text())
    kept: list[object] = []
    result = validate_manifests([path], keep_loaded=kept)
    assert result == validate_manifests([path])
    sets, ctx = kept
    assert isinstance(sets, list)
    objects = [m for s in sets for m in s.manifests]
    assert len(objects) == result.objects > 0
    assert all(m.file == str(path) for m in objects)
    # The rules' views of the set are kept too (freed when the caller lets go).
    assert isinstance(ctx, Context) and list(ctx.manifests) == objects and ctx.memo


def test_checked_objects_are_listed_only_when_asked() -> None:
    path = CASES / "negative" / "brief-example.yaml"
    full = validate_manifests([path])
    bare = validate_manifests([path], list_checked=False)
    assert bare.checked == () and len(full.checked) == full.objects > 0
    assert bare.findings == full.findings and bare.objects == full.objects


@pytest.mark.parametrize("value", ["@x", "`x"])
def test_a_reserved_indicator_starting_a_plain_scalar_is_a_yaml_error(
        tmp_path: Path, value: str) -> None:
    """YAML (and kubectl's go-yaml) refuses a plain scalar starting with `@` or a
    backquote; the fast reader read it as text and the file passed."""
    path = tmp_path / "m.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n"
                    f"  a: {value}\n  b: '{value}'\n")
    with pytest.raises(InputError) as err:
        validate_manifests([path])
    assert [(p.location.line, p.location.column) for p in err.value.problems] == [(6, 6)]
