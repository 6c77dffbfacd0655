"""`difygen init`: a starting custom profile."""

from __future__ import annotations

from pathlib import Path

from generator.editor_schemas import PROFILE_SCHEMA, SchemaCopies, modeline, write_editor_schemas
from generator.errors import OutputError, UsageError
from generator.profile_load import BUILTIN_PROFILES, NAME_RE

# The first line lets YAML editors complete and check the profile against the schema
# copied beside it (see generator/editor_schemas.py).
TEMPLATE = modeline(PROFILE_SCHEMA) + """
# Custom difygen profile. Every key is optional: what is not set here comes from
# the parent profile. See docs/profiles.md for every key and the merge rules.
extends: {extends}
description: {name} environment
namespace: {name}

# Who may reach nginx, the entry point (docs/network-policies.md); by default the pods
# of the namespace ingress-nginx.
# networkPolicies:
#   ingressFrom:
#     - namespaceSelector: {{kubernetes.io/metadata.name: ingress-nginx}}

# components:
#   api:
#     autoscaling: {{minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 70}}
#     resources:
#       requests: {{cpu: 500m, memory: 1Gi}}
#       limits: {{cpu: "2", memory: 2Gi}}
"""


def scaffold(name: str, extends: str, directory: Path) -> tuple[Path, SchemaCopies]:
    if not NAME_RE.match(name) or len(name) > 63:
        raise UsageError(f"profile name {name!r}: use a DNS-1123 label (lower-case letters, "
                         "digits and '-', at most 63 characters)")
    if extends not in BUILTIN_PROFILES:
        raise UsageError(f"--extends {extends!r}: choose one of {', '.join(BUILTIN_PROFILES)}")
    path = directory / f"{name}.yaml"
    if path.exists():
        raise UsageError(f"{path} already exists; choose another name")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(TEMPLATE.format(name=name, extends=extends), encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from exc
    return path, write_editor_schemas(directory, (PROFILE_SCHEMA,))
