"""Findings as text, JSON, JUnit XML or GitHub workflow annotations. Pure functions.

JSON shape (stable; `version` changes only when a field changes meaning):

    {
      "version": 1,
      "kubeVersion": "1.35",
      "findings": [
        {"rule": "resources-limits", "severity": "error", "message": "...",
         "file": "out/app.yaml", "line": 12, "column": 9,
         "object": {"kind": "Deployment", "namespace": "dify", "name": "dify-api"},
         "path": "spec.template.spec.containers[0].resources.limits.memory"}
      ],
      "summary": {"objects": 40, "files": 3, "errors": 1, "warnings": 2, "exitCode": 1}
    }
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from generator.errors import UsageError
from generator.rules.base import Finding
from generator.validate import ValidationResult

FORMATS = ("text", "json", "junit", "github")


def default_format(environ: Mapping[str, str]) -> str:
    """GitHub annotations inside GitHub Actions, text elsewhere."""
    return "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"


def text_line(f: Finding) -> str:
    return f"{f.file}:{f.line}:{f.col}: [{f.severity}] {f.message} ({f.rule})"


def format_text(result: ValidationResult) -> str:
    lines = [text_line(f) for f in result.findings]
    lines.append(_summary_line(result))
    return "\n".join(lines) + "\n"


def _summary_line(result: ValidationResult) -> str:
    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"
    if not result.kube_version:  # Helm values files, merged (validate --helm-values)
        return (f"{plural(result.errors, 'error')}, {plural(result.warnings, 'warning')} in "
                f"{plural(result.files, 'Helm values file')} merged in order")
    return (f"{plural(result.errors, 'error')}, {plural(result.warnings, 'warning')} in "
            f"{plural(result.objects, 'object')} from {plural(result.files, 'file')} "
            f"(Kubernetes {result.kube_version})")


def as_json_data(result: ValidationResult) -> dict[str, object]:
    return {
        "version": 1,
        "kubeVersion": result.kube_version,
        "findings": [{
            "rule": f.rule, "severity": f.severity, "message": f.message, "file": f.file,
            "line": f.line, "column": f.col,
            "object": {"kind": f.kind, "namespace": f.namespace, "name": f.name},
            "path": f.path,
        } for f in result.findings],
        "summary": {"objects": result.objects, "files": result.files,
                    "errors": result.errors, "warnings": result.warnings,
                    "exitCode": result.exit_code},
    }


def format_json(result: ValidationResult) -> str:
    return json.dumps(as_json_data(result), indent=2, sort_keys=False) + "\n"


def format_junit(result: ValidationResult) -> str:
    """One testsuite per file, one testcase per object and rule; an error is a failure,
    warnings go to the testcase's system-out. Objects with no finding get one passing
    testcase per rule that ran, so the CI's test count reflects what was checked."""
    root = ET.Element("testsuites", name="difygen validate")
    by_case: dict[tuple[str, str, str], list[Finding]] = {}
    for f in result.findings:
        by_case.setdefault((f.file, _object_label(f.kind, f.namespace, f.name), f.rule),
                           []).append(f)
    cases: dict[str, list[tuple[str, str]]] = {}
    for file, label in result.checked:
        for rule in result.rules:
            cases.setdefault(file, []).append((label, rule))
    for file, label, rule in by_case:
        if (label, rule) not in cases.setdefault(file, []):
            cases[file].append((label, rule))
    total_tests = total_failures = 0
    for file in sorted(cases):
        suite = ET.SubElement(root, "testsuite", name=file)
        tests = failures = 0
        for label, rule in sorted(cases[file]):
            tests += 1
            case = ET.SubElement(suite, "testcase", classname=label, name=rule, file=file)
            found = by_case.get((file, label, rule), [])
            errors = [f for f in found if f.severity == "error"]
            warnings = [f for f in found if f.severity == "warning"]
            if errors:
                failures += 1
                failure = ET.SubElement(case, "failure", type="error",
                                        message=errors[0].message)
                failure.text = "\n".join(text_line(f) for f in errors)
            if warnings:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(text_line(f) for f in warnings)
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        total_tests += tests
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _object_label(kind: str, namespace: str, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(f: Finding) -> str:
    return (f"::{f.severity} file={_escape_property(f.file)},line={f.line},col={f.col},"
            f"title={_escape_property(f.rule)}::{_escape_data(f.message)}")


def format_github(result: ValidationResult) -> str:
    """Workflow commands: each finding becomes an annotation on the file's line."""
    lines = [github_line(f) for f in result.findings]
    lines.append(_summary_line(result))
    return "\n".join(lines) + "\n"


def render(result: ValidationResult, fmt: str) -> str:
    if fmt == "text":
        return format_text(result)
    if fmt == "json":
        return format_json(result)
    if fmt == "junit":
        return format_junit(result)
    if fmt == "github":
        return format_github(result)
    raise UsageError(f"unknown format {fmt!r} (choose one of {', '.join(FORMATS)})")
