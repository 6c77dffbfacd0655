"""The fast paths of generator.yamlio give exactly what the slow ones give.

- Reading: libyaml's events (one pass) against ruamel's round trip (two passes): the same
  data and the same line and column for every key and value, on every YAML file of the
  repository, on tricky documents and on random ones. Documents the fast reader declines
  take the ruamel path, which also words every error.
- Writing: the block writer against PyYAML's safe dumper: the same bytes, on every object
  difygen renders and on random data full of scalars YAML reads as something else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator import yamlio
from generator.errors import GeneratorError
from tests.conftest import REPO

CORPUS = sorted(p for p in [*REPO.glob("profiles/*.yaml"), *REPO.glob("tests/cases/**/*.yaml"),
                            *REPO.glob("docs/**/*.yaml"), *REPO.glob("output/**/*.yaml")]
                if p.is_file())
SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _slow(text: str) -> yamlio.Document | None:
    """What ruamel's path answers (None for an error)."""
    original = yamlio._plain_document
    yamlio._plain_document = lambda *args: None  # type: ignore[assignment]
    try:
        return yamlio.parse_document(text, "x.yaml")
    except GeneratorError:
        return None
    finally:
        yamlio._plain_document = original


def _agree(text: str) -> bool:
    """Both readers give the same document; True when the fast reader took it."""
    fast = yamlio._plain_document(text, "x.yaml", yamlio.MAX_NODES)
    if fast is None:
        return False
    slow = _slow(text)
    assert slow is not None, "the fast reader accepted what ruamel refuses"
    assert fast.data == slow.data
    assert [type(v) for _, v in yamlio.iter_paths(fast.data)] == \
        [type(v) for _, v in yamlio.iter_paths(slow.data)]
    assert fast.key_pos == slow.key_pos
    assert fast.value_pos == slow.value_pos
    return True


def test_every_yaml_file_of_the_repository_reads_the_same() -> None:
    texts = [p.read_bytes().decode("utf-8", "replace") for p in CORPUS]
    taken = sum(_agree(text) for text in texts)
    # Profiles, fleet examples and single-document outputs are plain YAML: most take
    # the fast path (multi-document files and files with errors do not).
    assert taken >= len(texts) // 2, (taken, len(texts))


TAKEN = [
    "a: 1\nb: -2\nc: 0\nd: true\ne: False\nf: null\ng: ~\nh: text\n",
    "list:\n- a\n- {x: 1, y: [p, q]}\n-   - nested\n    - again\n",
    "q: 'single ''quoted'''\nd: \"double \\\" quoted \\u0041\"\n",
    "lit: |\n  line one\n    indented\n\n  after a blank\nfold: >-\n  folded\n  text\n",
    "plain: a plain\n  scalar over\n  three lines\nk: v # comment\n",
    "# comment first\n---\nflow: {a: [1, 2, {b: c}], 'k': \"v\"}\nempty: {}\nnone: []\n",
    "- top\n- level\n- list: of\n  maps: here\n",
    "yes: no\non: off\n",  # strings in YAML 1.2
    "x: 'true'\ny: \"1\"\n'1': one\n",
]
DECLINED = [
    "a: 1.5\n",  # floats
    "a: 0o17\n", "a: 010\n", "a: 0x1F\n", "a: +1\n", "a: 1_000\n", "a: 12345678901234567890\n",
    "a: 2024-01-01\n",  # a timestamp
    "a: &x 1\nb: *x\n",  # anchors and aliases
    "base: &b {x: 1}\nc:\n  <<: *b\n",  # merge keys
    "a: !!str 5\n", "a: !custom x\n",  # tags
    "%YAML 1.1\n---\na: yes\n",  # directives
    "a: 1\n---\nb: 2\n",  # two documents
    "a:\n",  # an empty value
    "a: 1\na: 2\n",  # a duplicate key
    "1: x\n", "true: x\n", "? [a]\n: x\n", "~: x\n",  # keys that are not strings
    "a: caf\u00e9\n", "a:\tb\n", "a: b\r\n",  # beyond ASCII, tabs, CR
    "just a scalar\n", "", "a: [1, 2\n",  # not a collection, empty, broken
]


