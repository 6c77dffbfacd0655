"""difygen's own JSON Schemas (profile, fleet, Helm values): loaded and compiled once.

Each has two validators: jsonschema-rs answers "valid?" in microseconds, and the Python
jsonschema validator, slower but with rich error objects, words the messages when the
answer is no.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
import jsonschema_rs

from generator.resources import schemas_dir


@cache
def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((schemas_dir() / name).read_text(encoding="utf-8"))
    return data


@cache
def detailed(name: str) -> jsonschema.protocols.Validator:
    schema = load(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


@cache
def fast(name: str) -> Any:
    return jsonschema_rs.validator_for(load(name))


def errors(name: str, instance: Any) -> list[jsonschema.ValidationError]:
    """Every error of `instance` against the named schema; [] at jsonschema-rs speed."""
    if fast(name).is_valid(instance):
        return []
    return list(detailed(name).iter_errors(instance))
