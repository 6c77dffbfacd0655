"""The strict Kubernetes OpenAPI schemas of a pinned version, compiled once per kind.

The schema files are the ones the `kubernetes-validate` package ships (its "-strict"
variants reject unknown fields). jsonschema-rs does the validating: it is what makes bulk
validation fast. Each kind's schema is compiled on first use and kept for the process.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from generator.errors import UsageError

DEFINITIONS = "_definitions.json"
DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"


@cache
def schema_root() -> Path:
    # Found, not imported: importing kubernetes_validate runs its CLI's imports
    # (jsonschema and more, about 80 ms) for nothing but its data directory.
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("kubernetes-validate is not installed: it ships the strict "
                         "Kubernetes schemas (pip install kubernetes-validate)")
    package = Path(next(iter(spec.submodule_search_locations)))
    return package.resolve() / "kubernetes-json-schema"


@cache
def available_versions() -> tuple[str, ...]:
    """Kubernetes minor versions with strict schemas, oldest first ('1.25', ..., '1.37')."""
    found = []
    for entry in schema_root().iterdir():
        m = re.match(r"^v(\d+)\.(\d+)\.\d+-local-strict$", entry.name)
        if m:
            found.append((int(m.group(1)), int(m.group(2))))
    return tuple(f"{a}.{b}" for a, b in sorted(found))


def version_dir(version: str) -> Path:
    if version not in available_versions():
        raise UsageError(
            f"Kubernetes version {version!r} is not supported (schemas exist for "
            f"{', '.join(available_versions())})")
    return schema_root() / f"v{version}.0-local-strict"


def schema_file_name(api_version: str, kind: str) -> str:
    """kubernetes-validate's naming: apps/v1 Deployment -> deployment-apps-v1.json."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


@dataclass(frozen=True)
class SchemaError:
    """One schema violation: where in the object (a path) and what is wrong."""

    path: tuple[str | int, ...]
    message: str


class SchemaSet:
    """The strict schemas of one Kubernetes version."""

    def __init__(self, version: str) -> None:
        self.version = version
        self._dir = version_dir(version)
        self._validators: dict[tuple[str, str], Any] = {}
        self._registry: Any = None

    def _get_registry(self) -> Any:
        if self._registry is None:
            definitions = json.loads((self._dir / DEFINITIONS).read_text(encoding="utf-8"))
            self._registry = jsonschema_rs.Registry([(DEFINITIONS_URI, definitions)])
        return self._registry

    def knows(self, api_version: str, kind: str) -> bool:
        return (self._dir / schema_file_name(api_version, kind)).is_file()

    def _validator(self, api_version: str, kind: str) -> Any:
        key = (api_version, kind)
        validator = self._validators.get(key)
        if validator is None:
            path = self._dir / schema_file_name(api_version, kind)
            schema = json.loads(path.read_text(encoding="utf-8"))
            validator = jsonschema_rs.validator_for(schema, registry=self._get_registry())
            self._validators[key] = validator
        return validator

    def validate(self, obj: dict[str, Any]) -> list[SchemaError]:
        """Every violation in one object; an empty list when it is valid.

        The caller checks `knows()` first: kinds without a schema (custom resources) are
        not this function's business.
        """
        validator = self._validator(str(obj.get("apiVersion")), str(obj.get("kind")))
        if validator.is_valid(obj):
            return []
        errors = [SchemaError(tuple(e.instance_path), _clean(e.message))
                  for e in validator.iter_errors(obj)]
        return sorted(errors, key=lambda e: ([str(p) for p in e.path], e.message))


def _clean(message: str) -> str:
    # jsonschema-rs prints whole sub-objects in some messages; keep the first line short.
    line = message.splitlines()[0] if message else message
    return line if len(line) <= 300 else line[:297] + "..."


@cache
def schema_set(version: str) -> SchemaSet:
    return SchemaSet(version)
