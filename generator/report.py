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
from collections.abc import Mapping

import orjson

from generator.errors import UsageError
from generator.rules.base import Finding
from generator.validate import ValidationResult

FORMATS = ("text", "json", "junit", "github")


def default_format(environ: Mapping[str, str]) -> str:
    """GitHub annotations inside GitHub Actions, text elsewhere."""
    return "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"


def text_line(f: Finding) -> str:
    return f"{f.file}:{f.line}:{f.col}: [{f.severity}] {f.message} ({f.rule})"


# How much the text format shows: quiet (errors and the summary), normal (warnings too,
# with a long explanation repeated by several findings shown once), verbose (everything
# as the rules worded it).
QUIET, NORMAL, VERBOSE = -1, 0, 1
_LONG_ASIDE = 80


def format_text(result: ValidationResult, verbosity: int = NORMAL) -> str:
    lines: list[str] = []
    shown_asides: set[str] = set()
    for f in result.findings:
        if verbosity <= QUIET and f.severity != "error":
            continue
        line = text_line(f)
        if verbosity < VERBOSE:
            line = _aside_once(f, line, shown_asides)
        lines.append(line)
    lines.append(_summary_line(result))
    return "\n".join(lines) + "\n"


def _aside_once(f: Finding, line: str, shown: set[str]) -> str:
    """A long closing parenthesis (an exception's reason, say) that an earlier line
    already showed is not printed again: eight sandbox warnings carry one reason."""
    start = _closing_parenthesis(f.message)
    if start < 1:
        return line
    aside = f.message[start + 1:-1]
    if len(aside) < _LONG_ASIDE:
        return line
    if aside not in shown:
        shown.add(aside)
        return line
    head = aside.split(":", 1)[0] if ":" in aside[:60] else aside[:40]
    return text_line(f._replace(message=f"{f.message[:start].rstrip()} ({head}: as above)"))


def _closing_parenthesis(message: str) -> int:
    """Where the parenthesis that ends `message` opens, or -1."""
    if not message.endswith(")"):
        return -1
    depth = 0
    end = len(message)
    while True:  # from parenthesis to parenthesis (rfind), not character by character
        at = max(message.rfind(")", 0, end), message.rfind("(", 0, end))
        if at < 0:
            return -1
        depth += 1 if message[at] == ")" else -1
        if depth == 0:
            return at
        end = at


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
    data = as_json_data(result)
    # orjson writes what json.dumps(indent=2) writes, ten times faster (the json module
    # encodes in Python when indenting: 0.6 s for 30,000 findings), except that it keeps
    # non-ASCII characters as they are: then json writes, with its \u escapes.
    fast = orjson.dumps(data, option=orjson.OPT_INDENT_2)
    if fast.isascii():
        return fast.decode("ascii") + "\n"
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def format_junit(result: ValidationResult) -> str:
    """One testsuite per file and one testcase per object: a test report shows what was
    checked, not rules times objects. An object with errors fails, its errors listed in
    the failure; warnings go to the testcase's system-out. The rules that ran are listed
    once, as a property of each suite."""
    import xml.etree.ElementTree as ET  # only this format needs it

    root = ET.Element("testsuites", name="difygen validate")
    by_object: dict[tuple[str, str], list[Finding]] = {}
    for f in result.findings:
        by_object.setdefault((f.file, _object_label(f.kind, f.namespace, f.name)),
                             []).append(f)
    objects: dict[str, list[str]] = {}
    for file, label in (*result.checked, *by_object):
        if label not in objects.setdefault(file, []):
            objects[file].append(label)
    total_tests = total_failures = 0
    for file in sorted(objects):
        suite = ET.SubElement(root, "testsuite", name=file)
        if result.rules:
            properties = ET.SubElement(suite, "properties")
            ET.SubElement(properties, "property", name="rules", value=" ".join(result.rules))
        failures = 0
        for label in sorted(objects[file]):
            case = ET.SubElement(suite, "testcase", classname=file, name=label or file,
                                 file=file)
            found = by_object.get((file, label), [])
            errors = [f for f in found if f.severity == "error"]
            warnings = [f for f in found if f.severity == "warning"]
            if errors:
                failures += 1
                rules = sorted({f.rule for f in errors})
                failure = ET.SubElement(
                    case, "failure", type=", ".join(rules),
                    message=f"{len(errors)} error{'s' if len(errors) > 1 else ''}: "
                            f"{errors[0].message}")
                failure.text = "\n".join(text_line(f) for f in errors)
            if warnings:
                out = ET.SubElement(case, "system-out")
                out.text = "\n".join(text_line(f) for f in warnings)
        suite.set("tests", str(len(objects[file])))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        total_tests += len(objects[file])
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


def render(result: ValidationResult, fmt: str, verbosity: int = NORMAL) -> str:
    if fmt == "text":
        return format_text(result, verbosity)
    if fmt == "json":
        return format_json(result)
    if fmt == "junit":
        return format_junit(result)
    if fmt == "github":
        return format_github(result)
    raise UsageError(f"unknown format {fmt!r} (choose one of {', '.join(FORMATS)})")
