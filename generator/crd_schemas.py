"""Strict JSON Schemas for the custom resources difygen emits (KEDA, Prometheus Operator).

The Kubernetes schemas we ship know no CRDs, so these objects would otherwise go
unvalidated. Each schema under schemas/crds/ names its source CRD version and allows only
the fields difygen writes. Files follow kubeconform's CRD layout
`{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json` (docs/validate.md).
"""

from __future__ import annotations

from typing import Any

import jsonschema

from generator import bundled_schemas
from generator.resources import schemas_dir

CRD_DIR = "crds"


def schema_name(api_version: str, kind: str) -> str | None:
    """The bundled schema for (apiVersion, kind), or None when difygen has none."""
    if "/" not in api_version:
        return None
    group, version = api_version.split("/", 1)
    name = f"{CRD_DIR}/{group}/{kind.lower()}_{version}.json"
    return name if (schemas_dir() / name).is_file() else None


def errors(name: str, obj: dict[str, Any]) -> list[jsonschema.ValidationError]:
    return bundled_schemas.errors(name, obj)
