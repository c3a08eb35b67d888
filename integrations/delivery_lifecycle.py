"""What happens to a stored inbound delivery when processing it fails, when its task is lost, and after a fix.

The delivery row is the source of truth: it stays `received` until it is processed (or found stale, or held as an
exception by the orders app), quarantined, or dead-lettered. The django-q2 task that wakes a worker for it may be
lost (a killed worker, a broker row deleted, a failed task acknowledged and dropped by `ack_failures`): nothing
depends on it.

- A failed attempt: a transient database error (connection lost, deadlock, restart) is retried with backoff kept on
  the row (`attempts`, `next_attempt_at`; `integrations.backoff`: 5 attempts over about 15 minutes). Past the bound,
  or at once for an error a retry cannot fix (a value the database refuses, a bug), the delivery is dead-lettered
  with an INBOUND_DEAD_LETTER exception naming the error. Never deleted, never silent.
- The sweeper (`deliveries_sweep`, scheduled every minute) wakes a worker for each delivery whose retry is due and
  for each still `received` `SWEEP_AFTER` after it arrived (its task was lost); it pushes `next_attempt_at` on by
  `SWEEP_AFTER`, so a delivery is not re-queued again while its wake-up waits in a long queue.
- An administrator re-runs dead letters after a fix (`deliveries_rerun`: console action and button, or
  `manage.py rerun_deliveries`); a re-run that succeeds closes the delivery's dead-letter exception."""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, DataError, transaction
from django.db import connection as db
from django.db.models import F
from django.utils import timezone

from integrations.backoff import MAX_ATTEMPTS, retry_delay
from integrations.http import AuthExpired, HttpError, TransientError
from integrations.models import RERUNNABLE, DeliveryState, InboundDelivery
from integrations.queueing import broker_in_our_database, delivery_wake
from warehouse.errors import NotPermitted, Reason
from warehouse.models import ExceptionKind
from warehouse.services import exception_open, exceptions_resolve_if_cleared
from warehouse.transitions import Actor

logger = logging.getLogger(__name__)

RERUN_PERMISSION = "integrations.rerun_inbounddelivery"
SWEEP_LIMIT = 1000  # wake-ups per sweep: a backlog is worked off over a few minutes, not flooded into the queue


def sweep_after() -> dt.timedelta:
    """How long a delivery may stay `received` with no retry due before its task counts as lost. Above django-q2's
    `retry` (a killed worker's task comes back by itself after that) and above a burst's drain time."""
    return dt.timedelta(seconds=float(getattr(settings, "INBOX_SWEEP_AFTER_SECONDS", 300)))


def is_transient(error: BaseException) -> bool:
    """An error a later attempt may not meet: a database error (a lost connection, a restart, a deadlock, a lock
    timeout), or the platform's while fetching a thin webhook's order (a 5xx, a timeout, a 429, a 401 that a
    credential rotation ends). A value the database refuses (DataError), another 4xx, and any other exception (a bug,
    a poison payload) will fail again."""
    if isinstance(error, (TransientError, AuthExpired)):
        return True
    return isinstance(error, DatabaseError) and not isinstance(error, DataError)


def error_name(error: BaseException) -> str:
    """The error, named for a person without the payload's data: a database error's first line (its DETAIL line may
    quote values), else the exception type and where it was raised."""
    if isinstance(error, DatabaseError):
        first = (str(error).strip().splitlines() or [""])[0]
        return f"{type(error).__name__}: {first}"[:200]
    if isinstance(error, HttpError):  # the platform's answer; the message's URL is already redacted
        status = f"HTTP {error.status_code}" if error.status_code is not None else "no answer"
        return f"{type(error).__name__} from the platform ({status})"[:200]
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno} ({frames[-1].name})" if frames else ""
    return f"{type(error).__name__}{where}"[:200]


def attempt_failed(*, lookup: dict[str, Any], error: BaseException, now: dt.datetime | None = None) -> str:
    """Record a failed attempt on the delivery (its own transaction: the attempt's was rolled back): schedule the
    next one, or dead-letter it. Returns the delivery's state. A database still down raises: the delivery stays
    `received` and the sweeper wakes it later."""
    if not db.in_atomic_block:
        db.close_if_unusable_or_obsolete()  # a connection broken by the failure is replaced, not reused
    now = now or timezone.now()
    with transaction.atomic():
        delivery = (
            InboundDelivery.objects.select_for_update(of=("self",))
            .select_related("connection__channel__brand")
            .filter(**lookup)
            .first()
        )
        if delivery is None or delivery.state != DeliveryState.RECEIVED:
            return delivery.state if delivery else "missing"
        delivery.attempts += 1
        named = error_name(error)
        if is_transient(error) and delivery.attempts < MAX_ATTEMPTS:
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            delivery.outcome = (
                f"attempt {delivery.attempts} of {MAX_ATTEMPTS} failed ({named}); "
                f"next at {delivery.next_attempt_at:%H:%M:%S}"
            )[:300]
            delivery.save(update_fields=["attempts", "next_attempt_at", "outcome"])
            return delivery.state
        why = "after its last attempt" if is_transient(error) else "an error a retry cannot fix"
        dead_letter(delivery=delivery, reason=Reason("ingest_failed", f"{named} ({why})"), now=now)
        return delivery.state


