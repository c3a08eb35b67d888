"""How a delivery's wake-up task reaches django-q2.

The task is only a wake-up: the delivery row says what is left to do (`integrations.delivery_lifecycle`), so a task
lost, deleted or run twice costs a delay or nothing, never a delivery.

Why the inbox writes django-q2's task row itself: on PostgreSQL with the ORM broker in our own database, the
delivery, its audit row and its task are one `INSERT … ON CONFLICT` statement and one commit (`TASK_CTE` below is
the task's part of that statement; `integrations.inbox` holds the rest). `async_task` would cost a second statement
and, outside the delivery's transaction, a second commit on every webhook (bench/ingest.py measures the difference).
The row is the same signed package `async_task` writes (`SignedPackage.dumps`), so a stock `qcluster` runs it; if a
django-q2 upgrade changes the package, the real-`qcluster` test (tests/integrations/test_faults.py) fails."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

GROUP = "integrations.inbox"

# High-volume tasks record their outcome on their own rows (the delivery, the outbound message), so a success is not
# also saved to django-q2's Success table: with a save limit, every saved success makes the monitor lock and load the
# whole table to prune it, which at webhook rates costs more than the task. Failures are still saved.
NOT_SAVED = {"save": False}

# The task's part of the inbox's one statement: a CTE inserting the task row when the CTE `delivery` inserted a row
# and `%(enqueue)s` is true. Parameters: `queue`, `package`, `now`, `enqueue` (see `task_params`).
TASK_CTE = """
task AS (
    INSERT INTO django_q_ormq (key, payload, lock)
    SELECT %(queue)s, %(package)s, %(now)s FROM delivery WHERE %(enqueue)s
)"""


def broker_in_our_database() -> bool:
    """django-q2's ORM broker on our database: the task row can be written inside the delivery's transaction (it
    becomes visible, and runnable, only when the delivery commits; one commit instead of two)."""
    q_cluster = getattr(settings, "Q_CLUSTER", {})
    return q_cluster.get("orm") == DEFAULT_DB_ALIAS and not q_cluster.get("sync", False)


@functools.lru_cache(maxsize=1)
def _queue_name() -> str:
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    return str(get_broker().list_key or Conf.CLUSTER_NAME)


def task_params(*, connection_id: int, delivery_key: str) -> dict[str, Any]:
    """The signed package `async_task` would write for `inbound_delivery_process_key`, and its queue: the
    parameters of `TASK_CTE` but `enqueue` and `now`."""
    from django_q.conf import Conf
    from django_q.signing import SignedPackage

    task_id = uuid.uuid4().hex  # django-q2's human-readable name costs more than the rest of the package
    task = {
        "id": task_id,
        "name": f"inbound-delivery-{connection_id}-{task_id[:12]}",
        "func": "integrations.tasks.inbound_delivery_process_key",
        "args": (connection_id, delivery_key),
        "kwargs": {},
        "group": GROUP,
        "ack_failure": Conf.ACK_FAILURES,
        "save": False,  # the delivery row records the outcome; see NOT_SAVED
        "started": timezone.now(),
    }
    return {"package": SignedPackage.dumps(task), "queue": _queue_name()}


def delivery_wake(delivery_id: int) -> None:
    """Queue a wake-up for one stored delivery the ordinary way (the inbox's slow path, the sweeper, re-runs)."""
    from django_q.tasks import async_task

    async_task(
        "integrations.tasks.inbound_delivery_process",
        delivery_id,
        group=GROUP,
        q_options={"task_name": f"inbound-delivery-{delivery_id}", **NOT_SAVED},
    )
