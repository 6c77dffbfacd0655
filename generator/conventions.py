"""Labels difygen writes and its validator reads back: one definition for both sides.

Kept apart from the targets so that `validate --manifests` (which reads any manifests)
does not import the renderer, its planner and templates at start-up.
"""

from __future__ import annotations

# On the Namespace when the profile turns the policies off: the sandbox-isolation rule
# then warns instead of failing (the gap stays visible).
NETWORK_POLICIES_DISABLED_LABEL = "difygen.io/network-policies"
NETWORK_POLICIES_DISABLED_VALUE = "disabled"


def selector(component: str) -> dict[str, str]:
    """The labels that select a component's pods."""
    return {"app.kubernetes.io/name": "dify", "app.kubernetes.io/component": component}
