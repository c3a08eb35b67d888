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
from reports.finance.compiled import CompiledQuery, Params
from reports.finance.filters import ReportFilter
from reports.models import VolumeDay
from returns.models import Return
from warehouse.models import Brand, SalesChannel, TransitionRecord

COUNTS = ("received", "shipped", "cancelled", "returned")


def _orders(p: Params, prefix: str = "") -> Q:
    q = Q(**{f"{prefix}brand_id__in": p["brands"]})
    if p["channel"] is not None:
        q &= Q(**{f"{prefix}channel_id": p["channel"]})
    if p["facility"] is not None:
        q &= Q(**{f"{prefix}facility_id": p["facility"]})
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


def _live_query(p: Params) -> QuerySet[Any]:
    """Rows (kind, day, brand, channel, facility, n): the four grouped counts between `start` and `end` as one
    UNION ALL (one round trip), each row tagged with its kind."""
    received = Order.objects.filter(_orders(p), created_at__gte=p["start"], created_at__lt=p["end"])
    shipped = Shipment.objects.filter(_orders(p, "order__"), handed_at__gte=p["start"], handed_at__lt=p["end"])
    # A cancel is a transition record of the order (a generic relation): its brand and channel come from the order.
    order = Order.objects.filter(pk=OuterRef("object_id"))
    cancelled = TransitionRecord.objects.filter(
        content_type_id=p["order_type"],
        target=OrderState.CANCELLED,
        at__gte=p["start"],
        at__lt=p["end"],
        object_id__in=Order.objects.filter(_orders(p)).values("pk"),
    ).annotate(
        brand_id=Subquery(order.values("brand_id")),
        channel_id=Subquery(order.values("channel_id")),
        facility_id=Subquery(order.values("facility_id")),
    )
    returned = Return.objects.filter(brand_id__in=p["brands"], created_at__gte=p["start"], created_at__lt=p["end"])
    if p["channel"] is not None:
        returned = returned.filter(order__channel_id=p["channel"])
    if p["facility"] is not None:
        returned = returned.filter(facility_id=p["facility"])
    return _grouped(received, "received", "created_at", "brand_id", "channel_id", "facility_id", "id").union(
        _grouped(shipped, "shipped", "handed_at", "order__brand_id", "order__channel_id", "order__facility_id",
                 "order_id"),
        _grouped(returned, "returned", "created_at", "brand_id", "order__channel_id", "facility_id", "id"),
        _grouped(cancelled, "cancelled", "at", "brand_id", "channel_id", "facility_id", "id"),
        all=True,
    )  # fmt: skip


def _rolled_query(p: Params) -> QuerySet[Any]:
    """Rows (day, brand, channel, received, shipped, cancelled, returned) the rollup holds for the range, with the
    "day complete" marker rows (no brand)."""
    rolled = VolumeDay.objects.filter(day__gte=p["date_from"], day__lte=p["date_to"]).filter(
        Q(brand_id__in=p["brands"]) | Q(brand__isnull=True)
    )
    if p["channel"] is not None:
        rolled = rolled.filter(Q(channel_id=p["channel"]) | Q(brand__isnull=True))
    if p["facility"] is not None:
        rolled = rolled.filter(Q(facility_id=p["facility"]) | Q(brand__isnull=True))
    return rolled.order_by().values_list("day", "brand_id", "channel_id", *COUNTS)


# Both queries bring each row's channel name along (a channel's rows name it: no second query for the names).
_CHANNELS = SalesChannel._meta.db_table
_NAMED = f'SELECT q.*, c."name" FROM ({{}}) q LEFT JOIN "{_CHANNELS}" c ON c."id" = q."channel_id"'  # noqa: S608
LIVE = CompiledQuery(_live_query, wrap=_NAMED)
ROLLED = CompiledQuery(_rolled_query, wrap=_NAMED)


def _params(f: ReportFilter) -> Params:
    return {
        "brands": list(f.brand_ids),
        "channel": f.channel.pk if f.channel is not None else None,
        "facility": f.facility.pk if f.facility is not None else None,
    }


def _live_rows(f: ReportFilter, start: dt.datetime, end: dt.datetime) -> list[tuple[Any, ...]]:
    """(kind, day, brand, channel, facility, n, channel name), counted from the events themselves."""
    order_type = ContentType.objects.get_for_model(Order).pk
    return LIVE.rows({**_params(f), "start": start, "end": end, "order_type": order_type})


def live_counts(f: ReportFilter, start: dt.datetime, end: dt.datetime) -> dict[Key, dict[str, int]]:
    """Counted from the events themselves, in one query: for days the rollup does not hold yet."""
    found: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for kind, day, brand_id, channel_id, facility_id, n, _ in _live_rows(f, start, end):
        found[(day, brand_id, channel_id, facility_id)][kind] += n
    return found


VolumeKey = tuple[dt.date, int, int | None]  # day, brand, channel


def volume_counts(f: ReportFilter) -> tuple[dict[VolumeKey, dict[str, int]], dict[int, str]]:
    """{(day, brand_id, channel_id): {received, shipped, cancelled, returned}}, and the channels' names.

    Days the rollup holds (`VolumeDay`, with its "day complete" marker row) come from it in one query; the days after
    (today, or every day before the first rollup ran) are counted live in a second one."""
    found: dict[VolumeKey, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    names: dict[int, str] = {}
    complete: set[dt.date] = set()
    for day, brand_id, channel_id, *counts, name in ROLLED.rows(
        {**_params(f), "date_from": f.date_from, "date_to": f.date_to}
    ):
        if brand_id is None:
            complete.add(day)
            continue
        if name is not None:
            names[channel_id] = name
        for column, n in zip(COUNTS, counts, strict=True):
            found[(day, brand_id, channel_id)][column] += n
    day, live_from = f.date_from, None
    while day <= f.date_to:  # the first day the rollup does not hold, and every day after it, are counted live
        if day not in complete:
            live_from = day
            break
        day += dt.timedelta(days=1)
    if live_from is not None:
        for key in [k for k in found if k[0] >= live_from]:
            del found[key]
        start = timezone.make_aware(dt.datetime.combine(live_from, dt.time.min))
        for kind, day, brand_id, channel_id, _, n, name in _live_rows(f, start, f.end):
            if name is not None:
                names[channel_id] = name
            found[(day, brand_id, channel_id)][kind] += n
    return found, names


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
        counts, channels = volume_counts(f)
        brands = {b.pk: b.name for b in f.visible}
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
