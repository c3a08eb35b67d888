"""Use cases of the outbound queue: enqueue a write, drain what is due, replay or discard dead letters.

Retry schedule: attempt n (1..5) that fails transiently waits 60·2ⁿ⁻¹ s × U(0.8, 1.2) — about 1, 3, 7 and 15 minutes
after creation, 12–18 minutes in total — and the fifth failure is a dead letter. A non-transient refusal (4xx other
than 408/409/425/429) is a dead letter at once; a 401 pauses the connection and keeps the message pending; a 429
waits at least its `Retry-After`. A connection that fails transiently opens its circuit: its other messages wait
(without spending attempts) while other connections' messages go on."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

# The schedule lives in integrations.backoff (shared with inbound deliveries); re-exported for this module's callers.
from integrations.backoff import MAX_ATTEMPTS as MAX_ATTEMPTS
from integrations.backoff import retry_delay as retry_delay
from integrations.http import Headroom
from integrations.models import Connection, ConnectionStatus
from integrations.outbox import senders
from integrations.outbox.models import ConnectionCircuit, MessageKind, MessageState, OutboundMessage
from integrations.outbox.wake import outbox_kick_after_commit
from integrations.platforms.registry import connector_for, is_registered
from integrations.redaction import redact_text
from integrations.services import connection_enter_polling_fallback, connection_pause_for_credentials
from integrations.tracking.notify import brand_notifies_customer
from warehouse.errors import InvalidInput, Reason, TransitionNotAllowed
from warehouse.limits import text_within
from warehouse.models import ExceptionKind
from warehouse.services import exception_open, exceptions_resolve_if_cleared
from warehouse.transitions import Actor, transition_apply

logger = logging.getLogger(__name__)

CIRCUIT_BASE_SECONDS = 15.0
CIRCUIT_MAX_SECONDS = 300.0
OUTAGE_AFTER_FAILURES = 3  # consecutive transient failures of one connection: runbook "platform outage"
HEADROOM_FLOOR = 0.2  # below a fifth of the platform's budget, the connection's writes wait a little
WRITABLE = (ConnectionStatus.ACTIVE, ConnectionStatus.POLLING_FALLBACK)


def lease_seconds() -> float:
    return float(getattr(settings, "OUTBOX_LEASE_SECONDS", 120))


def deadletter_cap() -> int:
    return int(getattr(settings, "OUTBOX_DEADLETTER_CAP", 1000))


def payload_key(*, kind: str, payload: Mapping[str, Any]) -> str:
    """sha256 of the canonical business payload (sorted keys, no whitespace), with its kind."""
    canonical = json.dumps({"kind": kind, "payload": payload}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def shipment_key(shipment_id: int) -> str:
    return hashlib.sha256(f"fulfilment:shipment:{shipment_id}".encode()).hexdigest()


# --- enqueue --------------------------------------------------------------------------------------------------


def outbound_enqueue(
    *,
    connection: Connection,
    kind: str,
    payload: dict[str, Any],
    idempotency_key: str = "",
    source: str = "",
    actor: Actor = None,
) -> OutboundMessage:
    """Queue one write; the same key on the same connection returns the row already queued (whatever its state).
    The first attempt is kicked after commit."""
    if kind not in MessageKind.values:
        raise InvalidInput(f"Unknown outbound kind {kind!r}.", reasons=[Reason("unknown_kind", kind)])
    key = idempotency_key or payload_key(kind=kind, payload=payload)
    with transaction.atomic():
        message, created = OutboundMessage.objects.get_or_create(
            connection=connection,
            idempotency_key=key,
            defaults={
                "platform": connection.platform,
                "kind": kind,
                "payload": payload,
                "source": source[:100],
                "next_attempt_at": timezone.now(),
            },
        )
        if created:
            connection_id = connection.pk
            outbox_kick_after_commit(connection_id)
    return message


def shipment_fulfilment_enqueue(*, shipment: Any) -> OutboundMessage | None:
    """The fulfilment write for a shipment handed to the carrier: one per shipment (its key derives from the
    shipment id, so a repeated signal finds the queued row). Orders without a channel connection have none."""
    order = shipment.order
    # The channel's connection (one-to-one), found from the order's side: orders know channels, not connections.
    found = Connection.objects.select_related("channel").filter(channel_id=order.channel_id).order_by()
    connection = found.first() if order.channel_id else None
    if connection is None or not getattr(order, "platform_order_id", ""):
        return None
    payload = {
        "shipment_id": shipment.pk,
        "order_id": str(order.platform_order_id),
        "tracking_number": shipment.tracking_number,
        "carrier": shipment.carrier,
        "tracking_url": getattr(shipment, "tracking_url", "") or "",
        "notify_customer": brand_notifies_customer(getattr(order, "brand_id", None)),
    }
    from orders.models import LEFT_BUILDING_STATES, Order, Shipment, shipment_platform_lines

    # The leg is read from the allocation rows at the shipment's facility (a stand-in without rows has none).
    leg = shipment_platform_lines(shipment) if isinstance(shipment, Shipment) else []
    if leg:  # one leg of a split order: fulfil its lines; the last leg completes it
        payload["lines"] = leg
        payload["complete"] = Order.objects.filter(pk=order.pk, state__in=LEFT_BUILDING_STATES).exists()
    return outbound_enqueue(
        connection=connection,
        kind=MessageKind.FULFILMENT,
        payload=payload,
        idempotency_key=shipment_key(shipment.pk),
        source=f"shipment:{shipment.pk}",
    )


# --- the worker -----------------------------------------------------------------------------------------------

# Runbook "rate-limit hit": the brand's live traffic (fulfilments, tracking) is claimed before our backfill (stock
# levels), so a short budget is spent on what a customer waits for.
LIVE_KINDS = (MessageKind.FULFILMENT, MessageKind.TRACKING)
PRIORITY = Case(When(kind__in=LIVE_KINDS, then=Value(0)), default=Value(1), output_field=IntegerField())


@dataclass
class DrainReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    paused: int = 0
    released: int = 0
    throttled: int = 0
    outcomes: dict[int, str] = field(default_factory=dict)


def outbox_claim_due(
    *, now: dt.datetime | None = None, connection_id: int | None = None, limit: int = 20, per_connection: int = 10
) -> list[OutboundMessage]:
    """Take up to `limit` due messages (pending and due, or in flight with a lapsed lease) of writable connections
    whose circuit is closed, skipping rows another worker has locked. At most `per_connection` per connection, so
    one connection's backlog does not fill every batch; live writes before stock levels (`PRIORITY`)."""
    now = now or timezone.now()
    open_circuit = ConnectionCircuit.objects.filter(connection=OuterRef("connection"), open_until__gt=now)
    due_now = Q(state=MessageState.PENDING, next_attempt_at__lte=now) | Q(
        state=MessageState.IN_FLIGHT, lease_until__lte=now
    )
    candidates = (
        OutboundMessage.objects.filter(due_now, connection__status__in=WRITABLE)
        .filter(~Exists(open_circuit))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("connection_id")],
                order_by=[PRIORITY.asc(), F("next_attempt_at").asc(), F("id").asc()],
            )
        )
        .filter(rank__lte=per_connection)
    )
    if connection_id is not None:
        candidates = candidates.filter(connection_id=connection_id)
    with transaction.atomic():
        due = (
            OutboundMessage.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                due_now,
                pk__in=Subquery(
                    candidates.annotate(priority=PRIORITY)
                    .order_by("priority", "next_attempt_at", "id")
                    .values("pk")[:limit]
                ),
            )
            .annotate(priority=PRIORITY)
            .order_by("priority", "next_attempt_at", "id")
        )
        claimed: list[OutboundMessage] = []
        for message in list(due):
            try:
                claimed.append(
                    transition_apply(
                        obj=message,
                        name="claim",
                        actor=None,
                        reason="worker attempt",
                        changes={"claim_at": now, "claim_lease": now + dt.timedelta(seconds=lease_seconds())},
                    )
                )
            except TransitionNotAllowed:  # changed since it was selected: another worker's, or not due any more
                continue
    return claimed


