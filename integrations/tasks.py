"""django-q2 entry points. Each takes ids and is idempotent (the ORM broker is at-least-once)."""

from __future__ import annotations

from django_q.tasks import async_task

from integrations.delivery_lifecycle import deliveries_sweep
from integrations.ingest import delivery_process_safely
from integrations.metrics.rollups import metrics_rollup, metrics_summarise
from integrations.reconciler import reconcile_connection_by_id, reconcile_due, reconcile_runs_expire_stale


def inbound_delivery_process(delivery_id: int) -> str:
    return delivery_process_safely(delivery_id=delivery_id)


def inbound_delivery_process_key(connection_id: int, delivery_key: str) -> str:
    """The same, by (connection, delivery id): the inbox's one-statement path enqueues before the row id is known."""
    return delivery_process_safely(connection_id=connection_id, delivery_key=delivery_key)


def inbound_deliveries_sweep() -> int:
    """Scheduled every minute: wake a worker for deliveries whose retry is due or whose task was lost."""
    return deliveries_sweep()


def reconcile_due_connections() -> int:
    """Scheduled every minute: start a reconcile task for each connection whose cadence is due."""
    reconcile_runs_expire_stale()
    due = reconcile_due()
    for connection_id in due:
        async_task("integrations.tasks.reconcile_connection", connection_id, group="integrations.reconcile")
    return len(due)


def reconcile_full_diff_due() -> int:
    """Scheduled hourly: the daily full diff of each connection not fully diffed in the last 23 hours."""
    due = reconcile_due(full=True)
    for connection_id in due:
        async_task("integrations.tasks.reconcile_connection", connection_id, True, group="integrations.reconcile")
    return len(due)


def reconcile_connection(connection_id: int, full: bool = False) -> int | None:
    return reconcile_connection_by_id(connection_id, full=full)


def metrics_rollup_minutes() -> int:
    """Scheduled every minute: the connector metrics' last complete minutes, upserted (idempotent)."""
    return metrics_rollup()


def metrics_summarise_hours() -> int:
    """Scheduled hourly: minute rows older than 90 days summarised into hours."""
    return metrics_summarise()
