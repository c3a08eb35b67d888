"""Volume by day, brand and channel: orders received, shipped, cancelled and returned.

Each count is taken on the day its event happened (received: the order arrived; shipped: the carrier took it;
cancelled: the cancel transition; returned: the return was opened), so a past day's figures do not move."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate

from orders.models import Order, OrderState, Shipment
from reports.finance.base import Column, Report, Series
from reports.finance.filters import ReportFilter
from returns.models import Return
from warehouse.models import Brand, SalesChannel, TransitionRecord

COUNTS = ("received", "shipped", "cancelled", "returned")


def _orders(f: ReportFilter, prefix: str = "") -> Q:
    q = Q(**{f"{prefix}brand_id__in": f.brand_ids})
    if f.channel is not None:
        q &= Q(**{f"{prefix}channel_id": f.channel.pk})
    if f.facility is not None:
        q &= Q(**{f"{prefix}facility_id": f.facility.pk})
    return q


def _grouped(qs: QuerySet[Any], time: str, brand: str, channel: str, count: str) -> QuerySet[Any]:
    return (
        qs.annotate(day=TruncDate(time))
        .values("day", brand, channel)
        .annotate(n=Count(count, distinct=count != "id"))
        .order_by()
    )


def volume_counts(f: ReportFilter) -> dict[tuple[Any, int, int | None], dict[str, int]]:
    """{(day, brand_id, channel_id): {received, shipped, cancelled, returned}}: four grouped queries."""
    found: dict[tuple[Any, int, int | None], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    received = Order.objects.filter(_orders(f), created_at__gte=f.start, created_at__lt=f.end)
    shipped = Shipment.objects.filter(_orders(f, "order__"), handed_at__gte=f.start, handed_at__lt=f.end)
    # A cancel is a transition record of the order (a generic relation): its brand and channel come from the order.
    order = Order.objects.filter(pk=OuterRef("object_id"))
    cancelled = TransitionRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(Order),
        target=OrderState.CANCELLED,
        at__gte=f.start,
        at__lt=f.end,
        object_id__in=Order.objects.filter(_orders(f)).values("pk"),
    ).annotate(brand_id=Subquery(order.values("brand_id")), channel_id=Subquery(order.values("channel_id")))
    returned = Return.objects.filter(brand_id__in=f.brand_ids, created_at__gte=f.start, created_at__lt=f.end)
    if f.channel is not None:
        returned = returned.filter(order__channel_id=f.channel.pk)
    if f.facility is not None:
        returned = returned.filter(facility_id=f.facility.pk)
    sources: list[tuple[str, QuerySet[Any]]] = [
        ("received", _grouped(received, "created_at", "brand_id", "channel_id", "id")),
        ("shipped", _grouped(shipped, "handed_at", "order__brand_id", "order__channel_id", "order_id")),
        ("returned", _grouped(returned, "created_at", "brand_id", "order__channel_id", "id")),
        ("cancelled", _grouped(cancelled, "at", "brand_id", "channel_id", "id")),
    ]
    for name, qs in sources:
        for row in qs:
            keys = [k for k in row if k not in ("day", "n")]
            brand_key = next(k for k in keys if k.endswith("brand_id"))
            channel_key = next(k for k in keys if k.endswith("channel_id"))
            found[(row["day"], row[brand_key], row[channel_key])][name] += row["n"]
    return found


class VolumeReport(Report):
    slug = "volume"
    title = "Volume"
    description = "Orders received, shipped, cancelled and returned, by day, brand and channel."
    columns = [
        Column("day", "Day", "date"),
        Column("brand", "Brand"),
        Column("channel", "Channel"),
        Column("received", "Received", "int"),
        Column("shipped", "Shipped", "int"),
        Column("cancelled", "Cancelled", "int"),
        Column("returned", "Returned", "int"),
    ]

    def rows(self, f: ReportFilter) -> Iterator[tuple[Any, ...]]:
        counts = volume_counts(f)
        channels, brands = {}, {}
        for pk, name, brand_id, brand_name in SalesChannel.objects.filter(pk__in={k[2] for k in counts}).values_list(
            "pk", "name", "brand_id", "brand__name"
        ):
            channels[pk], brands[brand_id] = name, brand_name
        if missing := {k[1] for k in counts} - brands.keys():  # brands seen only on manual or file orders
            brands.update(Brand.objects.filter(pk__in=missing).values_list("pk", "name"))
        for (day, brand_id, channel_id), n in sorted(
            counts.items(), key=lambda kv: (kv[0][0], brands.get(kv[0][1], ""), channels.get(kv[0][2] or 0, ""))
        ):
            channel = channels.get(channel_id, "") if channel_id is not None else "manual or file"
            yield (day, brands.get(brand_id, ""), channel, *(n[c] for c in COUNTS))

    def chart(self, rows: list[tuple[Any, ...]]) -> Series:
        per_day: dict[str, float] = defaultdict(float)
        for row in rows:
            per_day[row[0].isoformat()] += row[3]
        return Series("Orders received per day", sorted(per_day.items()), "orders")
