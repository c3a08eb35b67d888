"""Shipments: created once packed (one per leg of a split order), handed to the carrier with proof (the units leave
the building then), carrier scans and a manager's manual close."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from inventory.services import (
    stock_ship,
)
from orders.models import (
    Order,
    OrderEventKind,
    OrderState,
    Shipment,
    ShipmentEvent,
    ShipmentState,
    has_carrier_proof,
    is_split,
)
from orders.services.common import (
    CLOSE_SHIPMENT,
    OPERATE_SHIPMENT,
    order_label,
    order_lock,
    require_perm,
    text_received,
)
from orders.services.legs import Leg, legs_move, legs_where, order_legs, stock_event_id
from orders.services.timeline import timeline_add
from orders.signals import shipment_handed_to_carrier
from warehouse.errors import InvalidInput, Reason, TransitionNotAllowed
from warehouse.limits import text_within
from warehouse.models import ExceptionKind, Facility
from warehouse.services import exceptions_resolve_if_cleared
from warehouse.transitions import Actor, transition_apply

SCAN_STATUSES = ("in_transit", "delivered", "info")


def shipment_create(
    *,
    order: Order,
    carrier: str,
    actor: Actor,
    service: str = "",
    tracking_number: str = "",
    facility: Facility | None = None,
) -> Shipment:
    """A packed order gets a shipment (staged) and its label. An order split across facilities gets one per leg,
    each with its facility: its lines are the order's allocation rows there (`orders.models.shipment_rows`)."""
    require_perm(actor, OPERATE_SHIPMENT, "You may not create shipments.")
    carrier = text_received(carrier, 60, "carrier")
    if not carrier:
        raise InvalidInput("A shipment needs a carrier.", reasons=[Reason("carrier_required", "Name the carrier")])
    with transaction.atomic():
        order = order_lock(order)
        if order.state != OrderState.PACKED:
            raise TransitionNotAllowed(
                f"Order {order_label(order)} is {order.state}: a shipment is created once it is packed.",
                reasons=[Reason("order_not_packed", f"the order is {order.state}, not packed")],
            )
        now = timezone.now()
        # An order at one facility ships whole from it (no read needed); a split order ships one leg per shipment.
        leg = _shipment_leg(order, facility) if facility is not None or is_split(order) else None
        shipment = Shipment(
            order=order,
            facility=leg.facility if leg is not None else order.facility,
            carrier=carrier,
            service=text_received(service, 60, "service"),
            tracking_number=text_received(tracking_number, 100, "tracking_number"),
            label_created_at=now,
        )
        shipment._history_user = actor  # type: ignore[attr-defined]
        shipment.save()
        tracking = f", tracking {shipment.tracking_number}" if shipment.tracking_number else ""
        part = f" for the {leg.facility.code} leg" if leg is not None and leg.suffix else ""
        timeline_add(order, OrderEventKind.LABEL_CREATED,
               f"Label created{part}: {carrier} {shipment.service}{tracking}".strip(), actor=actor,
               data={"shipment": shipment.pk})  # fmt: skip
        return shipment


def _shipment_leg(order: Order, facility: Facility | None) -> Leg:
    """Which part of the order a new shipment carries: the whole order at its facility, or for a split the leg at
    `facility` (by default the first leg without a shipment yet)."""
    legs = order_legs(order)
    if facility is None:
        shipped = set(order.shipments.values_list("facility_id", flat=True))
        facility = next((leg.facility for leg in legs if leg.facility.pk not in shipped), legs[0].facility)
    leg = next((leg for leg in legs if leg.facility == facility), None)
    if leg is None:
        where = legs_where(legs)
        raise InvalidInput(
            f"Order {order_label(order)} ships from {where}, not {facility.code}.",
            reasons=[Reason("facility_not_in_order", f"the order ships from {where}")],
        )
    return leg


