"""Tracking's use-cases: carrier events received (webhook, poll), shipments polled and subscribed on each carrier's
cadence, tracking entered manually while a carrier's API is down, and the re-check of such entries."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.carriers.accounts import carrier_client_for
from integrations.carriers.models import CarrierAccount
from integrations.carriers.protocol import TrackingEvent
from integrations.carriers.registry import connector_for, is_registered
from integrations.http import HttpError
from integrations.redaction import redact_text
from integrations.tracking.custody import RECEIPT_KINDS, Applied, carrier_events_apply
from integrations.tracking.models import CarrierEvent, EventSource, ManualTracking, RecheckOutcome, TrackingWatch
from integrations.tracking.queue import queue_in_statement, task_params
from integrations.tracking.store import carrier_events_store
from orders.models import Order, OrderState, Shipment, ShipmentState
from orders.services import shipment_create, shipment_hand_to_carrier
from warehouse.errors import InvalidInput, NotPermitted, Reason
from warehouse.limits import text_within
from warehouse.models import ExceptionKind
from warehouse.services import exception_open, exceptions_resolve_if_cleared
from warehouse.transitions import Actor

logger = logging.getLogger(__name__)

ENTER_MANUAL = "tracking.enter_manual_tracking"
OPERATE_SHIPMENT = "orders.operate_shipment"
# A manual hand-off time and the carrier's first scan agree when the scan is no earlier than this before it (clocks,
# rounding) and no later than a day after it (the 24-hour carrier acknowledgement rule).
SCAN_EARLIER_TOLERANCE = dt.timedelta(hours=1)
SCAN_LATER_LIMIT = dt.timedelta(hours=24)
FUTURE_SKEW = dt.timedelta(minutes=5)
# Staged too: a labelled parcel's first carrier scan is the carrier's receipt (the hand-off), found by a poll or a push.
WATCHED = (ShipmentState.STAGED, ShipmentState.HANDED_TO_CARRIER, ShipmentState.IN_TRANSIT)


def tracking_events_receive(*, events: Sequence[TrackingEvent], source: str) -> Applied:
    """Store each event once and apply the new ones to their shipments, oldest first (see `custody`)."""
    total = Applied()
    with transaction.atomic():
        for carrier, number in carrier_events_store(events=events, source=source):
            done = carrier_events_apply(carrier=carrier, tracking_number=number)
            total.events += done.events
            total.late += done.late
            total.outcomes += done.outcomes
    return total


def tracking_events_accept(*, events: Sequence[TrackingEvent], source: str) -> tuple[int, int]:
    """The webhook's path: store each event once and queue their application in the same statement (one commit);
    where the task cannot be written there (another broker, sync mode, not PostgreSQL), apply them now. Returns
    (events new, events applied now)."""
    if not queue_in_statement():
        done = tracking_events_receive(events=events, source=source)
        return done.events, done.events
    pairs = sorted({(e.carrier, e.tracking_number) for e in events})
    new = carrier_events_store(events=events, source=source, wake=task_params(pairs) if pairs else None)
    return len(new), 0


def carrier_events_apply_pending(*, limit: int = 500) -> int:
    """Apply the stored events no task applied yet (a lost wake-up, a number whose shipment came later): the
    every-minute sweep. Only numbers a shipment carries are looked at."""
    pending = (
        CarrierEvent.objects.filter(
            applied_at__isnull=True, tracking_number__in=Shipment.objects.values("tracking_number")
        )
        .values_list("carrier", "tracking_number")
        .distinct()[:limit]
    )
    applied = 0
    for carrier, number in list(pending):
        applied += carrier_events_apply(carrier=carrier, tracking_number=number).events
    return applied


# --- accounts and clients ---------------------------------------------------------------------------------------


def account_for(shipment: Shipment, carrier: str) -> CarrierAccount | None:
    """The account a shipment's labels are on: the brand's own at the facility, else the facility's."""
    facility_id = shipment.facility_id or shipment.order.facility_id
    if facility_id is None:
        return None
    found = CarrierAccount.objects.filter(carrier=carrier, facility_id=facility_id, active=True).filter(
        Q(brand_id=shipment.order.brand_id) | Q(brand__isnull=True)
    )
    return found.order_by("brand_id").first()  # NULLs sort last: the brand's own first


def carrier_code(shipment: Shipment) -> str:
    """The registered carrier a shipment names (by code or by name); "" when none."""
    value = shipment.carrier.strip().lower()
    for code in _codes():
        if value in (code, connector_for(code).name.lower()):
            return code
    return ""


def _codes() -> list[str]:
    from integrations.carriers.registry import codes

    return codes()


def _http_options() -> dict[str, Any]:
    return {"connect_timeout": 3.05, "read_timeout": 10.0}


# --- polling and subscriptions ----------------------------------------------------------------------------------


@dataclass
class PollRun:
    polled: int = 0
    failed: int = 0
    subscribed: int = 0
    applied: int = 0


