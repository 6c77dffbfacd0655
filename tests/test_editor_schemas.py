"""The published schemas (schemas/profile.schema.json, schemas/fleet.schema.json) say what
difygen's loaders accept, checked with an independent validator: check-jsonschema, run as
the CLI an editor integration or a CI job would run. Also: `init` and `schemas editor` put
the schema where a YAML editor finds it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import profile_check, profile_load
from generator.errors import GeneratorError
from generator.quantity import QuantityError

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PROFILE_SCHEMA = REPO / "schemas" / "profile.schema.json"
FLEET_SCHEMA = REPO / "schemas" / "fleet.schema.json"
NEGATIVE = REPO / "tests" / "cases" / "negative"
# negative cases whose mistake is a single file's shape (what a schema can say); the others
# (extends cycles, connection budgets, YAML syntax, ...) need the loader
SCHEMA_EXPRESSIBLE = re.compile(r"^(quantity-|percent-|type-|unknown-key-|namespace-|"
                                r"storage-class-|replicas-zero)")
# ...except these, which the loader refuses after the schema check and a JSON Schema cannot
# say: the reserved namespaces (default, kube-*, argocd, ...: a list kept in
# generator/profile_load.py), unit mistakes that depend on which field a quantity is in (`m`
# on a memory size, memory below 4Mi, CPU below 1m) and a whole number written as a float
# (JSON Schema counts 20.0 as an integer). docs/profiles.md ("Editors") names them.
LOADER_ONLY = frozenset({
    "namespace-argocd", "namespace-default", "namespace-kube-system",
    "quantity-512m-memory", "quantity-memory-plain-bytes", "quantity-storage-milli",
    "quantity-tiny-cpu", "type-headroom-float", "type-replicas-whole-float",
})


def check_jsonschema(schema: Path, files: list[Path]) -> dict[str, list[str]]:
    """Errors per file from the real check-jsonschema CLI (one run for all files)."""
    proc = subprocess.run([str(BIN / "check-jsonschema"), "--output-format", "json",
                           "--schemafile", str(schema), *map(str, files)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert not report.get("parse_errors"), report["parse_errors"]
    found: dict[str, list[str]] = {str(f): [] for f in files}
    for error in report["errors"]:
        found[error["filename"]].append(f"{error['path']}: {error['message']}")
    return found


def _write(path: Path, data: Any) -> Path:
    # JSON is YAML too, and says which scalars are strings: PyYAML would leave '1e30'
    # unquoted, which a YAML 1.2 reader (ruamel, as difygen and check-jsonschema use)
    # takes for a number
    path.write_text(json.dumps(data) + "\n" if not isinstance(data, str) else data)
    return path


def _markdown_yaml_blocks(*pages: Path) -> list[str]:
    blocks = []
    for page in pages:
        blocks += re.findall(r"^```yaml\n(.*?)^```", page.read_text(), re.M | re.S)
    return blocks


def _profile_examples(tmp_path: Path) -> list[Path]:
    """Built-in profiles, profiles shown in the docs, and what `init` writes."""
    files = sorted((REPO / "profiles").glob("*.yaml"))
    docs = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    for i, block in enumerate(_markdown_yaml_blocks(*docs)):
        data = yaml.safe_load(block)
        if isinstance(data, dict) and ("components" in data or "extends" in data):
            files.append(_write(tmp_path / f"doc-example-{i}.yaml", block))
    proc = subprocess.run([str(BIN / "difygen"), "init", "team-a", "--profiles-dir",
                           str(tmp_path / "init")], capture_output=True, text=True,
                          timeout=60, check=True)
    assert "created" in proc.stdout
    files.append(tmp_path / "init" / "team-a.yaml")
    return files


def test_check_jsonschema_accepts_every_builtin_and_example_profile(tmp_path: Path) -> None:
    files = _profile_examples(tmp_path)
    assert len(files) >= 4
    for path in files:  # the loader accepts them too
        profile_load.load(profile_load.ProfileRef(path.stem, path, builtin=False))
    errors = check_jsonschema(PROFILE_SCHEMA, files)
    assert not any(errors.values()), {f: e for f, e in errors.items() if e}


def _bad_profiles(tmp_path: Path) -> list[Path]:
    cases = sorted(p / "profile.yaml" for p in NEGATIVE.iterdir()
                   if SCHEMA_EXPRESSIBLE.match(p.name) and p.name not in LOADER_ONLY
                   and (p / "profile.yaml").is_file())
    written = [
        ("memory-512Mb", "components:\n  api:\n    resources:\n      limits: {memory: 512Mb}\n"),
        ("kubernetes-version-unquoted", "kubernetesVersion: 1.30\n"),
        ("cpu-with-space", "components:\n  api:\n    resources:\n      requests: {cpu: '1 '}\n"),
        ("null-in-a-list", "components:\n  api:\n    scheduling:\n      tolerations: [null]\n"),
        ("null-selector-value",
         "components:\n  api:\n    scheduling:\n      nodeSelector: {zone: null}\n"),
    ]
    return cases + [_write(tmp_path / f"{name}.yaml", text) for name, text in written]


def test_check_jsonschema_rejects_bad_profiles_the_loader_rejects(tmp_path: Path) -> None:
    files = _bad_profiles(tmp_path)
    assert len(files) > 25
    for path in files:
        with pytest.raises(GeneratorError):
            profile_load.load(profile_load.ProfileRef("bad", path, builtin=False))
    errors = check_jsonschema(PROFILE_SCHEMA, files)
    accepted = [f for f, e in errors.items() if not e]
    assert not accepted, accepted
    assert any("512Mb" in e for e in errors[str(tmp_path / "memory-512Mb.yaml")])


# --- exactness: the schema and the loader agree value by value --------------------------

QUANTITIES: list[Any] = [
    "500m", "2", "512Mi", "20Gi", "1e3", "1E3", "1.5", "+1", ".5", "1.", "0.5Gi", "1e15",
    "1e-30", "1e+015", "1e-030", "2P", "100k", "0.001", "2Ti", 1, 0.5, 64, 1e15,
    "512Mb", "0", "0Mi", "0.0", "-1", "-1Gi", "1e31", "1e+031", "1e999999999", "abc",
    "1.5.5", " 1", "1 ", "", "1" * 65, "Mi", "1 Gi", "1gi", "1KB", "1e", 0, -1, 0.0, 1e40,
    True, [1], {"a": 1},
]


def _loader_accepts_quantity(value: Any) -> bool:
    try:
        return profile_check._parse_bounded(value) > 0
    except QuantityError:
        return False


def test_quantities_accepted_by_the_schema_are_those_the_loader_accepts(
        tmp_path: Path) -> None:
    files = [_write(tmp_path / f"q{i}.yaml", {"node": {"cpu": value}})
             for i, value in enumerate(QUANTITIES)]
    errors = check_jsonschema(PROFILE_SCHEMA, files)
    disagree = [(value, bool(errors[str(f)]))
                for value, f in zip(QUANTITIES, files, strict=True)
                if _loader_accepts_quantity(value) == bool(errors[str(f)])]
    assert not disagree, f"(value, schema rejected) where the loader disagrees: {disagree}"
    assert sum(map(_loader_accepts_quantity, QUANTITIES)) >= 15  # both sides are exercised


def test_the_one_documented_gap_is_magnitude(tmp_path: Path) -> None:
    """A pattern cannot bound a number by its value: the schema lets through a quantity
    above Kubernetes' 64-bit limit, which the loader refuses (the schema says so)."""
    for huge in ("9" * 30, "1e30", "2E"):
        assert not _loader_accepts_quantity(huge)
        errors = check_jsonschema(PROFILE_SCHEMA, [_write(tmp_path / "huge.yaml",
                                                          {"node": {"cpu": huge}})])
        assert not any(errors.values()), huge
    assert "too large" in json.loads(PROFILE_SCHEMA.read_text())["$defs"]["quantity"][
        "description"]


