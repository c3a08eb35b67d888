"""Connector metrics (seed 000 §07) as numbers read from what we already store: deliveries, audit rows, reconcile
runs. Each function takes a connection (or None for all) and a window, and returns a plain number or dict.

- webhook ingest rate: deliveries per minute per topic;
- webhook ingest success: share of inbound webhook requests answered 2xx;
- HMAC verification failure rate: refused signatures / all signed requests;
- webhook receipt lag: received_at − the platform's trigger time, where its headers carry one (p50/p95, ms);
- reconciler delta: records the reconciler found missing or stale in the WMS;
- outbound write latency p95 and rate-limit headroom come from the outbound audit rows (written by the HTTP client);
- dead-letter depth is the outbox app's number."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from integrations.models import AuditDirection, AuditRecord, Connection, DeliverySource, InboundDelivery, ReconcileRun

DEFAULT_WINDOW = dt.timedelta(hours=1)


def _since(window: dt.timedelta) -> dt.datetime:
    return timezone.now() - window


def _scoped(qs: QuerySet[Any], connection: Connection | None) -> QuerySet[Any]:
    return qs.filter(connection=connection) if connection is not None else qs


def _inbound_audit(connection: Connection | None, window: dt.timedelta) -> QuerySet[AuditRecord]:
    return _scoped(AuditRecord.objects.filter(direction=AuditDirection.INBOUND, at__gte=_since(window)), connection)


def webhook_ingest_rate(
    connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW
) -> dict[str, float]:
    """Webhook deliveries stored per minute, per topic."""
    minutes = max(window.total_seconds() / 60, 1e-9)
    rows = (
        _scoped(
            InboundDelivery.objects.filter(source=DeliverySource.WEBHOOK, received_at__gte=_since(window)), connection
        )
        .values("topic")
        .annotate(n=Count("id"))
    )
    return {row["topic"]: row["n"] / minutes for row in rows}


def hmac_failures(connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW) -> int:
    return _inbound_audit(connection, window).filter(outcome="hmac_failed").count()


def hmac_failure_rate(connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW) -> float:
    counts = (
        _inbound_audit(connection, window)
        .exclude(outcome="ping")
        .aggregate(total=Count("id"), failed=Count("id", filter=Q(outcome="hmac_failed")))
    )
    return counts["failed"] / counts["total"] if counts["total"] else 0.0


def webhook_ingest_success(connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW) -> float:
    counts = _inbound_audit(connection, window).aggregate(
        total=Count("id"), ok=Count("id", filter=Q(status_code__gte=200, status_code__lt=300))
    )
    return counts["ok"] / counts["total"] if counts["total"] else 1.0


def unknown_topic_count(connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW) -> int:
    return _scoped(InboundDelivery.objects.filter(state="ignored", received_at__gte=_since(window)), connection).count()


def quarantined_count(connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW) -> int:
    return _scoped(
        InboundDelivery.objects.filter(state="quarantined", received_at__gte=_since(window)), connection
    ).count()


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


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
    return {"p50": _percentile(lags, 0.5), "p95": _percentile(lags, 0.95), "count": float(len(lags))}


def reconciler_delta(connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW) -> int:
    """Records the reconciler found missing from (or older in) the WMS: each one is a missed webhook."""
    totals = _scoped(ReconcileRun.objects.filter(started_at__gte=_since(window)), connection).aggregate(
        missing=Sum("missing"), stale=Sum("stale")
    )
    return int(totals["missing"] or 0) + int(totals["stale"] or 0)


def outbound_latency_p95_ms(
    connection: Connection | None = None, window: dt.timedelta = DEFAULT_WINDOW
) -> float | None:
    values = list(
        _scoped(
            AuditRecord.objects.filter(
                direction=AuditDirection.OUTBOUND, at__gte=_since(window), latency_ms__isnull=False
            ),
            connection,
        ).values_list("latency_ms", flat=True)[:10_000]
    )
    return _percentile([float(v) for v in values], 0.95)


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
        "last_webhook_at": last_webhook_at(connection),
        "status": connection.status,
    }
