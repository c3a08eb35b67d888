"""Split-order fees per order: the estimate the brand saw at routing, and the fee actually owed for the legs that
shipped. The route recorded its fee as (legs − 1) × the brand's per-extra-facility fee at that moment, so the fee per
extra leg "under the brand's policy at the time" is read back from it; a later policy change does not reprice."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from orders.allocation.models import OrderRoute
from orders.models import Shipment
from reports.finance.base import Column, Report, Series, money
from reports.finance.filters import ReportFilter


def owed_fee(estimate: Decimal, planned_legs: int, shipped_legs: int) -> Decimal:
    if planned_legs < 2 or shipped_legs < 2:
        return money(0)
    per_extra = Decimal(estimate) / (planned_legs - 1)
    return money(per_extra * (min(shipped_legs, planned_legs) - 1))


class SplitFeesReport(Report):
    slug = "split-fees"
    title = "Split-order fees"
    description = "Orders routed across facilities: the fee estimated at routing and the fee owed for the legs shipped."
    columns = [
        Column("order", "Order"),
        Column("brand", "Brand"),
        Column("routed_at", "Routed", "date"),
        Column("planned_legs", "Legs planned", "int"),
        Column("shipped_legs", "Legs shipped", "int"),
        Column("estimate", "Estimated fee", "money"),
        Column("owed", "Fee owed", "money"),
    ]

    def rows(self, f: ReportFilter) -> Iterator[tuple[Any, ...]]:
        shipped = (
            Shipment.objects.filter(order=OuterRef("order_id"), handed_at__isnull=False)
            .order_by()
            .values("order")
            .annotate(n=Count("facility", distinct=True))
            .values("n")
        )
        routes = OrderRoute.objects.filter(
            brand_id__in=f.brand_ids, decided_at__gte=f.start, decided_at__lt=f.end, split_fee__gt=0
        )
        if f.channel is not None:
            routes = routes.filter(order__channel_id=f.channel.pk)
        if f.facility is not None:
            routes = routes.filter(Q(order__facility_id=f.facility.pk) | Q(order__shipments__facility_id=f.facility.pk))
        found = (
            routes.annotate(shipped_legs=Coalesce(Subquery(shipped[:1]), 0))
            .order_by("decided_at", "id")
            .values_list(
                "order__platform_order_id", "order_id", "brand__name", "decided_at", "legs", "shipped_legs", "split_fee"
            )
            .distinct()
        )
        for order_id, pk, brand, decided_at, legs, shipped_legs, estimate in found.iterator(chunk_size=2000):
            planned = len(legs or [])
            yield (
                order_id or f"#{pk}",
                brand,
                decided_at,
                planned,
                shipped_legs,
                money(estimate),
                owed_fee(estimate, planned, shipped_legs),
            )

    def chart(self, rows: list[tuple[Any, ...]]) -> Series:
        return Series(
            "Estimated and owed fees (shown rows)",
            [("estimated", float(sum(r[5] for r in rows))), ("owed", float(sum(r[6] for r in rows)))],
            "",
        )
