"""Waking the outbound queue's worker: one drain task per connection, enqueued by name after commit.

The bottom of the outbox: its services (an enqueue, a replay) and the connection services (a resume) call this,
while the worker's entry points (`integrations.outbox.tasks`) call the services; nothing here imports either."""

from __future__ import annotations

from django.db import transaction
from django_q.tasks import async_task

from integrations.outbox.models import ConnectionCircuit
from integrations.queueing import NOT_SAVED

DRAIN_TASK = "integrations.outbox.tasks.outbox_drain_connection"


def outbox_kick(connection_id: int) -> None:
    """Ask a worker to drain one connection now (after an enqueue, a replay or a resume)."""
    async_task(
        DRAIN_TASK,
        connection_id,
        group="integrations.outbox",
        q_options={"task_name": f"outbox-drain-{connection_id}", **NOT_SAVED},
    )


def outbox_kick_after_commit(connection_id: int) -> None:
    """One drain task per connection per transaction, however many writes it queued (a publishing cycle queues
    hundreds). A callback already registered in this transaction for this connection is enough; a rollback drops
    it with the rest. The rows are committed first: a process that dies before the kick leaves them pending for
    the every-minute sweep (`outbox_drain_due`)."""
    db = transaction.get_connection()
    if db.in_atomic_block and any(
        getattr(entry[1], "outbox_kick", None) == connection_id for entry in db.run_on_commit
    ):
        return

    def kick() -> None:
        outbox_kick(connection_id)

    kick.outbox_kick = connection_id  # type: ignore[attr-defined]
    transaction.on_commit(kick)


def outbox_release_connection(*, connection_id: int) -> None:
    """A paused connection resumed: its circuit closes and the messages that waited (kept due while paused) are
    sent by a drain kicked after commit."""
    ConnectionCircuit.close(connection_id)
    outbox_kick_after_commit(connection_id)
