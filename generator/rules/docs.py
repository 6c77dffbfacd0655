"""docs/rules.md, generated from the rules' docstrings: `python -m generator.rules.docs`."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

from generator.rules import LAYERS, RULES
from generator.rules.base import NEEDS_TOKEN, SECURITY_EXCEPTION, SINGLE_NODE

_INTRO = f"""# Validation rules

Generated from the rules' docstrings by `python -m generator.rules.docs`; do not edit.
`difygen validate` runs every rule on every object; each finding prints as
`file:line:col: [error|warning] message (rule-id)`. Exit codes: 0 no errors (warnings
allowed), 1 errors found, 2 bad input.

Annotations the rules read (put them on the pod template; the workload object also works):

| annotation | effect |
|---|---|
| `{SECURITY_EXCEPTION}: "<reason>"` | informational only: it relaxes nothing (a manifest \
cannot grant itself an exception; see below) |
| `{SINGLE_NODE}: "true"` | all pods of the workload run on one node, so a ReadWriteOnce \
volume may be shared (also honoured on the Namespace object) |
| `{NEEDS_TOKEN}: "<reason>"` | the pod may mount a service account token |

Security exceptions are declared, never self-granted: the catalog declares dify-sandbox's
(run as root; add CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID, SYS_CHROOT), and
`difygen validate --manifests --exceptions FILE` adds a platform team's (format in
docs/validate.md). An exception matches a container by its image repository (a registry
prefix may precede it) and turns exactly the findings of what it declares into warnings
that quote its reason: pss-run-as-non-root and pss-run-as-user for `runAsRoot`,
pss-capabilities for each listed capability. Every other finding stays an error.

The node a single-node profile runs on is declared in a ConfigMap named `difygen-node`
(see node-fit below).
"""

_LAYER_TITLES = {"schema": "Schema", "policy": "Policy", "sizing": "Sizing consistency"}


def render() -> str:
    parts = [_INTRO]
    for layer in LAYERS:
        parts.append(f"\n## {_LAYER_TITLES[layer]}\n")
        for rule in RULES:
            if rule.layer != layer:
                continue
            doc = inspect.getdoc(type(rule)) or ""
            summary, _, body = doc.partition("\n")
            parts.append(f"\n### `{rule.id}`\n\n{summary}\n")
            if body.strip():
                parts.append(f"\n{body.strip()}\n")
    return "".join(parts)


def main() -> int:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/rules.md")
    target.write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
