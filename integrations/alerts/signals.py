"""Each alert signal's value per connection at `now`, read through `integrations.metrics.series` (one grouped query
per signal, whatever the number of connections), so an alert and `/metrics` agree on what a number is.

A connection with nothing to judge (no requests, no writes) has no reading, so a rate cannot alert on silence it
cannot compare; `observations` is what the value stands on (a rule's `min_observations`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Max, Q

from integrations.alerts.models import Signal
from integrations.metrics import series
from integrations.metrics.series import Span
from integrations.models import Connection, ConnectionStatus, ReconcileRun
from integrations.outbox.models import MessageState, OutboundMessage
from integrations.outbox.services import LIVE_KINDS
from integrations.platforms.registry import write_latency_budget_seconds

BASELINE = dt.timedelta(hours=1)  # the ingest rate's trailing-hour baseline


@dataclass(frozen=True)
class Reading:
    value: float
    observations: int


Readings = dict[int, Reading]


def _ingest_rate_drop(now: dt.datetime, window: dt.timedelta, ids: list[int]) -> Readings:
    """1 − (rate over the window ÷ rate over the hour before it): 0.6 is a 60 % drop. Observations are the
    baseline's deliveries."""
    current = Span.ending(now, window)
    baseline = Span(current.start - BASELINE, current.start)
    now_counts = _deliveries(current)
    found: Readings = {}
    for cid, base in _deliveries(baseline).items():
        if cid not in ids or not base:
            continue
        rate_now = now_counts.get(cid, 0) / current.seconds
        rate_base = base / baseline.seconds
        found[cid] = Reading(max(0.0, 1 - rate_now / rate_base), base)
    return found


def _deliveries(span: Span) -> dict[int, int]:
    counts: dict[int, int] = {}
    for point in series.webhook_deliveries(span):
        counts[point.connection_id] = counts.get(point.connection_id, 0) + point.count
    return counts


def _ratio_signal(compute: Callable[[Span], list[series.Point]]) -> Callable[..., Readings]:
    def read(now: dt.datetime, window: dt.timedelta, ids: list[int]) -> Readings:
        return {p.connection_id: Reading(p.value, p.count) for p in compute(Span.ending(now, window))}

    return read


def _reconciler_delta(now: dt.datetime, window: dt.timedelta, ids: list[int]) -> Readings:
    points = {p.connection_id: p for p in series.reconciler_delta(Span.ending(now, window))}
    return {cid: Reading(points[cid].value if cid in points else 0.0, 1) for cid in ids}


def _write_latency_over_budget(now: dt.datetime, window: dt.timedelta, ids: list[int]) -> Readings:
    """P95 of the live writes (fulfilments, tracking) ÷ the platform's budget: stock levels are a backfill the
    runbooks throttle on purpose."""
    facts = series.connection_facts()
    found: Readings = {}
    for point in series.outbound_write_latency(Span.ending(now, window), fraction=0.95, kinds=LIVE_KINDS):
        budget = write_latency_budget_seconds(facts[point.connection_id].platform)
        found[point.connection_id] = Reading(point.value / budget, point.count)
    return found


def _headroom(now: dt.datetime, window: dt.timedelta, ids: list[int]) -> Readings:
    return {p.connection_id: Reading(p.value, 1) for p in series.rate_limit_headroom(None)}


def _dead_letters(now: dt.datetime, window: dt.timedelta, ids: list[int]) -> Readings:
    depth: dict[int, float] = dict.fromkeys(ids, 0.0)
    for point in series.dead_letter_depth(None):
        depth[point.connection_id] = depth.get(point.connection_id, 0.0) + point.value
    return {cid: Reading(value, 1) for cid, value in depth.items()}


