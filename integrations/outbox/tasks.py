"""django-q2 entry points of the outbound queue. Each takes ids and is idempotent (the ORM broker is
at-least-once): a drain only takes due rows, and every write reads back or carries its key."""

from __future__ import annotations

from django_q.tasks import async_task

from integrations.outbox.services import outbox_drain
from integrations.queueing import NOT_SAVED

BATCH = 50
MAX_BATCHES = 20


def outbox_kick(connection_id: int) -> None:
    """Ask a worker to drain one connection now (after an enqueue, a replay or a resume)."""
    async_task(
        "integrations.outbox.tasks.outbox_drain_connection",
        connection_id,
        group="integrations.outbox",
        q_options={"task_name": f"outbox-drain-{connection_id}", **NOT_SAVED},
    )


def outbox_drain_connection(connection_id: int) -> int:
    return outbox_drain(connection_id=connection_id).claimed


def outbox_drain_due() -> int:
    """The every-minute sweep: whatever is due on any connection (retries, lapsed leases)."""
    total = 0
    for _ in range(MAX_BATCHES):  # bounded: the next minute's sweep carries on
        report = outbox_drain(limit=BATCH)
        total += report.claimed
        if report.claimed < BATCH:
            break
    return total
