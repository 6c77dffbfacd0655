"""difygen's own JSON Schemas (profile, fleet, Helm values): loaded and compiled once.

Each has two validators: jsonschema-rs answers "valid?" in microseconds, and the Python
jsonschema validator, slower but with rich error objects, words the messages when the
answer is no. An "integer" is an integer: 20.0 is refused (JSON Schema would take it).
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from generator.resources import schemas_dir

if TYPE_CHECKING:
    # Imported when a message is worded, not at start-up: `validate --manifests` reads
    # CRD schemas through here and most runs never need a detailed error.
    import jsonschema


@cache
def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((schemas_dir() / name).read_text(encoding="utf-8"))
    return data


def _strict_integer(checker: Any, instance: Any) -> bool:
    # JSON Schema counts 20.0 as an integer; the code behind an "integer" key does
    # arithmetic that needs one (a replica count, a percentage), so a float is refused.
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def detailed(name: str) -> jsonschema.protocols.Validator:
    import jsonschema

    schema = load(name)
    base = jsonschema.validators.validator_for(schema)
    base.check_schema(schema)
    cls = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        base, type_checker=base.TYPE_CHECKER.redefine("integer", _strict_integer))
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


def _has_whole_float(instance: Any) -> bool:
    if isinstance(instance, float):
        return instance.is_integer()
    if isinstance(instance, dict):
        return any(_has_whole_float(v) for v in instance.values())
    if isinstance(instance, list):
        return any(_has_whole_float(v) for v in instance)
    return False


@cache
def fast(name: str) -> Any:
    return jsonschema_rs.validator_for(load(name))


def errors(name: str, instance: Any) -> list[jsonschema.ValidationError]:
    """Every error of `instance` against the named schema; [] at jsonschema-rs speed."""
    # jsonschema-rs takes 2.0 for an integer: a whole float goes the strict way.
    if not _has_whole_float(instance) and fast(name).is_valid(instance):
        return []
    return list(detailed(name).iter_errors(instance))
