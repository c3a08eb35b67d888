"""One-minute rollups of the connector metrics in PostgreSQL, for the pages (SLO attainment, the health board), and
their summary into hours after 90 days.

`metrics_rollup` (every minute) writes the last few complete minutes of every windowed family, computed by the same
`series` functions `/metrics` reads, upserted on (metric, platform, connection, label, minute): re-running a minute
writes the same values, so a late or repeated run changes nothing and a run that was missed is caught up by the next.
Readings of state (headroom, dead-letter depth, drift, divergence, the exception queue) are what they were when the
minute was first rolled up: written once, never overwritten. Only non-zero series are stored; a missing row is zero
(or, for a ratio or percentile, no observation).

`metrics_summarise` (hourly) turns minute rows older than 90 days into one row per hour by each family's rule
(`families.Rollup`) and deletes them, whole hours at a time in one transaction, so an hour is summarised once."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models.functions import TruncHour
from django.utils import timezone

from integrations.metrics import series
from integrations.metrics.families import BY_KEY, FAMILIES, MINUTE, Family, Rollup, summarise
from integrations.metrics.series import Point, Span
from integrations.models import MetricHour, MetricMinute
from warehouse.memo import memo_scope

KEEP_MINUTES = dt.timedelta(days=90)
CATCH_UP_MINUTES = 5  # each run recomputes this many complete minutes: late rows and a missed run are caught up
SERIES_FIELDS = ["metric", "platform", "connection_id", "label"]
VALUE_FIELDS = ["value", "count", "total"]


def floor_minute(at: dt.datetime) -> dt.datetime:
    return at.replace(second=0, microsecond=0)


def floor_hour(at: dt.datetime) -> dt.datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _rows(family: Family, points: list[Point], platforms: dict[int, str], minute: dt.datetime) -> list[MetricMinute]:
    return [
        MetricMinute(
            metric=family.key, platform=platforms.get(p.connection_id, ""), connection_id=p.connection_id,
            label=p.label, value=p.value, count=p.count, total=p.total, minute=minute,
        )
        for p in points
        if p.connection_id == 0 or p.connection_id in platforms
    ]  # fmt: skip


def metrics_rollup(*, now: dt.datetime | None = None, minutes: int = CATCH_UP_MINUTES) -> int:
    """Roll up the last `minutes` complete minutes before `now`; returns the rows written or rewritten."""
    with memo_scope():  # the connections and each minute's request counts are read once
        return _rollup(now=now or timezone.now(), minutes=minutes)


def _rollup(*, now: dt.datetime, minutes: int) -> int:
    current = floor_minute(now)
    platforms = {cid: f.platform for cid, f in series.connection_facts().items()}
    windowed: list[MetricMinute] = []
    for back in range(minutes, 0, -1):
        start = current - back * MINUTE
        span = Span(start, start + MINUTE)
        for family in FAMILIES:
            if family.window is not None:
                windowed += _rows(family, family.compute(span), platforms, start)
    readings: list[MetricMinute] = []
    last = current - MINUTE
    for family in FAMILIES:
        if family.window is None:
            readings += _rows(family, family.compute(Span(now, now)), platforms, last)
    unique = [*SERIES_FIELDS, "minute"]
    with transaction.atomic():
        MetricMinute.objects.bulk_create(
            windowed, update_conflicts=True, unique_fields=unique, update_fields=VALUE_FIELDS, batch_size=1000
        )
        MetricMinute.objects.bulk_create(readings, ignore_conflicts=True, batch_size=1000)
    return len(windowed) + len(readings)


def metrics_summarise(*, now: dt.datetime | None = None, keep: dt.timedelta = KEEP_MINUTES) -> int:
    """Summarise the minute rows of every whole hour older than `keep` into hour rows and delete them; returns the
    hour rows written."""
    now = now or timezone.now()
    cutoff = floor_hour(now - keep)
    with transaction.atomic():
        old = MetricMinute.objects.filter(minute__lt=cutoff)
        grouped: dict[tuple[str, str, int, str, dt.datetime], list[Point]] = defaultdict(list)
        for row in old.annotate(hour=TruncHour("minute", tzinfo=dt.UTC)).order_by():
            key = (row.metric, row.platform, row.connection_id, row.label, row.hour)  # type: ignore[attr-defined]
            grouped[key].append(Point(row.connection_id, row.value, row.label, row.count, row.total))
        hours = []
        for (metric, platform, connection_id, label, hour), points in grouped.items():
            family = BY_KEY.get(metric)
            rollup = family.rollup if family is not None else Rollup.MAX
            hours.append(
                MetricHour(
                    metric=metric, platform=platform, connection_id=connection_id, label=label, hour=hour,
                    value=summarise(rollup, points, seconds=3600.0), count=sum(p.count for p in points),
                    total=sum(p.total for p in points),
                )
            )  # fmt: skip
        MetricHour.objects.bulk_create(
            hours,
            update_conflicts=True,
            unique_fields=[*SERIES_FIELDS, "hour"],
            update_fields=VALUE_FIELDS,
            batch_size=1000,
        )
        old.delete()
    return len(hours)