def outbox_drain(
    *,
    now: dt.datetime | None = None,
    connection_id: int | None = None,
    limit: int = 20,
    client_factory: senders.ClientFactory | None = None,
) -> DrainReport:
    """Claim what is due and attempt each message once. After a transient failure or a 401 on a connection, the
    rest of that connection's claimed messages go back untouched: one platform's outage costs one timeout."""
    now = now or timezone.now()
    factory = client_factory or senders.default_client_factory
    report = DrainReport()
    claimed = outbox_claim_due(now=now, connection_id=connection_id, limit=limit)
    report.claimed = len(claimed)
    clients: dict[int, Any] = {}
    stopped: set[int] = set()
    bulk: dict[int, senders.Outcome] = {}  # outcomes of stock writes already sent together, by message id
    for message in claimed:
        if message.connection_id in stopped:
            outbox_record_outcome(message=message, outcome=None, now=now)
            report.released += 1
            continue
        try:
            if message.connection_id not in clients:
                clients[message.connection_id] = factory(message.connection)
            client = clients[message.connection_id]
            if message.pk not in bulk and message.kind == MessageKind.INVENTORY:
                # This connection's claimed stock writes go in one bulk call where the platform has one.
                together = [
                    m for m in claimed if m.connection_id == message.connection_id and m.kind == MessageKind.INVENTORY
                ]
                if len(together) > 1:
                    bulk.update(senders.attempt_stock_many(together, client))
            outcome = bulk.pop(message.pk) if message.pk in bulk else senders.attempt(message, client)
        except Exception as exc:  # e.g. credentials that no key opens: never leave the batch in flight
            logger.exception("outbox: connection %s could not be attempted", message.connection_id)
            outcome = senders.Outcome(senders.RETRY, error=f"client unavailable: {type(exc).__name__}")
        state = outbox_record_outcome(message=message, outcome=outcome, now=now)
        report.outcomes[message.pk] = state
        if outcome.kind == senders.SENT:
            report.sent += 1
        elif outcome.kind == senders.AUTH:
            report.paused += 1
            stopped.add(message.connection_id)
        elif state == MessageState.DEAD:
            report.dead += 1
        else:
            report.retried += 1
        if outcome.kind == senders.RETRY:
            stopped.add(message.connection_id)
        headroom = getattr(getattr(clients.get(message.connection_id), "http", None), "last_headroom", None)
        if isinstance(headroom, Headroom):
            headroom_record(message.connection_id, headroom=headroom, now=now)
            if headroom.fraction < HEADROOM_FLOOR and message.connection_id not in stopped:
                # Runbook "rate-limit hit": slow our writes before the platform has to refuse them.
                stopped.add(message.connection_id)
                pause = _headroom_pause_seconds(message.platform)
                _circuit_hold(message.connection_id, until=now + dt.timedelta(seconds=pause))
                report.throttled += 1
    for client in clients.values():
        close = getattr(getattr(client, "http", None), "close", None)
        if callable(close):
            close()
    return report


