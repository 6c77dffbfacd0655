"""Every object against the strict OpenAPI schema of the pinned Kubernetes version."""

from __future__ import annotations

import re
from collections.abc import Iterator

from generator import crd_schemas
from generator.k8s_schemas import SchemaSet, schema_set
from generator.manifest_loader import Manifest
from generator.rules.base import (
    ERROR,
    WARNING,
    Context,
    Finding,
    RepeatedFindings,
    Rule,
    finding,
)

_UNEXPECTED = re.compile(r"^Additional properties are not allowed \((.*) (?:was|were) "
                         r"unexpected\)$")
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


class Schema(Rule):
    """Objects match the strict Kubernetes OpenAPI schema of the chosen version.

    The schemas are the "-strict" ones kubernetes-validate ships (unknown fields are
    errors, as with `kubectl apply --validate=strict`), for the version given with
    `--kube-version`. An unknown field is reported at its own key, a wrong type at the
    value, each with its field path (`spec.template.spec.containers[0].imagePullPolcy`).
    The custom resources difygen emits (KEDA ScaledObject and TriggerAuthentication;
    Prometheus Operator ServiceMonitor, PodMonitor and PrometheusRule) are validated
    against the strict schemas under `schemas/crds/` (each names its source CRD version;
    only the fields difygen writes are allowed). Other kinds with no schema in that
    version (an Argo CD Application, a Flux Kustomization, an API removed in that version)
    get a warning "no schema for kind", not an error: they are not validated.
    """

    id = "schema"
    layer = "schema"
    # ObjectMeta.namespace is any string in every schema: another namespace (a DNS
    # label) changes no verdict.
    namespace_blind = True

    def check(self, ctx: Context) -> Iterator[Finding]:
        schemas = schema_set(ctx.kube_version)
        known: dict[tuple[str, str], bool] = {}
        # A verbatim repeat has its first copy's findings (they depend on its data).
        repeated = RepeatedFindings(ctx, self.namespace_blind)
        for m in ctx.manifests:
            found = repeated.of(m)
            if found is None:
                key = (m.api_version, m.kind)
                ok = known.get(key)
                if ok is None:
                    ok = known[key] = schemas.knows(*key)
                found = list(self._check_object(m, ctx, schemas if ok else None))
                repeated.keep(m, found)
            yield from found

    def _check_object(self, m: Manifest, ctx: Context, schemas: SchemaSet | None
                      ) -> Iterator[Finding]:
        """`schemas`: the version's, None when it has no schema for the object's kind."""
        if schemas is None:
            crd = crd_schemas.schema_name(m.api_version, m.kind)
            if crd is not None:
                for crd_error in crd_schemas.errors(crd, m.obj):
                    path = tuple(crd_error.absolute_path)
                    match = _UNEXPECTED.match(crd_error.message)
                    if match:
                        for name in _QUOTED.findall(match.group(1)):
                            yield finding(self.id, ERROR, m, (*path, name),
                                          f"unknown field {name!r} (schema {crd})")
                    else:
                        yield finding(self.id, ERROR, m, path,
                                      f"{crd_error.message} (schema {crd})")
                return
            yield finding(self.id, WARNING, m, (),
                          f"no schema for kind {m.kind} ({m.api_version}) in Kubernetes "
                          f"{ctx.kube_version}; not validated")
            return
        for error in schemas.validate(m.obj):
            match = _UNEXPECTED.match(error.message)
            if match:
                for name in _QUOTED.findall(match.group(1)):
                    yield finding(self.id, ERROR, m, (*error.path, name),
                                  f"unknown field {name!r}")
            else:
                yield finding(self.id, ERROR, m, error.path, error.message)
