"""Writes the SLO rollups from the events, with the SLIs' own SQL (`measures`):

- `SloDay` (`slo_rollup`, every 5 minutes): today and yesterday, whose numbers are still growing; older days never
  change (a decided event never moves), so a missed run is caught up by the next and a re-run writes the same rows.
  `days` larger back-fills (e.g. after deploying).
- `SloMinute` (`slo_minutes_rollup`, every minute, before the burn-rate evaluation): the last few whole minutes,
  rewritten each time (late timeline events are caught up), kept `KEEP_MINUTES` for the burn-rate windows."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from integrations.models import Connection
from reports.slo.measures import SLOS, daily_counts, minute_counts
from reports.slo.models import SloDay, SloMinute

DEFAULT_DAYS = 2
CATCH_UP_MINUTES = 5  # each minute's run rewrites this many whole minutes
KEEP_MINUTES = dt.timedelta(days=2)  # the longest burn-rate window is 6 h


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def slo_rollup(*, now: dt.datetime | None = None, days: int = DEFAULT_DAYS) -> int:
    """Rewrite the last `days` UTC days (today included, up to the last whole minute); returns the rows written."""
    now = now or timezone.now()
    until = now.replace(second=0, microsecond=0)  # whole minutes: a time slice is judged once it is over
    first = until.astimezone(dt.UTC).date() - dt.timedelta(days=days - 1)
    since = day_start(first)
    ids = list(Connection.objects.order_by("pk").values_list("pk", flat=True))
    rows = []
    for slo in SLOS:
        for (cid, day), counts in daily_counts(slo, ids, since, until).items():
            rows.append(
                SloDay(
                    connection_id=cid, slo=slo.key, day=day, valid=counts.valid, good=counts.good,
                    events=counts.events, missed=counts.missed, computed_at=now,
                )
            )  # fmt: skip
    with transaction.atomic():
        # The span is rewritten whole: a day whose events are gone (a connection deleted) loses its row too.
        SloDay.objects.filter(day__gte=first).delete()
        SloDay.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def slo_minutes_rollup(*, now: dt.datetime | None = None, minutes: int = CATCH_UP_MINUTES) -> int:
    """Rewrite the last `minutes` whole minutes before `now` and drop rows older than KEEP_MINUTES; returns the
    rows written."""
    now = now or timezone.now()
    until = now.replace(second=0, microsecond=0)
    since = until - dt.timedelta(minutes=minutes)
    ids = list(Connection.objects.order_by("pk").values_list("pk", flat=True))
    rows = [
        SloMinute(connection_id=cid, slo=slo.key, minute=minute, valid=c.valid, good=c.good, events=c.events,
                  missed=c.missed)
        for slo in SLOS
        for (cid, minute), c in minute_counts(slo, ids, since, until).items()
    ]  # fmt: skip
    with transaction.atomic():
        SloMinute.objects.filter(minute__gte=since, minute__lt=until).delete()
        SloMinute.objects.filter(minute__lt=until - KEEP_MINUTES).delete()
        SloMinute.objects.bulk_create(rows, batch_size=1000)
    return len(rows)