def _dead_letters_added(now: dt.datetime, window: dt.timedelta, ids: list[int]) -> Readings:
    """Outbound writes that died in the window plus inbound deliveries parked in it: a growing queue."""
    span = Span.ending(now, window)
    added: dict[int, float] = dict.fromkeys(ids, 0.0)
    for point in series.webhook_failures(span):
        if point.label == "dead_letter":
            added[point.connection_id] = added.get(point.connection_id, 0.0) + point.value
    rows = (
        OutboundMessage.objects.filter(
            connection_id__in=ids, state=MessageState.DEAD, dead_at__gte=span.start, dead_at__lt=span.end
        )
        .values_list("connection_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for cid, n in rows:
        added[cid] = added.get(cid, 0.0) + n
    return {cid: Reading(value, 1) for cid, value in added.items()}


def _catalog_drift(now: dt.datetime, window: dt.timedelta, ids: list[int]) -> Readings:
    points = {p.connection_id: p.value for p in series.catalog_drift_skus(None)}
    return {cid: Reading(points.get(cid, 0.0), 1) for cid in ids}


def _reconciler_failures(now: dt.datetime, window: dt.timedelta, ids: list[int]) -> Readings:
    """Failed runs since the connection's last successful one (runs still running aside)."""
    last_ok = dict(
        ReconcileRun.objects.filter(connection_id__in=ids, outcome__in=["ok", "partial"])
        .values_list("connection_id")
        .annotate(at=Max("started_at"))
        .order_by()
    )
    failed = (
        ReconcileRun.objects.filter(connection_id__in=ids, outcome="failed", started_at__lte=now)
        .values_list("connection_id", "started_at")
        .order_by()
    )
    counts: dict[int, float] = dict.fromkeys(ids, 0.0)
    for cid, started in failed:
        if cid not in last_ok or started > last_ok[cid]:
            counts[cid] += 1
    return {cid: Reading(n, 1) for cid, n in counts.items()}


def _reconciler_silence(now: dt.datetime, window: dt.timedelta, ids: list[int]) -> Readings:
    """Minutes since the last successful pull (or since the connection was made, before its first). Connections
    not pulled by the reconciler (disabled, paused for credentials) have no reading."""
    pulled = Connection.objects.filter(
        pk__in=ids, status__in=[ConnectionStatus.ACTIVE, ConnectionStatus.POLLING_FALLBACK]
    )
    rows = pulled.values_list("pk", "created_at").annotate(
        last_ok=Max("reconcile_runs__finished_at", filter=Q(reconcile_runs__outcome__in=["ok", "partial"]))
    )
    return {
        cid: Reading(max(0.0, (now - (last_ok or created)).total_seconds() / 60), 1) for cid, created, last_ok in rows
    }


def _credentials_refused(now: dt.datetime, window: dt.timedelta, ids: list[int]) -> Readings:
    paused = set(
        Connection.objects.filter(pk__in=ids, status=ConnectionStatus.PAUSED_CREDENTIALS).values_list("pk", flat=True)
    )
    return {cid: Reading(1.0 if cid in paused else 0.0, 1) for cid in ids}


def _outbound_backlog(now: dt.datetime, window: dt.timedelta, ids: list[int]) -> Readings:
    rows = (
        OutboundMessage.objects.filter(connection_id__in=ids, state__in=[MessageState.PENDING, MessageState.IN_FLIGHT])
        .values_list("connection_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    waiting = dict(rows)
    return {cid: Reading(float(waiting.get(cid, 0)), 1) for cid in ids}


READERS: dict[str, Callable[[dt.datetime, dt.timedelta, list[int]], Readings]] = {
    Signal.INGEST_RATE_DROP: _ingest_rate_drop,
    Signal.INGEST_SUCCESS: _ratio_signal(series.webhook_ingest_success),
    Signal.HMAC_FAILURE_RATE: _ratio_signal(series.hmac_failure_rate),
    Signal.RECONCILER_DELTA: _reconciler_delta,
    Signal.WRITE_LATENCY_OVER_BUDGET: _write_latency_over_budget,
    Signal.HEADROOM: _headroom,
    Signal.DEAD_LETTERS: _dead_letters,
    Signal.DEAD_LETTERS_ADDED: _dead_letters_added,
    Signal.CATALOG_DRIFT: _catalog_drift,
    Signal.RECONCILER_FAILURES: _reconciler_failures,
    Signal.RECONCILER_SILENCE: _reconciler_silence,
    Signal.CREDENTIALS_REFUSED: _credentials_refused,
    Signal.OUTBOUND_BACKLOG: _outbound_backlog,
}


def read(signal: str, *, now: dt.datetime, window: dt.timedelta, connection_ids: list[int]) -> Readings:
    found = READERS[signal](now, window, connection_ids)
    return {cid: reading for cid, reading in found.items() if cid in connection_ids}
