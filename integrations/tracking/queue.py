"""The wake-up task of stored carrier events, written by the webhook's own statement (`store.carrier_events_store`
with `wake=`), as the inbox does for platform deliveries (`integrations.queueing`): the events and their task commit
together, and the webhook answers after that one commit. The task is only a wake-up: the events' `applied_at` says
what is left, and the every-minute sweep (`tracking.apply_pending`) applies whatever a lost task left."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.db import connection as db
from django.utils import timezone

from integrations.queueing import broker_in_our_database

TASK = "integrations.tracking.tasks.carrier_events_apply_task"


def queue_in_statement() -> bool:
    """PostgreSQL with django-q2's ORM broker on our database (not in sync mode)."""
    return db.vendor == "postgresql" and broker_in_our_database()


def task_params(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The signed package `async_task` would write for applying these (carrier, tracking number) pairs."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.signing import SignedPackage

    task_id = uuid.uuid4().hex
    task = {
        "id": task_id,
        "name": f"carrier-events-{task_id[:12]}",
        "func": TASK,
        "args": ([list(p) for p in pairs],),
        "kwargs": {},
        "group": "integrations.tracking",
        "ack_failure": Conf.ACK_FAILURES,
        "save": False,  # the events record their outcome
        "started": timezone.now(),
    }
    return {"package": SignedPackage.dumps(task), "queue": str(get_broker().list_key or Conf.CLUSTER_NAME)}
