"""Billable activity per brand and month, priced by the brand's rate card, so an invoice can be prepared from it.

Each activity is counted per day and priced by the card in force that day (the newest `valid_from` on or before
it), then summed per month. A day with no card in force is listed with no price, never priced at zero. Storage is
billed from the daily `StorageSnapshot` (units on hand at the end of each day), kept from the day this shipped."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from inventory.models import Movement, MovementKind, StockLevel
from orders.models import Order, OrderState, Shipment
from reports.finance.base import Column, Report, Series, money
from reports.finance.filters import ReportFilter
from reports.models import RateCard, StorageSnapshot
from warehouse.models import Brand, TransitionRecord

# activity → (label, the rate card's field)
ACTIVITIES: dict[str, tuple[str, str]] = {
    "received": ("Units received", "per_unit_received"),
    "picked": ("Units picked", "per_unit_picked"),
    "packed": ("Orders packed", "per_order_packed"),
    "shipped": ("Shipments handed to carriers", "per_shipment"),
    "storage": ("Storage (unit-days)", "storage_per_unit_day"),
}


def _per_day(qs: QuerySet[Any], time: str, brand: str, amount: Any) -> Iterator[tuple[dt.date, int, int]]:
    for row in qs.annotate(day=TruncDate(time)).values("day", brand).annotate(n=amount).order_by():
        yield row["day"], row[brand], int(row["n"] or 0)


def activity_per_day(f: ReportFilter) -> dict[str, list[tuple[dt.date, int, int]]]:
    """{activity: [(day, brand_id, quantity), ...]} over the filter's range."""
    moves = Movement.objects.filter(sku__brand_id__in=f.brand_ids, created_at__gte=f.start, created_at__lt=f.end)
    shipments = Shipment.objects.filter(order__brand_id__in=f.brand_ids, handed_at__gte=f.start, handed_at__lt=f.end)
    order = Order.objects.filter(pk=OuterRef("object_id"))
    packed = TransitionRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(Order),
        target=OrderState.PACKED,
        at__gte=f.start,
        at__lt=f.end,
        object_id__in=Order.objects.filter(brand_id__in=f.brand_ids).values("pk"),
    ).annotate(brand_id=Subquery(order.values("brand_id")))
    snapshots = StorageSnapshot.objects.filter(brand_id__in=f.brand_ids, day__gte=f.date_from, day__lte=f.date_to)
    if f.facility is not None:
        moves = moves.filter(facility_id=f.facility.pk)
        shipments = shipments.filter(facility_id=f.facility.pk)
        snapshots = snapshots.filter(facility_id=f.facility.pk)
    if f.channel is not None:
        shipments = shipments.filter(order__channel_id=f.channel.pk)
        packed = packed.filter(object_id__in=Order.objects.filter(channel_id=f.channel.pk).values("pk"))
    found = {
        "received": list(
            _per_day(moves.filter(kind=MovementKind.RECEIVE), "created_at", "sku__brand_id", Sum("quantity"))
        ),
        "picked": list(
            _per_day(moves.filter(kind=MovementKind.START_PICK), "created_at", "sku__brand_id", Sum("quantity"))
        ),
        "packed": list(_per_day(packed, "at", "brand_id", Count("id"))),
        "shipped": list(_per_day(shipments, "handed_at", "order__brand_id", Count("id"))),
        "storage": [
            (day, brand_id, int(units))
            for day, brand_id, units in snapshots.values("day", "brand_id")
            .annotate(u=Sum("units"))
            .values_list("day", "brand_id", "u")
            .order_by()
        ],
    }
    if f.channel is not None:  # stock and its storage belong to the brand, not to one of its channels
        found["received"] = found["picked"] = found["storage"] = []
    return found


def card_finder(brand_ids: list[int], until: dt.date) -> Callable[[int, dt.date], RateCard | None]:
    cards: dict[int, list[RateCard]] = defaultdict(list)
    for card in RateCard.objects.filter(brand_id__in=brand_ids, valid_from__lte=until).order_by("valid_from"):
        cards[card.brand_id].append(card)

    def in_force(brand_id: int, day: dt.date) -> RateCard | None:
        found = None
        for card in cards[brand_id]:
            if card.valid_from <= day:
                found = card
        return found

    return in_force


class BillingReport(Report):
    slug = "billing"
    title = "Billable activity"
    description = "Activity per brand and month, priced by the brand's rate card: the basis of an invoice."
    columns = [
        Column("month", "Month"),
        Column("brand", "Brand"),
        Column("activity", "Activity"),
        Column("quantity", "Quantity", "int"),
        Column("rate", "Rate"),
        Column("amount", "Amount", "money"),
        Column("currency", "Currency"),
    ]

    def rows(self, f: ReportFilter) -> Iterator[tuple[Any, ...]]:
        per_day = activity_per_day(f)
        in_force = card_finder(f.brand_ids, f.date_to)
        # (month, brand_id, activity) → [quantity, amount, {rates}, {currencies}, unpriced quantity]
        totals: dict[tuple[str, int, str], list[Any]] = {}
        for activity, days in per_day.items():
            field = ACTIVITIES[activity][1]
            for day, brand_id, quantity in days:
                key = (f"{day:%Y-%m}", brand_id, activity)
                entry = totals.setdefault(key, [0, Decimal(0), set(), set(), 0])
                entry[0] += quantity
                card = in_force(brand_id, day)
                if card is None:
                    entry[4] += quantity
                    continue
                rate = getattr(card, field)
                entry[1] += rate * quantity
                entry[2].add(rate)
                entry[3].add(card.currency)
        brands = dict(Brand.objects.filter(pk__in={k[1] for k in totals}).values_list("pk", "name"))
        order = list(ACTIVITIES)
        for (month, brand_id, activity), (quantity, amount, rates, currencies, unpriced) in sorted(
            totals.items(), key=lambda kv: (kv[0][0], brands.get(kv[0][1], ""), order.index(kv[0][2]))
        ):
            if unpriced:
                rate_words = f"no rate card for {unpriced}"
            else:
                rate_words = str(next(iter(rates))) if len(rates) == 1 else "varies (card changed)"
            yield (
                month,
                brands.get(brand_id, ""),
                ACTIVITIES[activity][0],
                quantity,
                rate_words,
                money(amount),
                "/".join(sorted(currencies)),
            )

    def chart(self, rows: list[tuple[Any, ...]]) -> Series:
        per_month: dict[str, float] = defaultdict(float)
        for row in rows:
            per_month[f"{row[0]} {row[1]}"] += float(row[5])
        return Series("Billable amount per month and brand", sorted(per_month.items()), "")


def storage_snapshot_take(day: dt.date | None = None) -> int:
    """Record today's (or `day`'s) units on hand per brand and facility; taking it twice keeps the newest figures."""
    day = day or timezone.localdate()
    taken = 0
    levels = (
        StockLevel.objects.values("sku__brand_id", "facility_id")
        .annotate(units=Sum("on_hand"))
        .order_by("sku__brand_id", "facility_id")
    )
    for row in levels:
        StorageSnapshot.objects.update_or_create(
            day=day,
            brand_id=row["sku__brand_id"],
            facility_id=row["facility_id"],
            defaults={"units": row["units"] or 0},
        )
        taken += 1
    return taken
