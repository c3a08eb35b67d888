"""django-q2 entry points of the orders app: the two control points of seed 001 "Status transitions". Safe to
re-run: `exception_open` keeps one open exception per order or shipment. `now=` lets tests move the clock."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from orders.checks import allocation_rows_check
from orders.models import Order, Shipment
from orders.selectors import orders_picking_stalled, shipments_awaiting_ack
from warehouse.errors import Reason
from warehouse.models import ExceptionKind
from warehouse.services import exception_open

PICKING_STALL_AFTER = dt.timedelta(hours=4)
CARRIER_ACK_WITHIN = dt.timedelta(hours=24)


def _hours(delta: dt.timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def orders_check_picking_stalled(now: dt.datetime | None = None) -> int:
    """An order picking with no activity for 4 hours is either not in the pick system or was never really
    released: raise it. Returns how many orders are stalled."""
    now = now or timezone.now()
    stalled: list[Order] = list(orders_picking_stalled(now=now, after=PICKING_STALL_AFTER))
    for order in stalled:
        idle = _hours(now - order.last_activity_at)
        exception_open(
            kind=ExceptionKind.PICKING_STALLED,
            summary=f"Order {order.platform_order_id or order.pk}: picking, no activity for {idle}",
            reasons=[Reason("picking_stalled", f"no pick activity since {order.last_activity_at:%Y-%m-%d %H:%M} UTC")],
            subject=order,
            brand=order.brand,
            facility=order.facility,
        )
    return len(stalled)


def shipments_check_carrier_ack(now: dt.datetime | None = None) -> int:
    """Handed to the carrier but never acknowledged within 24 hours: the goods may still be at the dock."""
    now = now or timezone.now()
    silent: list[Shipment] = list(shipments_awaiting_ack(now=now, after=CARRIER_ACK_WITHIN))
    for shipment in silent:
        order = shipment.order
        assert shipment.handed_at is not None  # the selector filters on it
        exception_open(
            kind=ExceptionKind.CARRIER_ACK_MISSING,
            summary=(
                f"Order {order.platform_order_id or order.pk}: {shipment.carrier} {shipment.tracking_number} "
                f"handed over {_hours(now - shipment.handed_at)} ago, no carrier scan"
            ),
            reasons=[
                Reason(
                    "carrier_ack_missing",
                    f"no carrier acknowledgement since hand-off at {shipment.handed_at:%Y-%m-%d %H:%M} UTC; "
                    "check whether the parcel is still at the dock",
                )
            ],
            subject=shipment,
            brand=order.brand,
            facility=order.facility,
        )
    return len(silent)


def orders_check_allocation_rows() -> int:
    """The allocation rows against the `allocated` bucket (`orders.checks`); returns stock levels that disagree."""
    return len(allocation_rows_check())
