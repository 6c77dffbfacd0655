"""Autoscaling behaviour shared by every HorizontalPodAutoscaler (and KEDA's, which wraps one).

Kubernetes' defaults scale down after 5 minutes by up to 100% of the pods per 15 seconds:
one quiet spell and a Dify stack at maximum drops to its minimum at once, cutting long
streaming chats and Celery tasks. The behaviour below is set on every HPA on purpose.
"""

from __future__ import annotations

from typing import Any

from generator.catalog import Component

# Up fast: load arrives as bursts of chats. At most double, or add 2 pods, per minute,
# whichever is more, so new pods pass their startup probes before the next step.
SCALE_UP_WINDOW_SECONDS = 0
SCALE_UP_PERCENT_PER_MINUTE = 100
SCALE_UP_PODS_PER_MINUTE = 2
# Down slowly: one pod per two minutes, after the catalog's stabilization window.
SCALE_DOWN_PODS = 1
SCALE_DOWN_PERIOD_SECONDS = 120


def behavior(comp: Component) -> dict[str, Any]:
    """The `spec.behavior` of the HPA that scales `comp`."""
    return {
        "scaleUp": {
            "stabilizationWindowSeconds": SCALE_UP_WINDOW_SECONDS,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Percent", "value": SCALE_UP_PERCENT_PER_MINUTE, "periodSeconds": 60},
                {"type": "Pods", "value": SCALE_UP_PODS_PER_MINUTE, "periodSeconds": 60},
            ],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": comp.scale_down_window_seconds,
            "selectPolicy": "Min",
            "policies": [{"type": "Pods", "value": SCALE_DOWN_PODS,
                          "periodSeconds": SCALE_DOWN_PERIOD_SECONDS}],
        },
    }