def _headroom_pause_seconds(platform: str) -> float:
    """How long the platform's budget takes to come back enough (its connector knows its bucket)."""
    return float(connector_for(platform).headroom_pause_seconds) if is_registered(platform) else 10.0


def headroom_record(connection_id: int, *, headroom: Headroom, now: dt.datetime) -> None:
    """The platform's rate-limit budget as its last answer showed it (writes here, reads in the reconciler)."""
    ConnectionCircuit.objects.update_or_create(
        connection_id=connection_id,
        defaults={"headroom_remaining": headroom.remaining, "headroom_limit": headroom.limit, "headroom_at": now},
    )


def outbox_record_outcome(
    *, message: OutboundMessage, outcome: senders.Outcome | None, now: dt.datetime | None = None
) -> str:
    """Apply one attempt's outcome to the row (None: released unattempted). Returns the new state."""
    now = now or timezone.now()
    connection = message.connection
    error = _redacted(connection, outcome.error if outcome else "")
    with transaction.atomic():
        if outcome is None:
            transition_apply(obj=message, name="retry_later", actor=None, reason="released: connection backing off",
                             changes={"lease_until": None})  # fmt: skip
            return MessageState.PENDING
        attempts = message.attempts
        changes: dict[str, Any] = {"lease_until": None, "last_status": outcome.status, "last_error": error}
        if outcome.kind == senders.SENT:
            changes.update(attempts=attempts + 1, sent_at=now, result=outcome.result, ambiguous=False, last_error="")
            transition_apply(obj=message, name="mark_sent", actor=None, reason="platform confirmed", changes=changes)
            ConnectionCircuit.close(connection.pk)
            return MessageState.SENT
        if outcome.kind == senders.AUTH:
            # Credentials expired: not the message's fault, so no attempt is spent; it waits for the resume.
            transition_apply(obj=message, name="retry_later", actor=None, reason="credentials refused (401)",
                             changes={**changes, "next_attempt_at": now})  # fmt: skip
            connection_pause_for_credentials(connection=connection, note="an outbound write got 401")
            return MessageState.PENDING
        attempts += 1
        changes["attempts"] = attempts
        if outcome.kind == senders.RETRY and attempts < MAX_ATTEMPTS:
            wait = retry_delay(attempts)
            if outcome.retry_after is not None:
                wait = max(wait, dt.timedelta(seconds=outcome.retry_after))
            changes.update(next_attempt_at=now + wait, ambiguous=message.ambiguous or outcome.ambiguous)
            transition_apply(obj=message, name="retry_later", actor=None, reason=f"attempt {attempts} failed",
                             changes=changes)  # fmt: skip
            _circuit_trip(connection.pk, now=now, error=error)
            return MessageState.PENDING
        if outcome.kind == senders.RETRY:
            _circuit_trip(connection.pk, now=now, error=error)
        changes["dead_at"] = now
        why = "retries exhausted" if outcome.kind == senders.RETRY else "refused by the platform"
        dead = transition_apply(obj=message, name="kill", actor=None, reason=why, changes=changes)
        _deadletter_opened(dead, why=why, error=error)
        return MessageState.DEAD


