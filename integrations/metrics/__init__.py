"""Connector metrics (seed 000 §07, seed 001 "Monitoring signals") as numbers read from what we already store:
deliveries, audit rows, reconcile runs, outbound messages, orders, published levels, the exception queue.

- `series`: every connection's numbers at once for a span of time (one grouped query each): what `/metrics` exports
  and what the one-minute rollups keep;
- `families`: the exported families (names, help, windows, how minutes summarise into hours);
- `exporter`: the Prometheus collector and the protected `/metrics` view; `rollups`: the minute and hour rows.

The functions below answer for one connection (or None: all of them) over a trailing window, for a page, an API
response or the reconciler; each reads through `series`, so a number has one definition:
- webhook ingest rate: deliveries per minute per topic;
- webhook ingest success: share of inbound webhook requests answered 2xx;
- HMAC verification failure rate: refused signatures / all signed requests;
- webhook receipt lag: received_at − the platform's trigger time, where its headers carry one (p50/p95, ms);
- reconciler delta: records the reconciler found missing or stale in the WMS;
- outbound write latency: event to platform-confirmed write (`series`); the HTTP round trip from the audit rows;
- rate-limit headroom and dead-letter depth: the outbox's numbers, per connection in `series`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from integrations.metrics import series
from integrations.metrics.series import Point, Span
from integrations.models import AuditDirection, AuditRecord, Connection, DeliverySource, InboundDelivery

DEFAULT_WINDOW = dt.timedelta(hours=1)


def _since(window: dt.timedelta) -> dt.datetime:
    return timezone.now() - window


def _span(window: dt.timedelta) -> Span:
    return Span.ending(timezone.now(), window)


def _cid(connection: Connection | None) -> int | None:
    return connection.pk if connection is not None else None


def _scoped(qs: QuerySet[Any], connection: Connection | None) -> QuerySet[Any]:
    return qs.filter(connection=connection) if connection is not None else qs


def _ratio(points: list[Point], *, empty: float) -> float:
    count = sum(p.count for p in points)
    return sum(p.total for p in points) / count if count else empty


def webhook_ingest_rate(
    connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW
) -> dict[str, float]:
    """Webhook deliveries stored per minute, per topic (topics the platform does not subscribe to: "other")."""
    minutes = max(window.total_seconds() / 60, 1e-9)
    per_topic: dict[str, int] = {}
    for point in series.webhook_deliveries(_span(window), _cid(connection)):
        per_topic[point.label] = per_topic.get(point.label, 0) + point.count
    return {topic: n / minutes for topic, n in per_topic.items()}


def hmac_failures(connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW) -> int:
    return int(sum(p.total for p in series.hmac_failure_rate(_span(window), _cid(connection))))


def hmac_failure_rate(connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW) -> float:
    return _ratio(series.hmac_failure_rate(_span(window), _cid(connection)), empty=0.0)


def webhook_ingest_success(connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW) -> float:
    return _ratio(series.webhook_ingest_success(_span(window), _cid(connection)), empty=1.0)


def unknown_topic_count(connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW) -> int:
    return _scoped(InboundDelivery.objects.filter(state="ignored", received_at__gte=_since(window)), connection).count()


def quarantined_count(connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW) -> int:
    return _scoped(
        InboundDelivery.objects.filter(state="quarantined", received_at__gte=_since(window)), connection
    ).count()


def webhook_receipt_lag_ms(
    connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW, limit: int = 10_000
) -> dict[str, float | None]:
    """received_at − triggered_at of recent webhooks (for platforms whose delivery meta dates the event), p50 and
    p95 in ms."""
    rows = _scoped(
        InboundDelivery.objects.filter(
            source=DeliverySource.WEBHOOK, received_at__gte=_since(window), triggered_at__isnull=False
        ),
        connection,
    ).values_list("received_at", "triggered_at")[:limit]
    lags = [(received - triggered).total_seconds() * 1000 for received, triggered in rows]
    return {"p50": series.percentile(lags, 0.5), "p95": series.percentile(lags, 0.95), "count": float(len(lags))}


def reconciler_delta(connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW) -> int:
    """Records the reconciler found missing from (or older in) the WMS: each one is a missed webhook."""
    return int(sum(p.value for p in series.reconciler_delta(_span(window), _cid(connection))))


def outbound_latency_p95_ms(
    connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW
) -> float | None:
    """The HTTP round trip of our calls to the platform (audit rows), p95 in ms."""
    values = list(
        _scoped(
            AuditRecord.objects.filter(
                direction=AuditDirection.OUTBOUND, at__gte=_since(window), latency_ms__isnull=False
            ),
            connection,
        ).values_list("latency_ms", flat=True)[:10_000]
    )
    return series.percentile([float(v) for v in values], 0.95)


def outbound_write_latency_ms(
    connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW, fraction: float = 0.95
) -> float | None:
    """Event to platform-confirmed write (seed 000 §07), the `fraction` percentile in ms."""
    observed = series.outbound_write_seconds(_span(window), _cid(connection))
    found = series.percentile([v for values in observed.values() for v in values], fraction)
    return found * 1000 if found is not None else None


def last_webhook_at(connection: Connection) -> dt.datetime | None:
    found = (
        InboundDelivery.objects.filter(connection=connection, source=DeliverySource.WEBHOOK)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
        .first()
    )
    return found


def connection_metrics(connection: Connection, window: dt.timedelta = DEFAULT_WINDOW) -> dict[str, Any]:
    """Every number above for one connection, for a page or an API response."""
    cid = connection.pk
    return {
        "webhook_ingest_rate": webhook_ingest_rate(connection, window),
        "webhook_ingest_success": webhook_ingest_success(connection, window),
        "hmac_failures": hmac_failures(connection, window),
        "hmac_failure_rate": hmac_failure_rate(connection, window),
        "webhook_receipt_lag_ms": webhook_receipt_lag_ms(connection, window),
        "unknown_topics": unknown_topic_count(connection, window),
        "quarantined": quarantined_count(connection, window),
        "reconciler_delta": reconciler_delta(connection, window),
        "outbound_latency_p95_ms": outbound_latency_p95_ms(connection, window),
        "outbound_write_latency_p95_ms": outbound_write_latency_ms(connection, window),
        "rate_limit_headroom": next((p.value for p in series.rate_limit_headroom(None, cid)), None),
        "dead_letters": {p.label: p.count for p in series.dead_letter_depth(None, cid)},
        "catalog_drift": sum(p.count for p in series.catalog_drift_skus(None, cid)),
        "inventory_divergence": sum(p.count for p in series.inventory_divergence(None, cid)),
        "last_webhook_at": last_webhook_at(connection),
        "status": connection.status,
    }
