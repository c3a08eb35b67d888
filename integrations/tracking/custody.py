"""Carrier events applied to shipments, in time order, through orders' services.

Per shipment, under its row lock, the events not yet applied are walked oldest first:
- the first carrier scan (anything but label data) of a staged shipment is the carrier's receipt: the hand-off
  (`orders.services.shipment_hand_to_carrier`) with that scan as proof and its time as the hand-off time; the order is
  dispatched and the fulfilment with tracking queued for the channel in the same transaction;
- each scan is recorded once on the shipment (`shipment_record_scan`: the first sets `acknowledged_at`); in transit
  and out for delivery move it to in transit, delivered delivers it;
- an event older than one already applied is *late*: it goes on the timeline, and moves nothing (no state, no
  channel status, no exception), so an older event never regresses what a newer one said;
- failed delivery opens a `delivery_failed` exception (closed when the parcel is delivered after all); return to
  sender opens a return (`returns.services`) marked shipped back;
- statuses the channel takes (in transit, out for delivery, attempted delivery, delivered) are queued to it through
  the outbox (`integrations.tracking.channel`)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from integrations.carriers.protocol import EventKind
from integrations.carriers.registry import connector_for, is_registered
from integrations.tracking.channel import shipment_status_enqueue
from integrations.tracking.models import CarrierEvent
from inventory.models import KitComponent
from orders.models import OrderLine, Shipment, ShipmentState, shipment_lines
from orders.services import shipment_hand_to_carrier, shipment_record_scan
from returns.models import ReturnState
from returns.services import return_authorize, return_initiate, return_mark_shipped_back
from warehouse.errors import DomainError, Reason
from warehouse.models import ExceptionKind
from warehouse.services import exception_open, exceptions_resolve_if_cleared

logger = logging.getLogger(__name__)

# What counts as the carrier having the parcel (label data and a bare "exception" do not).
RECEIPT_KINDS = frozenset(
    {
        EventKind.PICKED_UP,
        EventKind.IN_TRANSIT,
        EventKind.OUT_FOR_DELIVERY,
        EventKind.DELIVERED,
        EventKind.FAILED_DELIVERY,
        EventKind.RETURNED_TO_SENDER,
    }
)
# The scan status orders records for each kind.
SCAN_STATUS = {
    EventKind.PICKED_UP: "info",
    EventKind.IN_TRANSIT: "in_transit",
    EventKind.OUT_FOR_DELIVERY: "in_transit",
    EventKind.DELIVERED: "delivered",
    EventKind.FAILED_DELIVERY: "info",
    EventKind.RETURNED_TO_SENDER: "info",
    EventKind.EXCEPTION: "info",
}
# The status the channel hears for each kind.
CHANNEL_STATUS = {
    EventKind.IN_TRANSIT: "in_transit",
    EventKind.OUT_FOR_DELIVERY: "out_for_delivery",
    EventKind.FAILED_DELIVERY: "attempted_delivery",
    EventKind.DELIVERED: "delivered",
}


@dataclass
class Applied:
    """What one apply run did (for the webhook's log, the poller and the tests)."""

    events: int = 0
    late: int = 0
    handed_over: list[int] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)


def shipments_for(*, carrier: str, tracking_number: str) -> list[Shipment]:
    """The shipments carrying this carrier's tracking number (the carrier is written as its code or its name)."""
    names = {carrier.lower()}
    if is_registered(carrier):
        names.add(connector_for(carrier).name.lower())
    found = Shipment.objects.filter(tracking_number=tracking_number).only("pk", "carrier")
    return [s for s in found if s.carrier.strip().lower() in names]


def carrier_events_apply(*, carrier: str, tracking_number: str) -> Applied:
    """Apply every stored, not yet applied event of this parcel to its shipment(s), oldest first, in one
    transaction per shipment. Events of a number no shipment carries wait (applied when one does)."""
    report = Applied()
    for shipment in shipments_for(carrier=carrier, tracking_number=tracking_number):
        with transaction.atomic():
            _apply_pending(shipment.pk, carrier=carrier, tracking_number=tracking_number, report=report)
    return report


def _apply_pending(shipment_id: int, *, carrier: str, tracking_number: str, report: Applied) -> None:
    shipment = Shipment.objects.select_for_update(of=("self",)).select_related("order").get(pk=shipment_id)
    mine = CarrierEvent.objects.filter(carrier=carrier, tracking_number=tracking_number)
    pending = list(mine.filter(applied_at__isnull=True).order_by("occurred_at", "id"))
    if not pending:
        return
    latest = mine.filter(applied_at__isnull=False, shipment_id=shipment.pk).aggregate(at=Max("occurred_at"))["at"]
    rank = {kind.value: n for n, kind in enumerate(EventKind)}
    pending.sort(key=lambda e: (e.occurred_at, rank.get(e.kind, 99), e.code))
    now = timezone.now()
    for event in pending:
        late = latest is not None and event.occurred_at < latest
        shipment, outcome = _apply_one(shipment, event, late=late)
        latest = event.occurred_at if latest is None or event.occurred_at > latest else latest
        event.shipment_id, event.applied_at, event.outcome = shipment.pk, now, outcome[:200]
        report.events += 1
        report.late += int(late)
        report.outcomes.append(outcome)
    CarrierEvent.objects.bulk_update(pending, ["shipment", "applied_at", "outcome"])