def _redacted(connection: Connection, text: str) -> str:
    try:
        secrets = connection.secret_values()
    except Exception:  # a key problem must not stop the queue; secret-named query values are still masked
        secrets = []
    return redact_text(text, secrets)[:300]


def _circuit_trip(connection_id: int, *, now: dt.datetime, error: str) -> None:
    circuit, _ = ConnectionCircuit.objects.select_for_update().get_or_create(connection_id=connection_id)
    circuit.consecutive_failures += 1
    seconds = min(CIRCUIT_BASE_SECONDS * 2 ** (circuit.consecutive_failures - 1), CIRCUIT_MAX_SECONDS)
    circuit.open_until = now + dt.timedelta(seconds=seconds)
    circuit.last_error = error
    circuit.save()
    if circuit.consecutive_failures == OUTAGE_AFTER_FAILURES:
        _enter_polling(connection_id, note=f"platform outage: {circuit.consecutive_failures} writes failed ({error})")


def _enter_polling(connection_id: int, *, note: str) -> None:
    """Runbook "platform outage": the platform is down for writes, so its webhooks are not trusted either; the
    reconciler polls at the fallback cadence (and returns the connection to active once a pull finds nothing
    missing), while the open circuit keeps writes from storming it."""
    connection = Connection.objects.get(pk=connection_id)
    connection_enter_polling_fallback(connection=connection, note=note[:300])


def _circuit_hold(connection_id: int, *, until: dt.datetime) -> None:
    """Pause a connection's writes until `until` without counting a failure (its budget is low, not broken)."""
    circuit, _ = ConnectionCircuit.objects.get_or_create(connection_id=connection_id)
    if circuit.open_until is None or circuit.open_until < until:
        ConnectionCircuit.objects.filter(pk=circuit.pk).update(open_until=until)


