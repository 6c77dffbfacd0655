"""Dify 1.16.1's Celery queues, as data: which exist, and which may wait for a cold worker.

The default list is the one `api/docker/entrypoint.sh` passes to `celery worker -Q` for the
self-hosted (community) edition when neither CELERY_QUEUES nor CELERY_WORKER_QUEUES is set;
CELERY_WORKER_QUEUES selects a subset per Deployment (see docs/components.md).
"""

from __future__ import annotations

DEFAULT_QUEUES: tuple[str, ...] = (
    "dataset", "priority_dataset", "priority_pipeline", "pipeline", "mail", "ops_trace",
    "app_deletion", "plugin", "workflow_storage", "conversation", "workflow",
    "schedule_poller", "schedule_executor", "triggered_workflow_dispatcher",
    "trigger_refresh_executor", "retention",
)

# Queues whose tasks may wait for a worker to start from zero (a minute or more: image
# pull, startup probe) and are short background work nobody waits on: trace export,
# deleting an app's data, retention clean-up. Everything else is user-facing (indexing
# progress, workflows, conversations, mail) or scheduled every minute, where zero
# replicas would only add latency. A pool may scale to zero only if all its queues are
# here, because Celery acknowledges a task when it starts (Dify does not set acks_late):
# a pod removed while a long task runs loses it, and KEDA's scale to zero after
# cooldownPeriod does not see running tasks (they are no longer in the list).
SCALE_TO_ZERO_SAFE: frozenset[str] = frozenset({"ops_trace", "app_deletion", "retention"})

# The Celery broker's Redis database: CELERY_BROKER_URL ends in /1 (docs/secrets.md, as in
# Dify's docker-compose). KEDA reads the queue lists there.
BROKER_DATABASE = 1