def tracking_poll_due(*, now: dt.datetime | None = None, limit: int = 200) -> PollRun:
    """Poll each watched shipment whose carrier's cadence (`tracking_poll_minutes`) has passed since its last poll,
    and subscribe the parcels of carriers that push events. One failing carrier or account stops nothing else."""
    now = now or timezone.now()
    run = PollRun()
    shipments = (
        Shipment.objects.filter(state__in=WATCHED)
        .exclude(tracking_number="")
        .select_related("order", "tracking_watch")
        .order_by("handed_at", "pk")
    )
    clients: dict[int, Any] = {}
    for shipment in shipments[: limit * 5]:
        code = carrier_code(shipment)
        if not code:
            continue
        connector = connector_for(code)
        watch = getattr(shipment, "tracking_watch", None) or TrackingWatch.objects.get_or_create(shipment=shipment)[0]
        due = watch.polled_at is None or now - watch.polled_at >= dt.timedelta(minutes=connector.tracking_poll_minutes)
        wants_subscription = connector.supports_webhooks and watch.subscribed_at is None
        if not (due or wants_subscription) or run.polled >= limit:
            continue
        account = account_for(shipment, code)
        if account is None:
            continue
        try:
            client = clients.get(account.pk) or carrier_client_for(account, **_http_options())
            clients[account.pk] = client
            if wants_subscription:
                answer = connector.subscribe_tracking(client, [shipment.tracking_number])
                if shipment.tracking_number in answer.subscribed:
                    watch.subscribed_at = now
                    run.subscribed += 1
            if due:
                events = connector.track(client, shipment.tracking_number)
                run.applied += tracking_events_receive(events=events, source=EventSource.POLL).events
                watch.polled_at = now
                run.polled += 1
            watch.last_error = ""
        except Exception as exc:  # a carrier's failure is this shipment's, not the run's
            watch.last_error = redact_text(f"{type(exc).__name__}: {exc}", account.secret_values())[:300]
            run.failed += 1
        watch.save(update_fields=["polled_at", "subscribed_at", "last_error"])
    return run


# --- manual tracking --------------------------------------------------------------------------------------------


def _require(actor: Actor, *perms: str) -> None:
    if actor is None or not all(actor.has_perm(p) for p in perms):
        raise NotPermitted("You may not enter tracking manually.")


def manual_tracking_enter(
    *,
    order: Order,
    carrier: str,
    tracking_number: str,
    handed_at: dt.datetime | None,
    actor: Actor,
    note: str = "",
    now: dt.datetime | None = None,
) -> ManualTracking:
    """The carrier's API is down: a manager keys in carrier, tracking number and hand-off time. That is the
    carrier's receipt (flagged as a manual entry): the shipment is handed over, the order dispatched and the channel
    told (the customer notified as for any dispatch), and a `manual_tracking` exception waits for the re-check
    against the carrier's own tracking. Every problem is named at once and nothing is written."""
    _require(actor, ENTER_MANUAL, OPERATE_SHIPMENT)
    assert actor is not None
    now = now or timezone.now()
    carrier = (carrier or "").strip()
    tracking_number = (tracking_number or "").strip()
    reasons: list[Reason] = []
    if not is_registered(carrier):
        offered = ", ".join(_codes())
        reasons.append(Reason("unknown_carrier", f"carrier {carrier!r} is not one this hub ships with ({offered})"))
    if not tracking_number:
        reasons.append(Reason("tracking_number_required", "enter the carrier's tracking number"))
    elif len(tracking_number) > 100:
        reasons.append(Reason("too_long", f"tracking_number: {len(tracking_number)} characters, at most 100"))
    if handed_at is None:
        reasons.append(Reason("handed_at_required", "enter when the carrier took the parcel"))
    elif handed_at.tzinfo is None:
        reasons.append(Reason("handed_at_naive", "the hand-off time needs its time zone"))
    elif handed_at > now + FUTURE_SKEW:
        reasons.append(Reason("handed_at_future", "the hand-off time is in the future"))
    note = text_within(note or "", field="note", limit=300)
    if reasons:
        raise InvalidInput("Manual tracking refused: " + "; ".join(r.message for r in reasons), reasons=reasons)
    assert handed_at is not None
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        # A staged shipment of the same carrier (its label bought before the outage) is the one handed over.
        staged = order.shipments.filter(state=ShipmentState.STAGED).order_by("pk")
        staged = staged.filter(Q(tracking_number="") | Q(tracking_number=tracking_number))
        shipment = next((s for s in staged if carrier_code(s) == carrier), None)
        if shipment is None:
            if order.state != OrderState.PACKED:
                state = order.get_state_display().lower()
                raise InvalidInput(
                    f"Order {order.platform_order_id or order.pk} is {state}: tracking is entered for a packed order.",
                    reasons=[Reason("order_not_packed", f"the order is {state}, not packed")],
                )
            shipment = shipment_create(order=order, carrier=carrier, actor=actor, tracking_number=tracking_number)
        who = actor.get_username()
        shipment = shipment_hand_to_carrier(
            shipment=shipment,
            carrier_receipt=f"manual entry by {who} (carrier API unavailable)",
            handed_at=handed_at,
            actor=actor,
            tracking_number=tracking_number,
        )
        entry = ManualTracking(
            shipment=shipment,
            carrier=carrier,
            tracking_number=tracking_number,
            handed_at=handed_at,
            note=note,
            entered_by=actor,
            entered_at=now,
        )
        entry._history_user = actor  # type: ignore[attr-defined]
        entry.save()
        _open_review(entry, f"entered by {who}: {carrier} {tracking_number}, handed over {_at(handed_at)}")
        # Events the carrier already pushed for this number (before anyone knew it) apply now.
        carrier_events_apply(carrier=carrier, tracking_number=tracking_number)
    return entry