def _deadletter_opened(message: OutboundMessage, *, why: str, error: str) -> None:
    """Page the on-call through the exception queue (one open item per connection) and keep the platform's
    dead-letter queue bounded: the oldest beyond the cap are archived (kept and counted, out of the queue)."""
    connection = message.connection
    exception_open(
        kind=ExceptionKind.DEAD_LETTER,
        summary=f"{connection}: outbound {message.kind} dead-lettered ({why})",
        reasons=[Reason("dead_letter", (error or why)[:200])],
        subject=connection,
        brand=connection.brand,
        dedupe_key=f"outbox:dead_letter:{connection.pk}",
    )
    cap = deadletter_cap()
    queue = deadletters(platform=message.platform).order_by("-dead_at", "-id")
    overflow = list(queue.values_list("pk", flat=True)[cap : cap + 10_000])
    if overflow:
        OutboundMessage.objects.filter(pk__in=overflow).update(archived_at=timezone.now())
        logger.warning("%s dead letters over the cap of %s archived for %s", len(overflow), cap, message.platform)


# --- dead letters ---------------------------------------------------------------------------------------------


def deadletters(*, platform: str | None = None) -> QuerySet[OutboundMessage]:
    """The dead-letter queue (oldest first), per platform when given: dead and not archived."""
    qs = OutboundMessage.objects.filter(state=MessageState.DEAD, archived_at__isnull=True)
    if platform:
        qs = qs.filter(platform=platform)
    return qs.select_related("connection__channel").order_by("dead_at", "id")


def headroom_by_connection() -> dict[int, float | None]:
    """The rate-limit headroom (fraction of the budget left) each connection's platform reported at our last write,
    for the "rate-limit headroom" metric."""
    return {c.connection_id: c.headroom_fraction for c in ConnectionCircuit.objects.filter(headroom_at__isnull=False)}


def deadletter_depth_by_platform() -> dict[str, int]:
    """The "dead-letter depth" metric: non-zero is a story, growing is an outage."""
    rows = deadletters().order_by().values_list("platform").annotate(n=Count("id"))
    return {platform: int(n) for platform, n in rows}


def deadletter_depth(*, platform: str) -> int:
    return int(deadletters(platform=platform).count())


def deadletter_archived_count(*, platform: str) -> int:
    return int(
        OutboundMessage.objects.filter(platform=platform, state=MessageState.DEAD, archived_at__isnull=False).count()
    )


def deadletter_replay(*, message: OutboundMessage, actor: Actor) -> OutboundMessage:
    """Send a dead letter again with the same idempotency key; five fresh attempts."""
    with transaction.atomic():
        replayed = transition_apply(
            obj=message,
            name="replay",
            actor=actor,
            reason="dead letter replayed",
            changes={"attempts": 0, "next_attempt_at": timezone.now(), "archived_at": None, "dead_at": None},
        )
        connection_id = replayed.connection_id
        _deadletters_cleared(replayed.connection, note="dead letters replayed")
        outbox_kick_after_commit(connection_id)
    return replayed


def deadletter_discard(*, message: OutboundMessage, actor: Actor, reason: str) -> OutboundMessage:
    """Drop a dead letter for good, saying why (a blank reason is refused)."""
    reason = text_within(reason, field="reason", limit=300)  # refused when over, never cut short
    with transaction.atomic():
        discarded = transition_apply(
            obj=message, name="discard", actor=actor, reason=reason, changes={"discard_reason": reason}
        )
        _deadletters_cleared(discarded.connection, note=f"dead letters discarded: {reason}")
    return discarded


def _deadletters_cleared(connection: Connection, *, note: str) -> None:
    """Once a person has replayed or discarded every dead letter of a connection, its page is closed."""
    if not deadletters().filter(connection=connection).exists():
        exceptions_resolve_if_cleared(subject=connection, kind=ExceptionKind.DEAD_LETTER, note=note[:300])