def _apply_one(shipment: Shipment, event: CarrierEvent, *, late: bool) -> tuple[Shipment, str]:
    kind = EventKind(event.kind)
    if shipment.state == ShipmentState.STAGED:
        if kind not in RECEIPT_KINDS:
            return shipment, "label data: the carrier does not have the parcel yet"
        try:
            with transaction.atomic():
                shipment = shipment_hand_to_carrier(
                    shipment=shipment,
                    carrier_receipt=f"first carrier scan {event.code} at {event.occurred_at:%Y-%m-%d %H:%M} UTC",
                    handed_at=event.occurred_at,
                    actor=None,
                )
        except DomainError as exc:
            return shipment, f"not applied: the hand-off was refused ({exc.message})"
    if kind == EventKind.PRE_TRANSIT:
        return shipment, "label data"
    before = shipment.state
    status = "info" if late and kind != EventKind.DELIVERED else SCAN_STATUS[kind]
    shipment = shipment_record_scan(
        shipment=shipment,
        status=status,
        occurred_at=event.occurred_at,
        actor=None,
        event_id=f"{event.carrier}:{event.code}:{event.occurred_at.astimezone(dt.UTC).isoformat()}",
        description=event.description or kind.value.replace("_", " "),
        location=event.location,
        raw={"carrier": event.carrier, "code": event.code, "kind": kind.value},
    )
    if late:
        return shipment, "late: older than an event already applied; on the timeline only"
    outcome = f"{before} → {shipment.state}" if before != shipment.state else f"recorded ({shipment.state})"
    channel_status = CHANNEL_STATUS.get(kind)
    if channel_status and not (channel_status != "delivered" and shipment.state == ShipmentState.DELIVERED):
        shipment_status_enqueue(shipment=shipment, status=channel_status, occurred_at=event.occurred_at)
    if kind == EventKind.FAILED_DELIVERY and shipment.state != ShipmentState.DELIVERED:
        _delivery_failed(shipment, event)
        outcome = "delivery failed: exception opened"
    elif kind == EventKind.DELIVERED:
        exceptions_resolve_if_cleared(
            subject=shipment, kind=ExceptionKind.DELIVERY_FAILED, note="The carrier delivered the parcel after all."
        )
    elif kind == EventKind.RETURNED_TO_SENDER:
        outcome = _returned_to_sender(shipment, event)
    return shipment, outcome


def _words(shipment: Shipment) -> str:
    order = shipment.order
    return f"Order {order.platform_order_id or order.pk}: {shipment.carrier} {shipment.tracking_number}"


def _delivery_failed(shipment: Shipment, event: CarrierEvent) -> None:
    where = f" at {event.location}" if event.location else ""
    exception_open(
        kind=ExceptionKind.DELIVERY_FAILED,
        summary=f"{_words(shipment)}: delivery failed ({event.description or event.code})",
        reasons=[
            Reason(
                "delivery_failed",
                f"the carrier could not deliver on {event.occurred_at:%Y-%m-%d %H:%M} UTC{where}: "
                f"{event.description or event.code}",
            )
        ],
        subject=shipment,
        brand=shipment.order.brand,
        facility=shipment.facility or shipment.order.facility,
    )


def return_lines(shipment: Shipment) -> list[tuple[object, int]]:
    """What comes back: the shipment's leg, or the whole order; kits as their components (stock is kept by
    component)."""
    from inventory.models import Sku

    wanted: dict[int, int] = {}
    leg = shipment_lines(shipment)  # a split order's leg, from its allocation rows; empty: the whole order
    if leg:
        for leg_sku_id, leg_quantity in leg:
            wanted[leg_sku_id] = wanted.get(leg_sku_id, 0) + leg_quantity
    else:
        lines = OrderLine.objects.filter(order_id=shipment.order_id, sku__isnull=False, cancelled_at__isnull=True)
        for sku_id, quantity in lines.values_list("sku_id", "quantity"):
            if sku_id is not None and quantity:
                wanted[sku_id] = wanted.get(sku_id, 0) + quantity
    skus = Sku.objects.in_bulk(list(wanted))
    units: dict[int, int] = {}
    for sku_id, quantity in wanted.items():
        sku = skus[sku_id]
        if sku.is_kit:
            for part in KitComponent.objects.filter(kit=sku):
                units[part.component_id] = units.get(part.component_id, 0) + part.quantity * quantity
        else:
            units[sku_id] = units.get(sku_id, 0) + quantity
    found = Sku.objects.in_bulk(list(units))
    return [(found[pk], n) for pk, n in sorted(units.items())]


def _returned_to_sender(shipment: Shipment, event: CarrierEvent) -> str:
    """The carrier is bringing the parcel back: a return, shipped back, waits for it at the facility."""
    order = shipment.order
    rma_number = f"RTS-{shipment.tracking_number}"[:60]
    try:
        with transaction.atomic():
            rma = return_initiate(
                brand=order.brand,
                rma_number=rma_number,
                lines=return_lines(shipment),  # type: ignore[arg-type]
                actor=None,
                order=order,
                facility=shipment.facility or order.facility,
                reason=f"Returned to sender by {shipment.carrier}: {event.description or event.code}"[:300],
            )
            if rma.state == ReturnState.INITIATED:
                rma = return_authorize(rma=rma, actor=None, reason="the carrier is returning the parcel")
            if rma.state == ReturnState.AUTHORIZED:
                rma = return_mark_shipped_back(rma=rma, actor=None, reason=f"carrier event {event.code}")
    except DomainError as exc:
        exception_open(
            kind=ExceptionKind.DELIVERY_FAILED,
            summary=f"{_words(shipment)}: returned to sender, and no return could be opened",
            reasons=[Reason("return_not_opened", exc.message)],
            subject=shipment,
            brand=order.brand,
            facility=shipment.facility or order.facility,
        )
        return f"returned to sender: no return opened ({exc.message})"[:200]
    return f"returned to sender: return {rma.rma_number} {rma.state}"
