"""Helm parity for the profile's topology settings and escape hatches.

Applied to the chart values `generator.targets.helm` builds, in the chart's own keys
(BorisPolonsky/dify-helm 0.38.0-rc2, read from its values.yaml and templates):

- `ingress.{enabled,className,annotations,hosts[].paths[],tls[]}`: the chart's Ingress
  routes every path to its `dify` Service on `service.port`, which is the nginx proxy;
- images: `image.<x>.pullSecrets` (names) per Dify image, `global.imagePullSecrets` and
  `global.imageRegistry` for the Bitnami subcharts (Helm hands `global` to every
  subchart), `weaviate.image.pullSecrets`;
- service accounts: `<component>.serviceAccount.{create: true,
  automountServiceAccountToken: false}`; by default the chart creates none, so its pods
  run as the namespace's `default` account, whose token Kubernetes mounts. The Bitnami
  subcharts take `serviceAccount.{create,automountServiceAccountToken}` too;
- extra env per component appended to `extraEnv`; profile-wide pod labels and
  annotations as the chart's top-level `labels` / `annotations`.

What the chart cannot carry becomes a gap, never a silent drop.
"""

from __future__ import annotations

from typing import Any

from generator.plan import Plan
from generator.targets.ingress import ingress_annotations

Obj = dict[str, Any]

_NO_TOKEN = {"create": True, "automountServiceAccountToken": False}


def apply(plan: Plan, values: Obj, slots: dict[str, str], gaps: list[str]) -> None:
    """Add the profile's ingress, registry, pull Secrets, service accounts, extra env and
    pod metadata to `values`; `slots` maps component name -> values key."""
    _images(plan, values)
    _service_accounts(plan, values, slots, gaps)
    _extra_env(plan, values, slots)
    _pod_metadata(plan, values, slots, gaps)
    _spread_gaps(plan, gaps)
    ingress = _ingress(plan)
    if ingress is not None:
        values["ingress"] = ingress


def _images(plan: Plan, values: Obj) -> None:
    images = plan.profile.images
    secrets = list(images.pull_secrets)
    if secrets:
        for entry in values["image"].values():
            entry["pullSecrets"] = list(secrets)
    glob: Obj = {}
    if images.registry:
        glob["imageRegistry"] = images.registry
    if secrets:
        glob["imagePullSecrets"] = list(secrets)
    if glob:
        values["global"] = glob
    weaviate = values.get("weaviate", {})
    if secrets and weaviate.get("enabled"):
        weaviate["image"]["pullSecrets"] = list(secrets)


def _service_accounts(plan: Plan, values: Obj, slots: dict[str, str],
                      gaps: list[str]) -> None:
    for key in slots.values():
        if values[key].get("enabled"):
            values[key]["serviceAccount"] = dict(_NO_TOKEN)
    for key in ("postgresql", "redis"):
        if values.get(key, {}).get("enabled"):
            values[key]["serviceAccount"] = dict(_NO_TOKEN)
    if values.get("weaviate", {}).get("enabled"):
        gaps.append("weaviate: the Weaviate subchart creates no service account and has no "
                    "token setting, so its pod runs as the namespace's default account; set "
                    "automountServiceAccountToken: false on that account "
                    "(kubectl patch serviceaccount default)")


def _extra_env(plan: Plan, values: Obj, slots: dict[str, str]) -> None:
    for name, key in slots.items():
        sizing = plan.profile.components[name]
        if not sizing.enabled or not sizing.extra_env:
            continue
        env = {e["name"]: e for e in values[key].get("extraEnv", [])}
        for extra in sizing.extra_env:
            if extra.secret_key is not None:
                env[extra.name] = {"name": extra.name, "valueFrom": {"secretKeyRef": {
                    "name": plan.profile.secret_name, "key": extra.secret_key}}}
            else:
                env[extra.name] = {"name": extra.name, "value": extra.value or ""}
        values[key]["extraEnv"] = list(env.values())


def _pod_metadata(plan: Plan, values: Obj, slots: dict[str, str], gaps: list[str]) -> None:
    glob = plan.profile.pod_metadata
    if glob.labels:
        values["labels"] = dict(glob.labels)
    if glob.annotations:
        values["annotations"] = dict(glob.annotations)
        if values.get("weaviate", {}).get("enabled"):
            values["weaviate"]["annotations"] = dict(glob.annotations)
    if glob.labels or glob.annotations:
        gaps.append("podLabels/podAnnotations: the chart puts its top-level labels and "
                    "annotations on every object it renders (Deployments, Services, "
                    "ConfigMaps), not only on pods")
    for name, sizing in plan.profile.components.items():
        md = sizing.pod_metadata
        if sizing.enabled and (md.labels or md.annotations):
            where = slots.get(name, name)
            gaps.append(f"{name}: the chart has no pod labels or annotations for {where}; "
                        f"components.{name}.podLabels/podAnnotations are not carried")


def _spread_gaps(plan: Plan, gaps: list[str]) -> None:
    for name, sizing in plan.profile.components.items():
        sched = sizing.scheduling
        spread = (sched.topology_spread_zones, sched.topology_spread_nodes)
        if sizing.enabled and spread != ("none", "none"):
            gaps.append(f"{name}: the chart has no topologySpreadConstraints; "
                        "scheduling.topologySpread is not carried (spreadAcrossZones / "
                        "spreadAcrossNodes, rendered as pod anti-affinity, are)")


def _ingress(plan: Plan) -> Obj | None:
    spec = plan.profile.ingress
    if not spec.enabled or not spec.hosts:
        return None
    out: Obj = {"enabled": True}
    if spec.class_name:
        out["className"] = spec.class_name
    out.update({"annotations": ingress_annotations(plan),
                "hosts": [{"host": h, "paths": [{"path": "/", "pathType": "Prefix"}]}
                          for h in spec.hosts]})
    out["tls"] = ([{"secretName": spec.tls_secret, "hosts": list(spec.hosts)}]
                  if spec.tls_secret else [])
    return out
