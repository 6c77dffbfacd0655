"""Checks rendered Helm values against schemas/helm-values.schema.json.

The chart's own values.schema.json forbids no unknown key, so a misspelled key would be
ignored by Helm without a word; this schema is strict on every object difygen writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from generator import bundled_schemas
from generator.errors import Location, Problem
from generator.yamlio import dotted

if TYPE_CHECKING:  # imported only where a message is worded: jsonschema costs
    import jsonschema  # ~70 ms of start-up, and a valid input never needs it

SCHEMA_FILE = "helm-values.schema.json"


def helm_values_schema() -> dict[str, Any]:
    return bundled_schemas.load(SCHEMA_FILE)


def validate_values(values: dict[str, Any], source: str) -> list[Problem]:
    """Every way `values` breaks the schema, each located by its dotted key path."""
    problems: list[Problem] = []
    for error in bundled_schemas.errors(SCHEMA_FILE, values):
        problems.extend(_problems(error, source))
    return sorted(problems, key=lambda p: (p.location.key_path, p.message))


def _problems(error: jsonschema.ValidationError, source: str) -> list[Problem]:
    path = tuple(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        allowed = sorted(schema.get("properties", {}))
        extras = sorted(k for k in error.instance if k not in allowed)
        return [Problem(Location(source, key_path=dotted((*path, key))),
                        f"unknown key {key!r} (allowed here: {', '.join(allowed) or 'none'})")
                for key in extras]
    if error.validator == "type":
        message = (f"found {error.instance!r} ({_kind(error.instance)}); expected "
                   f"{_expected(error.validator_value)}")
    elif error.validator == "required":
        message = error.message.replace("is a required property", "is required here")
    else:
        message = f"found {error.instance!r}: {error.message}"
    return [Problem(Location(source, key_path=dotted(path)), message)]


def _kind(value: object) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
             dict: "object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _expected(types: object) -> str:
    if isinstance(types, list):
        return " or ".join(str(t) for t in types)
    return str(types)
