"""The inventory variance log: every cycle count and correction, with its variance, approver and reason, valued at
the SKU's unit cost (no cost recorded: no value, said so rather than 0)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from inventory.models import Movement, MovementKind
from reports.finance.base import Column, Report, Series, money
from reports.finance.filters import ReportFilter

KINDS = (MovementKind.CYCLE_COUNT, MovementKind.ADJUST)


class VarianceReport(Report):
    slug = "variance"
    title = "Inventory variance"
    description = "Cycle counts and stock corrections: the variance, who approved it, why, and its value at unit cost."
    columns = [
        Column("at", "When", "date"),
        Column("brand", "Brand"),
        Column("facility", "Facility"),
        Column("sku", "SKU"),
        Column("kind", "Kind"),
        Column("variance", "Variance (units)", "int"),
        Column("approver", "Approved by"),
        Column("reason", "Reason"),
        Column("unit_cost", "Unit cost", "money"),
        Column("value", "Value", "money"),
    ]

    def rows(self, f: ReportFilter) -> Iterator[tuple[Any, ...]]:
        moves = Movement.objects.filter(
            kind__in=KINDS, sku__brand_id__in=f.brand_ids, created_at__gte=f.start, created_at__lt=f.end
        ).exclude(on_hand_delta=0)
        if f.facility is not None:
            moves = moves.filter(facility_id=f.facility.pk)
        found = moves.order_by("created_at", "id").values_list(
            "created_at",
            "sku__brand__name",
            "facility__code",
            "sku__code",
            "kind",
            "on_hand_delta",
            "approver__username",
            "actor__username",
            "reason",
            "sku__unit_cost",
        )
        labels = dict(MovementKind.choices)
        for at, brand, facility, sku, kind, delta, approver, actor, reason, cost in found.iterator(chunk_size=2000):
            value = money(cost * delta) if cost is not None else None
            yield (at, brand, facility, sku, labels[kind], delta, approver or actor or "system", reason, cost, value)

    def chart(self, rows: list[tuple[Any, ...]]) -> Series:
        per_day: dict[str, float] = defaultdict(float)
        for row in rows:
            per_day[row[0].date().isoformat()] += float(row[9] or 0)
        return Series("Variance value per day", sorted(per_day.items()), "")
