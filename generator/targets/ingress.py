"""The Ingress of a plan: outside traffic to the entry point's Service (nginx).

One networking.k8s.io/v1 Ingress, every host routed whole (`/`, Prefix) to the entry
point's Service by port name, TLS from one Secret, and cert-manager's issuer annotation
when the profile names an issuer. Dify's public URLs follow from the first host
(`Ingress.public_origin`).
"""

from __future__ import annotations

from typing import Any

from generator.catalog import ENTRY_POINT
from generator.plan import Plan

Obj = dict[str, Any]

CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer"
ISSUER_ANNOTATION = "cert-manager.io/issuer"


def ingress_annotations(plan: Plan) -> dict[str, str]:
    spec = plan.profile.ingress
    out = dict(spec.annotations)
    if spec.cluster_issuer:
        out[CLUSTER_ISSUER_ANNOTATION] = spec.cluster_issuer
    if spec.issuer:
        out[ISSUER_ANNOTATION] = spec.issuer
    return dict(sorted(out.items()))


def ingress(plan: Plan, ns: str | None, labels: dict[str, str]) -> Obj | None:
    spec = plan.profile.ingress
    if not spec.enabled or not spec.hosts:
        return None
    backend = {"service": {"name": ENTRY_POINT.object_name,
                           "port": {"name": ENTRY_POINT.ports[0].name}}}
    md: Obj = {"name": ENTRY_POINT.object_name}
    if ns:
        md["namespace"] = ns
    md["labels"] = labels
    notes = ingress_annotations(plan)
    if notes:
        md["annotations"] = notes
    body: Obj = {}
    if spec.class_name:
        body["ingressClassName"] = spec.class_name
    if spec.tls_secret:
        body["tls"] = [{"hosts": list(spec.hosts), "secretName": spec.tls_secret}]
    body["rules"] = [{"host": host, "http": {"paths": [
        {"path": "/", "pathType": "Prefix", "backend": backend}]}} for host in spec.hosts]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": md,
            "spec": body}
