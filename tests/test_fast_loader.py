"""The fast manifest path (rapidyaml + json, positions from lines) answers exactly what the
slow path (libyaml composer + builder) answers: the same data, the same positions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import generator.manifest_loader as manifests
from generator.positions import locate_lines
from generator.yamlio import iter_paths
from tests.conftest import REPO

CORPUS = sorted([*(REPO / "output" / "kustomize").rglob("*.yaml"),
                 *(REPO / "tests" / "cases" / "manifests").rglob("*.yaml")])
TRICKY = [
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: yes\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: 'yes'\n  b: \"on\"\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: 0644\n  b: 1e3\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: 1_000\n  b: .5\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: ~\n  b: 1:30\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: a}\nb: *m\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: !!map {a: b}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: |\n    x: 1\n  b: >\n"
    "    folded\n    text\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: \"\\x41\\u00e9\"\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  t: 2024-01-01\n  n: +1\n",
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
    "  metadata: {name: a}\n",
    "# c\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\n"
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n",
]


@pytest.mark.parametrize("text", TRICKY + [p.read_text(encoding="utf-8") for p in CORPUS],
                         ids=[f"tricky{i}" for i in range(len(TRICKY))] +
                             [str(p.relative_to(REPO)) for p in CORPUS])
def test_fast_and_slow_paths_agree(text: str) -> None:
    slow_problems: list[manifests.Problem] = []
    slow = manifests._load_slow(text, "x.yaml", slow_problems)
    fast = manifests._load_fast(text, "x.yaml")
    if fast is None:
        return  # the slow path answers, so the answer is the slow path's
    assert not slow_problems
    assert [m.obj for m in fast] == [m.obj for m in slow]
    assert [(m.line, m.col) for m in fast] == [(m.line, m.col) for m in slow]
    for quick, exact in zip(fast, slow, strict=True):
        paths = [p for p, _ in iter_paths(quick.obj)]
        for path in [*paths, *((*p, "missing") for p in paths), ("missing",), ()]:
            assert quick.find(path) == exact.find(path), path


def test_risky_scalars_take_the_slow_path() -> None:
    for text in TRICKY[:7]:
        if "'yes'" in text:
            assert manifests._load_fast(text, "x.yaml") is not None
        else:
            assert manifests._load_fast(text, "x.yaml") is None, text


def test_line_locator_is_never_wrong_on_the_rendered_tree() -> None:
    checked = 0
    for path in (REPO / "output" / "kustomize").rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        for doc in manifests._load_fast(text, str(path)) or []:
            assert doc.text is not None
            node = yaml.compose(doc.text, Loader=manifests._PositionLoader)
            for key_path, _ in iter_paths(doc.obj):
                got = locate_lines(doc.text, key_path, doc.line_offset)
                if got is not None:
                    checked += 1
                    assert got == manifests._walk(node, key_path, doc.line_offset)
    assert checked > 1000


def test_duplicate_keys_are_still_refused(tmp_path: Path) -> None:
    target = tmp_path / "dup.yaml"
    target.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
                      encoding="utf-8")
    with pytest.raises(manifests.InputError) as info:
        manifests.load_paths([target])
    assert "duplicate key 'name'" in info.value.problems[0].message
    assert info.value.problems[0].location.line == 5


def test_repeated_documents_keep_their_own_positions() -> None:
    """A document repeated verbatim is parsed once and its positions are shared by text:
    every copy must still be placed at its own lines, exactly as the composer places it,
    and get data of its own (never the same dict)."""
    doc = (REPO / "tests" / "cases" / "manifests" / "negative" / "pss-restricted.yaml"
           ).read_text(encoding="utf-8").split("\n---\n")[0]
    text = "\n---\n".join([doc, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
                           doc, doc])
    slow_problems: list[manifests.Problem] = []
    slow = manifests._load_slow(text, "x.yaml", slow_problems)
    fast = manifests._load_fast(text, "x.yaml")
    assert fast is not None and not slow_problems
    assert len({id(m.obj) for m in fast}) == len(fast) == 4
    assert [m.obj for m in fast] == [m.obj for m in slow]
    copies = [m for m in fast if m.kind != "ConfigMap"]
    assert len({m.line for m in copies}) == 3
    for quick, exact in zip(fast, slow, strict=True):
        for path, _ in iter_paths(quick.obj):
            assert quick.find(path) == exact.find(path), path
    # A finding's place moves with its copy: same path, three different lines.
    path = ("spec",)
    assert len({m.locate(path) for m in copies}) == 3
