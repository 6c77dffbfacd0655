"""Exported schemas are named for kubeconform and self-contained."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from generator.errors import UsageError
from generator.manifest_loader import load_text
from generator.schemas_export import export_schemas

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources: {limits: {memory: 128Mi}}
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("schemas")
    return out, export_schemas("1.35", out)


def test_kubeconform_names(exported: tuple[Path, list[Path]]) -> None:
    out, written = exported
    names = {p.name for p in written}
    assert {"deployment-apps-v1.json", "service-v1.json", "configmap-v1.json",
            "ingress-networking-v1.json", "horizontalpodautoscaler-autoscaling-v2.json",
            "resourcequota-v1.json"} <= names
    assert "podspec-v1.json" not in names and "_definitions.json" not in names
    assert sorted(p.name for p in out.iterdir()) == sorted(names)


def test_files_are_self_contained(exported: tuple[Path, list[Path]]) -> None:
    out, _ = exported
    for name in ("deployment-apps-v1.json", "service-v1.json"):
        text = (out / name).read_text(encoding="utf-8")
        assert "_definitions.json" not in text and '"$id"' not in text
    schema = json.loads((out / "deployment-apps-v1.json").read_text(encoding="utf-8"))
    # No registry and no retrieval: any reference outside the file would raise.
    validator = jsonschema.Draft202012Validator(schema)
    [good] = load_text(DEPLOYMENT)
    validator.validate(good.obj)
    [bad] = load_text(DEPLOYMENT.replace("image: nginx:1.27", "imagePullPolcy: Always"))
    errors = list(validator.iter_errors(bad.obj))
    assert any("imagePullPolcy" in e.message for e in errors)


def test_unknown_version(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        export_schemas("1.2", tmp_path)


def test_custom_resource_schemas_are_exported_under_kubeconform_names(
        exported: tuple[Path, list[Path]]) -> None:
    out, written = exported
    names = {p.name for p in written}
    assert {"scaledobject-keda-v1alpha1.json", "triggerauthentication-keda-v1alpha1.json",
            "servicemonitor-monitoring-v1.json", "podmonitor-monitoring-v1.json",
            "prometheusrule-monitoring-v1.json"} <= names
    schema = json.loads((out / "scaledobject-keda-v1alpha1.json").read_text(encoding="utf-8"))
    assert "KEDA 2.16" in schema["description"]
    validator = jsonschema.Draft202012Validator(schema)
    good = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
            "metadata": {"name": "w"},
            "spec": {"scaleTargetRef": {"name": "w"}, "maxReplicaCount": 3,
                     "triggers": [{"type": "redis", "metadata": {"listName": "dataset",
                                                                 "listLength": "4"}}]}}
    assert list(validator.iter_errors(good)) == []
    bad = json.loads(json.dumps(good))
    bad["spec"]["maxReplicas"] = 3  # not a ScaledObject field
    assert any("maxReplicas" in e.message for e in validator.iter_errors(bad))
