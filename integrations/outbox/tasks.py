"""django-q2 entry points of the outbound queue. Each takes ids and is idempotent (the ORM broker is
at-least-once): a drain only takes due rows, and every write reads back or carries its key."""

from __future__ import annotations

from integrations.outbox.services import outbox_drain

BATCH = 50
MAX_BATCHES = 20


def outbox_drain_connection(connection_id: int) -> int:
    """Kicked after commit by `integrations.outbox.wake.outbox_kick` (after an enqueue, a replay or a resume)."""
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
