"""Strict JSON Schemas for the custom resources difygen emits (KEDA, Prometheus Operator).

The Kubernetes schemas we ship know no CRDs, so these objects would otherwise go
unvalidated. Each schema under schemas/crds/ names its source CRD version and allows only
the fields difygen writes. Files follow kubeconform's CRD layout
`{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json` (docs/validate.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from generator import bundled_schemas
from generator.resources import schemas_dir

if TYPE_CHECKING:
    import jsonschema  # the error type only: see bundled_schemas

CRD_DIR = "crds"


def schema_name(api_version: str, kind: str) -> str | None:
    """The bundled schema for (apiVersion, kind), or None when difygen has none."""
    if "/" not in api_version:
        return None
    group, version = api_version.split("/", 1)
    name = f"{CRD_DIR}/{group}/{kind.lower()}_{version}.json"
    return name if (schemas_dir() / name).is_file() else None


# (apiVersion, kind) of every bundled CRD schema.
KINDS: tuple[tuple[str, str], ...] = (
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("keda.sh/v1alpha1", "TriggerAuthentication"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PodMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
)


def load(name: str) -> dict[str, Any]:
    return bundled_schemas.load(name)


def exported_names() -> dict[str, tuple[str, str]]:
    """kubeconform's `{{ .ResourceKind }}{{ .KindSuffix }}.json` file name of each schema:
    kind in lower case, the first segment of the group, the version."""
    out = {}
    for api_version, kind in KINDS:
        group, version = api_version.split("/", 1)
        out[f"{kind.lower()}-{group.split('.')[0]}-{version}.json"] = (api_version, kind)
    return out


def errors(name: str, obj: dict[str, Any]) -> list[jsonschema.ValidationError]:
    return bundled_schemas.errors(name, obj)
