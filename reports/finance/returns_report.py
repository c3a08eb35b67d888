"""Returns by reason and disposition: how many returns and units, per brand, in the range they were opened."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import Coalesce, Lower, Trim

from reports.finance.base import Column, Report, Series
from reports.finance.filters import ReportFilter
from returns.models import Disposition, Return


class ReturnsReport(Report):
    slug = "returns"
    title = "Returns by reason and disposition"
    description = "Returns opened in the range, grouped by the customer's reason and the disposition decided."
    columns = [
        Column("brand", "Brand"),
        Column("reason", "Reason"),
        Column("disposition", "Disposition"),
        Column("returns", "Returns", "int"),
        Column("units", "Units", "int"),
    ]

    def rows(self, f: ReportFilter) -> Iterator[tuple[Any, ...]]:
        found = Return.objects.filter(brand_id__in=f.brand_ids, created_at__gte=f.start, created_at__lt=f.end)
        if f.channel is not None:
            found = found.filter(order__channel_id=f.channel.pk)
        if f.facility is not None:
            found = found.filter(facility_id=f.facility.pk)
        labels = dict(Disposition.choices)
        grouped = (
            found.annotate(why=Lower(Trim("reason")))
            .values("brand__name", "why", "disposition")
            .annotate(n=Count("id", distinct=True), units=Coalesce(Sum("lines__quantity"), 0))
            .order_by("brand__name", "why", "disposition")
        )
        for row in grouped:
            disposition = labels.get(row["disposition"], "not decided yet")
            yield (row["brand__name"], row["why"] or "(none given)", disposition, row["n"], row["units"])

    def chart(self, rows: list[tuple[Any, ...]]) -> Series:
        per_reason: dict[str, float] = defaultdict(float)
        for row in rows:
            per_reason[row[1]] += row[3]
        return Series("Returns per reason", sorted(per_reason.items(), key=lambda kv: -kv[1]), "returns")