def dead_letter(*, delivery: InboundDelivery, reason: Reason, now: dt.datetime | None = None) -> None:
    """Park the (locked) delivery for an administrator and say so in the exception queue."""
    delivery.state = DeliveryState.DEAD_LETTER
    delivery.outcome = f"dead letter after {delivery.attempts} attempt(s): {reason.message}"[:300]
    delivery.processed_at = now or timezone.now()
    delivery.next_attempt_at = None
    delivery.save(update_fields=["state", "outcome", "processed_at", "next_attempt_at", "attempts"])
    exception_open(
        kind=ExceptionKind.INBOUND_DEAD_LETTER,
        summary=f"{delivery.connection}: delivery {delivery.delivery_id[:80]} dead-lettered: {reason.message}"[:300],
        reasons=[reason],
        subject=delivery,
        brand=delivery.connection.brand,
        detail={"delivery_id": delivery.delivery_id[:200], "connection_id": delivery.connection_id},
    )
    logger.warning("delivery %s dead-lettered: %s", delivery.pk, reason.message)


def rerun_succeeded(delivery: InboundDelivery) -> None:
    """After a re-run that reached an end: its dead-letter exception (or, from before dead letters, its failure)
    is cleared."""
    for kind in (ExceptionKind.INBOUND_DEAD_LETTER, ExceptionKind.WEBHOOK_QUARANTINE):
        exceptions_resolve_if_cleared(subject=delivery, kind=kind, note=f"re-run succeeded: {delivery.state}")


def _wake_after_commit(ids: list[int]) -> None:
    if not ids:
        return

    def wake() -> None:
        for pk in ids:
            delivery_wake(pk)

    if broker_in_our_database():
        wake()  # the task rows commit with the state change
    else:
        transaction.on_commit(wake)


def deliveries_rerun(*, ids: Iterable[int], actor: Actor) -> int:
    """Put dead-lettered deliveries back to `received` with a fresh set of attempts and wake a worker for each.
    Returns how many. `actor=None` is the system (the management command, run by whoever runs the server)."""
    if actor is not None and not actor.has_perm(RERUN_PERMISSION):
        raise NotPermitted("You may not re-run deliveries.", reasons=[Reason("not_permitted", RERUN_PERMISSION)])
    with transaction.atomic():
        pks = list(
            InboundDelivery.objects.select_for_update()
            .filter(pk__in=list(ids), state__in=RERUNNABLE)
            .values_list("pk", flat=True)
        )
        for pk in pks:
            InboundDelivery.objects.filter(pk=pk).update(
                state=DeliveryState.RECEIVED,
                attempts=0,
                next_attempt_at=None,
                processed_at=None,
                reruns=F("reruns") + 1,
                outcome=f"re-run by {actor or 'the system'}"[:300],
            )
        _wake_after_commit(pks)
    logger.info("re-run of %d dead-lettered deliveries by %s", len(pks), actor or "the system")
    return len(pks)


def deliveries_sweep(*, now: dt.datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Wake a worker for each delivery whose retry is due or whose task was lost. Returns how many."""
    now = now or timezone.now()
    grace = sweep_after()
    with transaction.atomic():
        due = (
            InboundDelivery.objects.select_for_update(skip_locked=True)  # one being processed is not lost
            .filter(state=DeliveryState.RECEIVED, received_at__lte=now)
            .exclude(next_attempt_at__gt=now)
            .exclude(next_attempt_at__isnull=True, received_at__gt=now - grace)
            .order_by("received_at")
            .values_list("pk", flat=True)[:limit]
        )
        pks = list(due)
        if pks:
            InboundDelivery.objects.filter(pk__in=pks).update(next_attempt_at=now + grace)
        _wake_after_commit(pks)
    if pks:
        logger.warning("sweeper woke %d deliveries still received (retry due or task lost)", len(pks))
    return len(pks)