def _property_paths(schema: dict[str, Any], node: dict[str, Any],
                    path: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Every key path the schema names; a list's items appear as index 0 and a map's free
    keys as 'x'."""
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].split("/")[-1]]
    found = []
    for key, sub in node.get("properties", {}).items():
        found.append((*path, key))
        found += _property_paths(schema, sub, (*path, key))
    if isinstance(node.get("items"), dict):
        found += _property_paths(schema, node["items"], (*path, 0))
    if isinstance(node.get("additionalProperties"), dict):
        found.append((*path, "x"))
    return found


def _nest(path: tuple[Any, ...], leaf: Any) -> Any:
    value = leaf
    for part in reversed(path):
        value = [value] if part == 0 else {part: value}
    return value


def _loader_accepts_file(path: Path) -> bool:
    try:
        profile_load._load_doc_uncached(path)
    except GeneratorError:
        return False
    return True


def test_a_null_is_accepted_by_the_schema_exactly_where_the_loader_accepts_it(
        tmp_path: Path) -> None:
    """`key: null` removes an inherited key. Every key path of the schema (new keys
    included) with a null: the published schema and the loader give the same answer."""
    schema = json.loads(PROFILE_SCHEMA.read_text())
    paths = _property_paths(schema, schema, ())
    assert len(paths) > 80
    files = [_write(tmp_path / f"n{i}.yaml", _nest(p, None)) for i, p in enumerate(paths)]
    errors = check_jsonschema(PROFILE_SCHEMA, files)
    disagree = [(".".join(map(str, p)), "schema " + ("rejects" if errors[str(f)] else
                                                     "accepts"))
                for p, f in zip(paths, files, strict=True)
                if _loader_accepts_file(f) == bool(errors[str(f)])]
    assert not disagree, disagree
    # the directive is usable where people use it
    accepted = {".".join(map(str, p)) for p, f in zip(paths, files, strict=True)
                if not errors[str(f)]}
    assert {"node", "components.api.persistence", "components.api.resources.limits.memory",
            "images.pullPolicy"} <= accepted


# --- fleets ------------------------------------------------------------------------------

def test_check_jsonschema_accepts_the_documented_fleet_and_rejects_bad_ones(
        tmp_path: Path) -> None:
    blocks = [b for b in _markdown_yaml_blocks(REPO / "docs" / "fleet.md")
              if "environments:" in b]
    assert blocks
    good = [_write(tmp_path / f"fleet-{i}.yaml", b) for i, b in enumerate(blocks)]
    bad = [
        _write(tmp_path / "bad-unknown.yaml", {"environments": [{"name": "a", "profile": "small",
                                                                  "replica": 2}]}),
        _write(tmp_path / "bad-missing.yaml", {"name": "dify"}),
        _write(tmp_path / "bad-name.yaml", {"environments": [{"name": "A_B",
                                                               "profile": "small"}]}),
    ]
    errors = check_jsonschema(FLEET_SCHEMA, good + bad)
    assert not any(errors[str(f)] for f in good), errors
    assert all(errors[str(f)] for f in bad), errors


# --- editors -----------------------------------------------------------------------------

MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")


def test_init_writes_the_editor_schema_line_and_the_schema_beside_it(tmp_path: Path) -> None:
    proc = subprocess.run([str(BIN / "difygen"), "init", "team-b", "--profiles-dir", "p.d"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    profile = tmp_path / "p.d" / "team-b.yaml"
    first = profile.read_text().splitlines()[0]
    match = MODELINE.match(first)
    assert match, first
    schema = profile.parent / match.group(1)  # relative to the profile, as editors read it
    assert schema.read_bytes() == PROFILE_SCHEMA.read_bytes()
    # a second init keeps the copy; a foreign file of that name is never overwritten
    schema.write_text('{"$id": "https://example.invalid/mine"}')
    proc = subprocess.run([str(BIN / "difygen"), "init", "team-c", "--profiles-dir", "p.d"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 0 and "not difygen's schema" in proc.stderr
    assert schema.read_text() == '{"$id": "https://example.invalid/mine"}'


def test_schemas_editor_writes_and_refreshes_both_schemas(tmp_path: Path) -> None:
    target = tmp_path / "editor"
    target.mkdir()
    stale = json.loads(FLEET_SCHEMA.read_text())
    stale["description"] = "an older difygen's copy"
    (target / "fleet.schema.json").write_text(json.dumps(stale))
    proc = subprocess.run([str(BIN / "difygen"), "schemas", "editor", str(target)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (target / "profile.schema.json").read_bytes() == PROFILE_SCHEMA.read_bytes()
    assert (target / "fleet.schema.json").read_bytes() == FLEET_SCHEMA.read_bytes()


def test_docs_say_where_the_schemas_are() -> None:
    profiles_doc = (REPO / "docs" / "profiles.md").read_text()
    fleet_doc = (REPO / "docs" / "fleet.md").read_text()
    for doc in (profiles_doc, fleet_doc):
        assert "yaml-language-server: $schema=" in doc
        assert "difygen schemas editor" in doc