@pytest.mark.parametrize("text", TAKEN)
def test_plain_documents_take_the_fast_path_and_read_the_same(text: str) -> None:
    assert _agree(text)


@pytest.mark.parametrize("text", DECLINED)
def test_documents_the_fast_path_cannot_vouch_for_take_ruamels(text: str) -> None:
    assert yamlio._plain_document(text, "x.yaml", yamlio.MAX_NODES) is None


def test_the_node_limit_is_left_to_ruamel_which_words_the_error() -> None:
    text = "a: [" + ", ".join(["1"] * 50) + "]\n"
    assert yamlio._plain_document(text, "x.yaml", 20) is None
    with pytest.raises(GeneratorError) as caught:
        yamlio.parse_document(text, "x.yaml", 20)
    assert "found more than 20 values" in caught.value.problems[0].message


# Scalars YAML 1.1 or 1.2 read as something other than a string, indicators, spaces,
# breaks: each decides between plain, quoted and literal style.
WORDS = ["yes", "No", "on", "OFF", "y", "n", "true", "null", "~", "", " ", "1", "-1", "0o7",
         "010", "0x1F", "1_000", "1.5", "1e3", ".inf", ".NaN", "1:20", "2024-01-01", "<<",
         "=", "-", "- a", "a: b", "a #b", "#", "@x", "`x", "'q'", '"d"', "[a]", "{a}", "a,b",
         "x\n", "x\ny", "x\n\ny\n", " lead\nx", "trail \nx", "tab\there", "\u00e9t\u00e9",
         "\u2028", "env-0001", "dify-0001.example.com", "a/b_c.d", "*", "&a", "!t", "%p",
         "|", ">", "?", ":", "x" * 130, "long " * 300, "./a/b", "../a", "./", ".../x",
         "./1.5"]
scalars = st.one_of(st.sampled_from(WORDS), st.text(max_size=12), st.integers(),
                    st.booleans(), st.none(), st.floats(allow_nan=False))
keys = st.one_of(st.sampled_from(WORDS), st.text(max_size=8))
data = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=25)


@SETTINGS
@given(st.one_of(st.dictionaries(keys, data, max_size=5), st.lists(data, max_size=5)))
@example([["\u2028"]])  # a break other than LF: PyYAML indents what follows it
def test_the_block_writer_writes_pyyamls_bytes(value: Any) -> None:
    assert yamlio.dump_yaml(value) == yamlio._pyyaml_dump(value)


@SETTINGS
@given(st.dictionaries(keys, data, min_size=1, max_size=5), st.sampled_from(
    [{"default_flow_style": False}, {"default_flow_style": None},
     {"default_flow_style": True}, {"default_style": "'"}, {"default_style": '"'}]))
def test_random_documents_read_the_same_on_both_paths(value: Any, style: Any) -> None:
    text = yaml.safe_dump(value, allow_unicode=False, sort_keys=False, **style)
    _agree(text)
    _agree(json.dumps(value))


def test_every_rendered_object_is_written_as_pyyaml_writes_it() -> None:
    from generator.plan import plan_for
    from generator.profile_load import BUILTIN_PROFILES, find
    from generator.targets.helm import render_values
    from generator.targets.kustomize import base_objects, render_overlay

    objects: list[Any] = list(base_objects())
    for name in BUILTIN_PROFILES:
        plan = plan_for(find(name))
        objects += render_overlay(plan).objects
        objects.append(yaml.safe_load(render_values(plan).text))
    assert len(objects) > 100
    for obj in objects:
        assert yamlio.dump_yaml(obj) == yamlio._pyyaml_dump(obj)


def test_a_literal_block_that_keeps_its_trailing_breaks_is_left_to_pyyaml() -> None:
    # PyYAML ends such a document with '...': only its own emitter knows when.
    value = {"a": {"b": "end\n\n"}}
    assert yamlio.dump_yaml(value) == yamlio._pyyaml_dump(value)
    assert yamlio.dump_yaml(value).endswith("...\n")


def test_unsupported_types_fail_as_pyyaml_fails() -> None:
    with pytest.raises(yaml.representer.RepresenterError):
        yamlio.dump_yaml({"a": Path("x")})
