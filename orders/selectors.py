"""Read queries of orders: the timeline, and the orders the schedules look at."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from orders.models import Order, OrderEvent, OrderState, Shipment, ShipmentState
from warehouse.models import Brand, Facility


def facility_default_for(*, brand: Brand) -> Facility | None:
    """The brand's only or first facility (by code) where it keeps stock, else the first facility. Routing across
    facilities comes later (orders.allocation)."""
    stocked = Facility.objects.filter(stock_levels__sku__brand=brand).order_by("code").first()
    return stocked or Facility.objects.order_by("code").first()


def order_timeline(*, order: Order) -> QuerySet[OrderEvent]:
    """What support reads: every step of the order in the order it happened."""
    return OrderEvent.objects.filter(order=order).select_related("actor").order_by("at", "id")


def orders_picking_stalled(*, now: dt.datetime, after: dt.timedelta) -> QuerySet[Order]:
    return Order.objects.filter(state=OrderState.PICKING, last_activity_at__lte=now - after).select_related(
        "brand", "facility"
    )


def shipments_awaiting_ack(*, now: dt.datetime, after: dt.timedelta) -> QuerySet[Shipment]:
    return Shipment.objects.filter(
        state=ShipmentState.HANDED_TO_CARRIER, acknowledged_at__isnull=True, handed_at__lte=now - after
    ).select_related("order__brand", "order__facility")