def _at(when: dt.datetime) -> str:
    return f"{when.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def _open_review(entry: ManualTracking, message: str, code: str = "manual_entry") -> None:
    shipment = entry.shipment
    order = shipment.order
    exception_open(
        kind=ExceptionKind.MANUAL_TRACKING,
        summary=f"Order {order.platform_order_id or order.pk}: tracking {entry.tracking_number} entered manually"
        + (" and the carrier's tracking differs" if code == "tracking_differs" else ", to be re-checked"),
        reasons=[Reason(code, message)],
        subject=shipment,
        brand=order.brand,
        facility=shipment.facility or order.facility,
    )


def manual_tracking_recheck(*, entry: ManualTracking, now: dt.datetime | None = None) -> str:
    """Compare a manual entry with the carrier's tracking: `matched` closes its exception, `differs` opens it again
    (or keeps it open) with the difference named, `pending` means the carrier could not be asked or has no scan yet
    (asked again on the next run). The carrier's events are stored and applied on the way."""
    now = now or timezone.now()
    entry = ManualTracking.objects.select_related("shipment__order").get(pk=entry.pk)
    shipment = entry.shipment
    account = account_for(shipment, entry.carrier)
    if account is None:
        return _checked(entry, now, RecheckOutcome.PENDING, "no active carrier account for this facility")
    connector = connector_for(entry.carrier)
    try:
        events = connector.track(carrier_client_for(account, **_http_options()), entry.tracking_number)
    except (HttpError, OSError) as exc:
        reason = redact_text(f"the carrier's API did not answer: {exc}", account.secret_values())
        return _checked(entry, now, RecheckOutcome.PENDING, reason[:300])
    except Exception as exc:  # a refusal (CarrierRejected) or an unreadable answer: ask again later
        reason = redact_text(f"the carrier's API answered in error: {exc}", account.secret_values())
        return _checked(entry, now, RecheckOutcome.PENDING, reason[:300])
    with transaction.atomic():
        if events:
            tracking_events_receive(events=events, source=EventSource.RECHECK)
        scans = [e for e in events if e.kind in RECEIPT_KINDS]
        if not events:
            difference = f"{connector.name} has no tracking for {entry.tracking_number}"
        elif not scans:
            if now - entry.handed_at < SCAN_LATER_LIMIT:
                return _checked(entry, now, RecheckOutcome.PENDING, "the carrier has the label data, no scan yet")
            difference = f"{connector.name} has no scan of {entry.tracking_number} within 24 h of the entered hand-off"
        else:
            first = min(e.occurred_at for e in scans)
            if first < entry.handed_at - SCAN_EARLIER_TOLERANCE:
                difference = (
                    f"{connector.name}'s first scan was at {_at(first)}, before the entered hand-off "
                    f"({_at(entry.handed_at)})"
                )
            elif first > entry.handed_at + SCAN_LATER_LIMIT:
                difference = (
                    f"{connector.name}'s first scan was at {_at(first)}, more than 24 h after the entered hand-off "
                    f"({_at(entry.handed_at)})"
                )
            else:
                exceptions_resolve_if_cleared(
                    subject=shipment,
                    kind=ExceptionKind.MANUAL_TRACKING,
                    note=f"Re-checked: {connector.name} tracks {entry.tracking_number}, first scan at {_at(first)}.",
                )
                return _checked(entry, now, RecheckOutcome.MATCHED, "")
        _open_review(entry, difference, code="tracking_differs")
        return _checked(entry, now, RecheckOutcome.DIFFERS, difference)


def _checked(entry: ManualTracking, now: dt.datetime, outcome: str, difference: str) -> str:
    entry.outcome, entry.difference, entry.checked_at = outcome, difference[:300], now
    entry.check_attempts += 1
    entry._history_user = None  # type: ignore[attr-defined]
    entry.save(update_fields=["outcome", "difference", "checked_at", "check_attempts"])
    return outcome


def manual_tracking_recheck_due(
    *, now: dt.datetime | None = None, entries: Iterable[ManualTracking] | None = None
) -> dict[str, int]:
    """Re-check every entry still waiting for the carrier (`pending`). One that matched or differed is settled: a
    difference stays with the person reviewing it (re-checking it again would reopen what they closed)."""
    counts: dict[str, int] = {}
    todo = entries if entries is not None else ManualTracking.objects.filter(outcome=RecheckOutcome.PENDING)
    for entry in todo:
        outcome = manual_tracking_recheck(entry=entry, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
