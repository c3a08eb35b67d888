"""Volume by day, brand and channel: orders received, shipped, cancelled and returned.

Each count is taken on the day its event happened (received: the order arrived; shipped: the carrier took it;
cancelled: the cancel transition; returned: the return was opened), so a past day's figures do not move. Finished
days are kept counted in `VolumeDay` (`volume_rollup`), so a month's report reads a few hundred rows, not every
order."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from orders.models import Order, OrderState, Shipment
from reports.finance.base import Column, Report, Series
from reports.finance.filters import ReportFilter
from reports.models import VolumeDay
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


Key = tuple[dt.date, int, int | None, int | None]  # day, brand, channel, facility


def _grouped(
    qs: QuerySet[Any], kind: str, time: str, brand: str, channel: str, facility: str, count: str
) -> QuerySet[Any]:
    return (
        qs.annotate(day=TruncDate(time), kind=Value(kind, output_field=CharField()))
        .values("day", brand, channel, facility, "kind")
        .annotate(n=Count(count, distinct=count != "id"))
        .order_by()
        .values_list("kind", "day", brand, channel, facility, "n")
    )


def live_counts(f: ReportFilter, start: dt.datetime, end: dt.datetime) -> dict[Key, dict[str, int]]:
    """Counted from the events themselves, in four grouped queries: for days the rollup does not hold yet."""
    found: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    received = Order.objects.filter(_orders(f), created_at__gte=start, created_at__lt=end)
    shipped = Shipment.objects.filter(_orders(f, "order__"), handed_at__gte=start, handed_at__lt=end)
    # A cancel is a transition record of the order (a generic relation): its brand and channel come from the order.
    order = Order.objects.filter(pk=OuterRef("object_id"))
    cancelled = TransitionRecord.objects.filter(
        content_type=ContentType.objects.get_for_model(Order),
        target=OrderState.CANCELLED,
        at__gte=start,
        at__lt=end,
        object_id__in=Order.objects.filter(_orders(f)).values("pk"),
    ).annotate(
        brand_id=Subquery(order.values("brand_id")),
        channel_id=Subquery(order.values("channel_id")),
        facility_id=Subquery(order.values("facility_id")),
    )
    returned = Return.objects.filter(brand_id__in=f.brand_ids, created_at__gte=start, created_at__lt=end)
    if f.channel is not None:
        returned = returned.filter(order__channel_id=f.channel.pk)
    if f.facility is not None:
        returned = returned.filter(facility_id=f.facility.pk)
    # One round trip: the four grouped counts as one UNION ALL, each row tagged with its kind.
    counted = _grouped(received, "received", "created_at", "brand_id", "channel_id", "facility_id", "id").union(
        _grouped(shipped, "shipped", "handed_at", "order__brand_id", "order__channel_id", "order__facility_id",
                 "order_id"),
        _grouped(returned, "returned", "created_at", "brand_id", "order__channel_id", "facility_id", "id"),
        _grouped(cancelled, "cancelled", "at", "brand_id", "channel_id", "facility_id", "id"),
        all=True,
    )  # fmt: skip
    for kind, day, brand_id, channel_id, facility_id, n in counted:
        found[(day, brand_id, channel_id, facility_id)][kind] += n
    return found


def volume_counts(f: ReportFilter) -> dict[tuple[Any, int, int | None], dict[str, int]]:
    """{(day, brand_id, channel_id): {received, shipped, cancelled, returned}}.

    Days the rollup holds (`VolumeDay`, with its "day complete" marker row) come from it in one query; the days after
    (today, or every day before the first rollup ran) are counted live."""
    rolled = VolumeDay.objects.filter(day__gte=f.date_from, day__lte=f.date_to).filter(
        Q(brand_id__in=f.brand_ids) | Q(brand__isnull=True)
    )
    if f.channel is not None:
        rolled = rolled.filter(Q(channel_id=f.channel.pk) | Q(brand__isnull=True))
    if f.facility is not None:
        rolled = rolled.filter(Q(facility_id=f.facility.pk) | Q(brand__isnull=True))
    found: dict[tuple[Any, int, int | None], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    complete: set[dt.date] = set()
    for day, brand_id, channel_id, *counts in rolled.values_list("day", "brand_id", "channel_id", *COUNTS):
        if brand_id is None:
            complete.add(day)
            continue
        for name, n in zip(COUNTS, counts, strict=True):
            found[(day, brand_id, channel_id)][name] += n
    day, live_from = f.date_from, None
    while day <= f.date_to:  # the first day the rollup does not hold, and every day after it, are counted live
        if day not in complete:
            live_from = day
            break
        day += dt.timedelta(days=1)
    if live_from is not None:
        for day, brand_id, channel_id in [k for k in found if k[0] >= live_from]:
            del found[(day, brand_id, channel_id)]
        start = timezone.make_aware(dt.datetime.combine(live_from, dt.time.min))
        for (day, brand_id, channel_id, _), counts in live_counts(f, start, f.end).items():
            for name, n in counts.items():
                found[(day, brand_id, channel_id)][name] += n
    return found


ROLLUP_REVISIT_DAYS = 7  # a hand-off time keyed in later (manual tracking) can land up to a few days back


@transaction.atomic
def volume_rollup_day(day: dt.date) -> int:
    """Recount one day for every brand, channel and facility, replacing its rows and its "day complete" marker."""
    everyone = ReportFilter(brand_ids=list(Brand.objects.values_list("pk", flat=True)), date_from=day, date_to=day)
    VolumeDay.objects.filter(day=day).delete()
    rows = [
        VolumeDay(day=key[0], brand_id=key[1], channel_id=key[2], facility_id=key[3], **counts)
        for key, counts in live_counts(everyone, everyone.start, everyone.end).items()
    ]
    VolumeDay.objects.bulk_create([*rows, VolumeDay(day=day)])
    return len(rows)


def volume_rollup(*, today: dt.date | None = None) -> int:
    """Roll up every finished day not rolled up yet, and revisit the last `ROLLUP_REVISIT_DAYS`. Returns the days
    written. Run every few minutes (reports/schedules.py); the first run rolls up the whole history."""
    today = today or timezone.localdate()
    last = VolumeDay.objects.filter(brand__isnull=True).order_by("-day").values_list("day", flat=True).first()
    if last is not None:
        first = min(last + dt.timedelta(days=1), today - dt.timedelta(days=ROLLUP_REVISIT_DAYS))
    else:
        oldest = Order.objects.order_by("created_at").values_list("created_at", flat=True).first()
        if oldest is None:
            return 0
        first = timezone.localtime(oldest).date()
    written, day = 0, first
    while day < today:
        volume_rollup_day(day)
        written += 1
        day += dt.timedelta(days=1)
    return written


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
        brands = {b.pk: b.name for b in f.visible}
        if f.channels is not None:
            channels = {c.pk: c.name for c in f.channels}
        else:
            channels = dict(SalesChannel.objects.filter(pk__in={k[2] for k in counts}).values_list("pk", "name"))
        if missing := {k[1] for k in counts} - brands.keys():
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