def shipment_hand_to_carrier(
    *,
    shipment: Shipment,
    carrier_receipt: str,
    handed_at: dt.datetime | None,
    actor: Actor,
    tracking_number: str | None = None,
) -> Shipment:
    """The carrier took custody, with proof (receipt, tracking number, time): the order is dispatched and its units
    leave the building (in pick → shipped) now, not before. A split order's leg ships its own units at its own
    facility; the order is dispatched when the last leg is handed over. Listeners of `shipment_handed_to_carrier`
    run inside this transaction (integrations writes the fulfilment's outbox row there): if one fails, nothing of the
    hand-off is kept, and if the hand-off is rolled back, neither is the row."""
    with transaction.atomic():
        changes: dict[str, Any] = {
            "carrier_receipt": text_received(carrier_receipt, 200, "carrier_receipt"),
            "handed_at": handed_at,
        }
        if tracking_number is not None:
            changes["tracking_number"] = text_received(tracking_number, 100, "tracking_number")
        shipment = transition_apply(
            obj=shipment, name="hand_to_carrier", actor=actor, reason="carrier took custody", changes=changes
        )
        order = order_lock(shipment.order)
        part = ""
        if order.state == OrderState.PACKED and is_split(order):
            leg = next(leg for leg in order_legs(order) if leg.facility.pk == shipment.facility_id)
            part = f" ({leg.facility.code} leg)"
            stock_ship(  # a second parcel of the same leg replays this event: its units left once
                facility=leg.facility, lines=leg.lines, event_id=stock_event_id(order, "ship", leg), actor=actor,
                reference=f"order {order_label(order)} shipment {shipment.pk}",
            )  # fmt: skip
            if has_carrier_proof(order):  # every leg is with a carrier now
                order = transition_apply(obj=order, name="dispatch", actor=actor, reason="last leg handed to carrier")
        elif order.state == OrderState.PACKED:
            order = transition_apply(obj=order, name="dispatch", actor=actor, reason="handed to carrier")
            reference = f"order {order_label(order)} shipment {shipment.pk}"
            legs_move(order, order_legs(order), stock_ship, "ship", actor=actor, reference=reference)
        timeline_add(
            order,
            OrderEventKind.HANDED_TO_CARRIER,
            f"Handed to {shipment.carrier}{part}: tracking {shipment.tracking_number}, receipt "
            f"{shipment.carrier_receipt}",
            actor=actor,
            data={"shipment": shipment.pk, "handed_at": handed_at.isoformat() if handed_at else None},
        )
        # Inside the atomic block, never on commit: a crash between commit and callback would lose the write.
        shipment_handed_to_carrier.send(sender=Shipment, shipment=shipment)
        return shipment


