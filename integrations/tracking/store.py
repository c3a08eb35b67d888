"""Carrier events stored once: one `INSERT … ON CONFLICT DO NOTHING RETURNING` per batch, on the unique
(carrier, tracking number, event code, time). What comes back is what was new; a redelivered webhook or a poll
overlapping the last one returns nothing and so applies nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.utils import timezone

from integrations.carriers.protocol import TrackingEvent, events_in_order
from integrations.tracking.models import CarrierEvent
from warehouse.errors import InvalidInput, Reason

LIMITS = {"tracking_number": 100, "code": 60, "location": 200, "description": 300}


def _problem(event: TrackingEvent) -> str:
    for field, limit in LIMITS.items():
        value = getattr(event, field)
        if len(value) > limit:
            return f"{field}: {len(value)} characters, at most {limit}"
    if not event.tracking_number or not event.code:
        return "an event needs a tracking number and a code"
    if event.occurred_at.tzinfo is None:
        return "an event's time needs its offset"
    return ""


def carrier_events_store(
    *, events: Sequence[TrackingEvent], source: str, wake: dict[str, Any] | None = None
) -> list[tuple[str, str]]:
    """Store each event once; returns the (carrier, tracking number) pairs that got a new event. A value that does
    not fit its column refuses the whole batch (`InvalidInput`, nothing written): never a prefix.

    `wake` (the parameters of `integrations.tracking.queue.task_params`): the same statement also writes the
    django-q2 task that applies the new events, when there are any (one statement, one commit: the webhook's)."""
    unique = events_in_order(events)
    if not unique:
        return []
    problems = [p for p in (_problem(e) for e in unique) if p]
    if problems:
        raise InvalidInput(
            "Carrier events refused: " + "; ".join(problems), reasons=[Reason("bad_event", p) for p in problems]
        )
    now = timezone.now()
    table = CarrierEvent._meta.db_table
    columns = "carrier, tracking_number, code, occurred_at, kind, location, description, source, received_at, outcome"
    rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, '')"] * len(unique))
    params: list[Any] = []
    for e in unique:
        params += [e.carrier, e.tracking_number, e.code, e.occurred_at, e.kind.value, e.location, e.description]
        params += [source, now]
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {rows} "  # noqa: S608 - the table name is ours; values are parameters
        "ON CONFLICT (carrier, tracking_number, code, occurred_at) DO NOTHING RETURNING carrier, tracking_number"
    )
    if wake is not None:
        sql = (
            f"WITH new AS ({sql}), task AS (INSERT INTO django_q_ormq (key, payload, lock) "  # noqa: S608 - ours
            "SELECT %s, %s, %s WHERE EXISTS (SELECT 1 FROM new)) SELECT carrier, tracking_number FROM new"
        )
        params += [wake["queue"], wake["package"], now]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        new = cursor.fetchall()
    return sorted({(str(c), str(n)) for c, n in new})
