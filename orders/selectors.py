"""Read queries of orders: the lists the console, the pages and the API share (orders and shipments scoped to the
user's brands), the timeline, and the orders the schedules look at."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from orders.models import Order, OrderEvent, OrderSource, OrderState, Shipment, ShipmentState
from warehouse.models import Brand, Facility, SalesChannel
from warehouse.roles import UserLike, brands_visible_to, scope_to_brands


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


ORDER_FILTERS = {"state", "platform_order_id", "brand", "channel", "platform", "source"}
# A filter's name → the lookup it is (the platform is the channel's).
_LOOKUPS = {"platform": "channel__platform_code"}


def order_list_visible_to(*, user: UserLike, filters: dict[str, Any] | None = None) -> QuerySet[Order]:
    """Newest first; `filters` are exact matches on ORDER_FILTERS (unknown keys are ignored, blank values too)."""
    orders = Order.objects.select_related("brand", "channel", "facility").order_by("-created_at", "-id")
    wanted = {k: v for k, v in (filters or {}).items() if k in ORDER_FILTERS and v not in (None, "")}
    if any(not str(wanted[k]).isdigit() for k in ("brand", "channel") if k in wanted):
        return orders.none()  # a malformed id matches nothing (never a 500)
    pid = wanted.pop("platform_order_id", None)
    if wanted:
        orders = orders.filter(**{_LOOKUPS.get(k, k): v for k, v in wanted.items()})
    orders = scope_to_brands(orders, user)
    if pid is not None:
        orders = orders.filter(by_platform_order_id(str(pid), user))
    return orders


def by_platform_order_id(pid: str, user: UserLike) -> Q:
    """Exact order-id search that uses the two unique indexes on the order id, (channel, id) for channel orders
    and (brand, source, id) for the others: their leading columns are given as literal lists, so PostgreSQL probes
    the index instead of scanning a million rows (0.6 ms instead of 200 ms)."""
    brand_ids = list(brands_visible_to(user).values_list("pk", flat=True))
    channel_ids = list(SalesChannel.objects.filter(brand_id__in=brand_ids).order_by().values_list("pk", flat=True))
    by_channel = Q(channel_id__in=channel_ids, platform_order_id=pid)
    without = Q(
        channel__isnull=True, brand_id__in=brand_ids, source__in=list(OrderSource.values), platform_order_id=pid
    )
    return by_channel | without if channel_ids else without


def shipment_list_visible_to(*, user: UserLike) -> QuerySet[Shipment]:
    shipments = Shipment.objects.select_related("order", "order__brand").order_by("-created_at", "-id")
    return scope_to_brands(shipments, user, field="order__brand")
