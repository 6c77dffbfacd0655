"""Output formats: text, JSON, JUnit XML, GitHub annotations."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generator.errors import UsageError
from generator.report import (
    default_format,
    format_github,
    format_json,
    format_junit,
    format_text,
    github_line,
    render,
)
from generator.rules import Finding
from generator.validate import ValidationResult, validate_manifests

CASES = Path(__file__).parent / "cases" / "manifests"


@pytest.fixture(scope="module")
def result() -> ValidationResult:
    return validate_manifests([CASES / "negative" / "brief-example.yaml",
                               CASES / "negative" / "schema.yaml"])


def test_text_lines(result: ValidationResult) -> None:
    lines = format_text(result).splitlines()
    assert len(lines) == len(result.findings) + 1
    for line, f in zip(lines, result.findings, strict=False):
        assert line == f"{f.file}:{f.line}:{f.col}: [{f.severity}] {f.message} ({f.rule})"
    assert lines[-1].startswith(f"{result.errors} errors, 1 warning in 4 objects from 2 files")


def test_json_shape(result: ValidationResult) -> None:
    data = json.loads(format_json(result))
    assert data["version"] == 1 and data["kubeVersion"] == result.kube_version
    assert data["summary"] == {"objects": 4, "files": 2, "errors": result.errors,
                               "warnings": 1, "exitCode": 1}
    first = data["findings"][0]
    assert set(first) == {"rule", "severity", "message", "file", "line", "column", "object",
                          "path"}
    assert set(first["object"]) == {"kind", "namespace", "name"}
    assert [f["line"] for f in data["findings"]] == [f.line for f in result.findings]


def test_junit_parses_with_one_case_per_object(result: ValidationResult) -> None:
    root = ET.fromstring(format_junit(result).encode("utf-8"))
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == result.objects
    failures = root.findall("./testsuite/testcase/failure")
    assert int(root.get("failures", "-1")) == len(failures) > 0
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert "Pod/t/example" in failed
    warned = [c.get("name") for c in cases if c.find("system-out") is not None]
    assert warned == ["Application/dify"]


def test_github_annotations_escape(result: ValidationResult) -> None:
    lines = format_github(result).splitlines()
    assert lines[0].startswith("::error file=")
    assert all(line.startswith(("::error ", "::warning ")) for line in lines[:-1])
    odd = Finding("schema", "warning", "50% done\nnext: a,b", "dir,x/a:b.yaml", 3, 4)
    assert github_line(odd) == ("::warning file=dir%2Cx/a%3Ab.yaml,line=3,col=4,"
                                "title=schema::50%25 done%0Anext: a,b")


def test_default_format_and_unknown_format(result: ValidationResult) -> None:
    assert default_format({"GITHUB_ACTIONS": "true"}) == "github"
    assert default_format({}) == "text"
    assert render(result, "json") == format_json(result)
    with pytest.raises(UsageError):
        render(result, "yaml")


@given(st.text(alphabet="ab ()", max_size=30))
def test_closing_parenthesis_is_where_the_last_one_opens(message: str) -> None:
    """The report's aside finder against a character-by-character reference."""
    from generator.report import _closing_parenthesis

    expected = -1
    if message.endswith(")"):
        depth = 0
        for i in range(len(message) - 1, -1, -1):
            depth += {")": 1, "(": -1}.get(message[i], 0)
            if depth == 0:
                expected = i
                break
    assert _closing_parenthesis(message) == expected


def test_findings_sort_by_file_line_column_rule_path_message() -> None:
    odd = Finding("rule", "error", "message", "file.yaml", 3, 4, "Kind", "ns", "name",
                  "spec.x")
    assert odd.sort_key() == ("file.yaml", 3, 4, "rule", "spec.x", "message")
    later = [odd._replace(line=2, col=9), odd._replace(rule="a"), odd._replace(path="a"),
             odd._replace(message="a"), odd._replace(file="a.yaml")]
    assert sorted([odd, *later], key=Finding.sort_key) == \
        [later[4], later[0], later[1], later[2], later[3], odd]


@pytest.mark.parametrize("message", ["plain", "naïve — “quoted”\u2028"])
def test_json_is_what_the_json_module_writes(result: ValidationResult, message: str) -> None:
    """The fast writer's output is json.dumps(indent=2)'s, byte for byte; non-ASCII
    text keeps the json module's \\u escapes."""
    from generator.report import as_json_data

    odd = result.findings[0]._replace(message=message)
    changed = ValidationResult((odd, *result.findings[1:]), result.objects, result.files,
                               result.kube_version, result.checked, result.rules)
    written = format_json(changed)
    assert written == json.dumps(as_json_data(changed), indent=2) + "\n"
    assert written.isascii()