def shipment_record_scan(
    *,
    shipment: Shipment,
    status: str,
    occurred_at: dt.datetime,
    actor: Actor = None,
    event_id: str = "",
    description: str = "",
    location: str = "",
    raw: dict[str, Any] | None = None,
) -> Shipment:
    """One carrier scan, recorded once per event id. The first acknowledges custody; `in_transit` and `delivered`
    move the shipment (and the order) on; delivery of the last shipment closes the order."""
    status = (status or "").strip().lower()
    if status not in SCAN_STATUSES:
        raise InvalidInput(
            f"Unknown scan status {status!r}.", reasons=[Reason("scan_status", f"one of {', '.join(SCAN_STATUSES)}")]
        )
    description, location = text_received(description, 300, "description"), text_received(location, 200, "location")
    event_id = text_received(event_id, 200, "event_id") or _scan_id(status, occurred_at, description, location)
    with transaction.atomic():
        shipment = Shipment.objects.select_for_update(of=("self",)).select_related("order").get(pk=shipment.pk)
        if shipment.state == ShipmentState.STAGED:
            raise TransitionNotAllowed(
                "A scan arrived for a shipment not yet handed to the carrier; record the hand-off first.",
                reasons=[Reason("not_handed_to_carrier", "the shipment is still staged")],
            )
        try:
            with transaction.atomic():
                ShipmentEvent.objects.create(
                    shipment=shipment,
                    event_id=event_id,
                    status=status,
                    description=description,
                    location=location,
                    occurred_at=occurred_at,
                    raw=raw or {},
                )
        except IntegrityError:
            return shipment  # the same scan again
        order = order_lock(shipment.order)
        where = f" at {location}" if location else ""
        scan = {"shipment": shipment.pk, "status": status, "occurred_at": occurred_at.isoformat()}
        message = f"{shipment.carrier} scan: {description or status}{where}"
        timeline_add(order, OrderEventKind.CARRIER_SCAN, message, actor=actor, data=scan)
        if shipment.acknowledged_at is None:
            shipment.acknowledged_at = occurred_at
            shipment.save(update_fields=["acknowledged_at"])
            exceptions_resolve_if_cleared(
                subject=shipment, kind=ExceptionKind.CARRIER_ACK_MISSING, note="The carrier acknowledged custody."
            )
        if status == "in_transit" and shipment.state == ShipmentState.HANDED_TO_CARRIER:
            shipment = transition_apply(obj=shipment, name="mark_in_transit", actor=actor, reason="carrier scan")
            if order.state == OrderState.DISPATCHED:
                order = transition_apply(obj=order, name="mark_in_transit", actor=actor, reason="carrier scan")
                timeline_add(order, OrderEventKind.IN_TRANSIT, f"In transit with {shipment.carrier}", actor=actor)
        if status == "delivered" and shipment.state in (ShipmentState.HANDED_TO_CARRIER, ShipmentState.IN_TRANSIT):
            shipment = transition_apply(
                obj=shipment, name="deliver", actor=actor, reason="carrier confirmed delivery",
                changes={"delivered_at": occurred_at},
            )  # fmt: skip
            _deliver_order_if_complete(order, actor=actor, message=f"Delivered: {shipment.carrier} confirmed")
        return shipment


def _scan_id(status: str, occurred_at: dt.datetime, description: str, location: str) -> str:
    raw = f"{status}|{occurred_at.isoformat()}|{description}|{location}"
    return "h:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def _deliver_order_if_complete(order: Order, *, actor: Actor, message: str) -> Order:
    if order.state not in (OrderState.DISPATCHED, OrderState.IN_TRANSIT):
        return order
    if order.shipments.exclude(state=ShipmentState.DELIVERED).exists():
        return order
    order = transition_apply(obj=order, name="deliver", actor=actor, reason="carrier confirmed delivery")
    timeline_add(order, OrderEventKind.DELIVERED, message, actor=actor)
    return order


def shipment_close_manually(*, shipment: Shipment, actor: Actor, reason: str) -> Shipment:
    """A manager closes a handed-over shipment as delivered (e.g. proof arrived by email): forced, with a reason."""
    require_perm(actor, CLOSE_SHIPMENT, "You may not close shipments manually.")
    reason = text_within(reason, field="reason", limit=300)
    with transaction.atomic():
        shipment = transition_apply(
            obj=shipment,
            name="deliver",
            actor=actor,
            reason=reason,
            force=True,
            changes={"closed_manually_reason": reason, "delivered_at": timezone.now()},
        )
        order = order_lock(shipment.order)
        if (
            order.state in (OrderState.DISPATCHED, OrderState.IN_TRANSIT)
            and not order.shipments.exclude(state=ShipmentState.DELIVERED).exists()
        ):
            order = transition_apply(obj=order, name="deliver", actor=actor, reason=reason, force=True)
        who = actor.get_username() if actor is not None else "the system"
        timeline_add(order, OrderEventKind.DELIVERED, f"Shipment closed manually by {who}: {reason}", actor=actor,
               data={"shipment": shipment.pk})  # fmt: skip
        exceptions_resolve_if_cleared(subject=shipment, kind=ExceptionKind.CARRIER_ACK_MISSING, note=reason)
        return shipment
