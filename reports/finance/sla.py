"""SLA attainment against the cutoff contract, and the credits it owes.

An order is measured in the period its ship-by falls in (its contract deadline): *on time* when the carrier took its
first parcel by then, *late* when later or when the deadline has passed with nothing handed over, *pending* while the
deadline is still ahead. Cancelled orders and orders without a ship-by (no cutoff contract) are not measured.
Attainment = on time ÷ (on time + late). Handling time runs from payment (else placement, else arrival) to the first
hand-off. Credits: per month, brand and channel, the brand's lowest `SlaCreditTier` whose threshold the attainment
falls below pays its credit for each late order."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from orders.models import Order, OrderState, Shipment
from reports.finance.base import Column, Report, Series, money, percent
from reports.finance.filters import ReportFilter
from reports.models import SlaCreditTier
from warehouse.models import Brand, SalesChannel


def measured_orders(f: ReportFilter) -> QuerySet[Order]:
    """The orders whose ship-by falls in the range, with `first_handed_at` annotated."""
    first_hand_off = (
        Shipment.objects.filter(order=OuterRef("pk"), handed_at__isnull=False).order_by("handed_at").values("handed_at")
    )
    qs = Order.objects.filter(brand_id__in=f.brand_ids, ship_by__gte=f.start, ship_by__lt=f.end).exclude(
        state=OrderState.CANCELLED
    )
    if f.channel is not None:
        qs = qs.filter(channel_id=f.channel.pk)
    if f.facility is not None:
        qs = qs.filter(facility_id=f.facility.pk)
    return qs.annotate(first_handed_at=Subquery(first_hand_off[:1]))


def _on_time() -> Q:
    return Q(first_handed_at__lte=F("ship_by"))


def _late(now: Any) -> Q:
    return Q(first_handed_at__gt=F("ship_by")) | Q(first_handed_at__isnull=True, ship_by__lt=now)


def credit_for(tiers: list[SlaCreditTier], attainment: Decimal | None, late: int) -> Decimal:
    """The credit a month's late orders earn under the lowest tier the attainment falls below; none above all."""
    if attainment is None or not late:
        return money(0)
    for tier in sorted(tiers, key=lambda t: t.attainment_below):
        if attainment < tier.attainment_below:
            return money(tier.credit_per_late_order * late)
    return money(0)


class SlaReport(Report):
    slug = "sla"
    title = "SLA attainment and credits"
    description = "Handling time against the cutoff contract (ship-by), late shipments, and the credits owed."
    columns = [
        Column("month", "Month"),
        Column("brand", "Brand"),
        Column("channel", "Channel"),
        Column("measured", "Measured", "int"),
        Column("on_time", "On time", "int"),
        Column("late", "Late", "int"),
        Column("pending", "Pending", "int"),
        Column("attainment", "Attainment %", "percent"),
        Column("credit", "Credit owed", "money"),
    ]

    def rows(self, f: ReportFilter) -> Iterator[tuple[Any, ...]]:
        now = timezone.now()
        grouped = (
            measured_orders(f)
            .annotate(month=TruncMonth("ship_by"))
            .values("month", "brand_id", "channel_id")
            .annotate(
                on_time=Count("id", filter=_on_time()),
                late=Count("id", filter=_late(now)),
                pending=Count("id", filter=Q(first_handed_at__isnull=True, ship_by__gte=now)),
            )
            .order_by("month", "brand_id", "channel_id")
        )
        found = list(grouped)
        brands = dict(Brand.objects.filter(pk__in={r["brand_id"] for r in found}).values_list("pk", "name"))
        channels = dict(SalesChannel.objects.filter(pk__in={r["channel_id"] for r in found}).values_list("pk", "name"))
        tiers: dict[int, list[SlaCreditTier]] = defaultdict(list)
        for tier in SlaCreditTier.objects.filter(brand_id__in=brands):
            tiers[tier.brand_id].append(tier)
        for r in found:
            attainment = percent(r["on_time"], r["on_time"] + r["late"])
            yield (
                f"{r['month']:%Y-%m}",
                brands.get(r["brand_id"], ""),
                channels.get(r["channel_id"], "manual or file") if r["channel_id"] else "manual or file",
                r["on_time"] + r["late"] + r["pending"],
                r["on_time"],
                r["late"],
                r["pending"],
                attainment,
                credit_for(tiers[r["brand_id"]], attainment, r["late"]),
            )

    def chart(self, rows: list[tuple[Any, ...]]) -> Series:
        return Series(
            "Attainment % per month, brand and channel",
            [(f"{r[0]} {r[1]} {r[2]}", float(r[7] or 0)) for r in rows],
            "%",
        )


class SlaOrdersReport(Report):
    """Every measured order: the evidence behind the SLA figures, and the export that can reach a million rows."""

    slug = "sla-orders"
    title = "SLA per order"
    description = "Each order measured against its ship-by: handling time and whether it shipped on time."
    columns = [
        Column("order", "Order"),
        Column("brand", "Brand"),
        Column("channel", "Channel"),
        Column("ship_by", "Ship by", "date"),
        Column("handed_at", "Handed to carrier", "date"),
        Column("handling_hours", "Handling hours", "percent"),
        Column("outcome", "Outcome"),
    ]

    def queryset(self, f: ReportFilter) -> QuerySet[Any]:
        return (
            measured_orders(f)
            .annotate(started=Coalesce("paid_at", "placed_at", "created_at"))
            .order_by("ship_by", "id")
            .values_list(
                "platform_order_id", "id", "brand__name", "channel__name", "ship_by", "first_handed_at", "started"
            )
        )

    def rows(self, f: ReportFilter) -> Iterator[tuple[Any, ...]]:
        now = timezone.now()
        for order_id, pk, brand, channel, ship_by, handed_at, started in self.queryset(f).iterator(chunk_size=5000):
            hours = (
                (Decimal((handed_at - started).total_seconds()) / 3600).quantize(Decimal("0.01"))
                if handed_at and started
                else None
            )
            if handed_at is not None:
                outcome = "on time" if handed_at <= ship_by else "late"
            else:
                outcome = "late" if ship_by < now else "pending"
            yield (order_id or f"#{pk}", brand, channel or "manual or file", ship_by, handed_at, hours, outcome)

    def row_estimate(self, f: ReportFilter) -> int:
        return measured_orders(f).count()

    def chart(self, rows: list[tuple[Any, ...]]) -> Series:
        outcomes: dict[str, float] = defaultdict(float)
        for row in rows:
            outcomes[row[6]] += 1
        return Series("Orders by outcome (shown rows)", sorted(outcomes.items()), "orders")
