"""The connector numbers of every connection at once, for a span of time (seed 000 §07, seed 001 "Monitoring
signals"): one query per number, grouped by connection and by at most one more label from a bounded set, so a scrape
or a minute's rollup costs the same whatever the number of orders or deliveries.

Each function returns `Point`s. Windowed numbers count what happened inside `span` ([start, end)); readings of state
(headroom, dead-letter depth, catalog drift, inventory divergence, the exception queue) ignore it and read now.
Queries filter on the connections' ids, so PostgreSQL walks the (connection, ..., time) indexes instead of a table.

A connection's platform, name and brand come from one small query (`connection_facts`), never joined into the
number's own query."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet, Sum

from integrations.models import (
    AuditDirection,
    AuditRecord,
    Connection,
    DeliverySource,
    DeliveryState,
    InboundDelivery,
    ReconcileRun,
)
from integrations.outbox.models import ConnectionCircuit, MessageState, OutboundMessage
from integrations.platforms.registry import connector_for, is_registered
from integrations.publishing.models import PublishedLevel, PublishSettings
from integrations.publishing.services import _beyond as diverges  # the one rule of "diverges beyond ±pct"
from inventory.selectors import catalog_drift
from orders.models import Order
from warehouse.memo import memoized
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

OTHER_TOPIC = "other"  # a topic the platform's connector does not subscribe to: one label for all of them
PERCENTILE_SAMPLES = 20_000  # the most recent observations a percentile is taken over, per number
DEFAULT_DIVERGENCE_PCT = 5.0  # a connection without publish settings (PublishSettings' default)

# The bounded values of the second labels.
DIRECTIONS = ("inbound", "outbound")
FAILURE_REASONS = ("refused", "quarantined", "dead_letter")
QUEUE_STATES = (ExceptionState.OPEN, ExceptionState.ESCALATED)
PARKED = (DeliveryState.DEAD_LETTER, DeliveryState.FAILED)  # inbound deliveries waiting for a re-run


@dataclass(frozen=True)
class Span:
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def ending(cls, end: dt.datetime, window: dt.timedelta) -> Span:
        return cls(end - window, end)

    @property
    def seconds(self) -> float:
        return max((self.end - self.start).total_seconds(), 1e-9)


@dataclass(frozen=True)
class Point:
    connection_id: int  # 0: not one connection's number (the exception queue)
    value: float
    label: str = ""  # the second label's value: a topic, a direction, a reason, an exception kind
    count: int = 0  # the observations the value stands on (requests, writes, orders)
    total: float = 0.0  # their sum (failed requests of a ratio, seconds of a latency)
    samples: tuple[float, ...] = ()  # a percentile's observations, for a platform's own percentile; never stored


@dataclass(frozen=True)
class ConnectionFacts:
    id: int
    platform: str
    name: str
    brand_id: int
    brand: str
    status: str

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics this connection's platform subscribes to: the bounded set of its `topic` label."""
        return tuple(connector_for(self.platform).webhook_topics) if is_registered(self.platform) else ()


@memoized
def connection_facts(*, connection_id: int | None = None) -> dict[int, ConnectionFacts]:
    """Every connection's labels, in one query (once per scrape or rollup: `memo_scope`)."""
    connections = Connection.objects.select_related("channel__brand").order_by("pk")
    if connection_id is not None:
        connections = connections.filter(pk=connection_id)
    return {c.pk: ConnectionFacts(c.pk, c.platform, c.name, c.brand.pk, c.brand.name, c.status) for c in connections}


def _ids(*, connection_id: int | None) -> list[int]:
    return [connection_id] if connection_id is not None else list(connection_facts())


def percentile(values: Iterable[float], fraction: float) -> float | None:
    """Nearest rank: the value below which `fraction` of the observations lie."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# --- windowed numbers -------------------------------------------------------------------------------------------


def webhook_deliveries(span: Span, connection_id: int | None = None) -> list[Point]:
    """Webhook ingest rate: deliveries stored per second, per topic (topics outside the platform's subscriptions
    count under "other"). `count` is the number of deliveries."""
    facts = connection_facts(connection_id=connection_id)
    rows = (
        InboundDelivery.objects.filter(
            connection_id__in=list(facts),
            source=DeliverySource.WEBHOOK,
            received_at__gte=span.start,
            received_at__lt=span.end,
        )
        .values_list("connection_id", "topic")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for cid, topic, n in rows:
        counts[(cid, topic if topic in facts[cid].topics else OTHER_TOPIC)] += n
    return [Point(cid, n / span.seconds, topic, count=n) for (cid, topic), n in sorted(counts.items())]


@dataclass(frozen=True)
class _Requests:
    answered: int  # every inbound request the receiver answered for this connection
    ok: int  # answered 2xx
    signed: int  # every request but the platform's pings: the HMAC check's population
    hmac_failed: int
    refused: int  # answered other than 2xx


def _inbound_audit(span: Span, connection_id: int | None) -> QuerySet[AuditRecord]:
    ids = _ids(connection_id=connection_id)
    return AuditRecord.objects.filter(
        connection_id__in=ids, direction=AuditDirection.INBOUND, at__gte=span.start, at__lt=span.end
    )


@memoized
def _webhook_requests(*, span: Span, connection_id: int | None) -> dict[int, _Requests]:
    ok = Q(status_code__gte=200, status_code__lt=300)
    rows = (
        _inbound_audit(span, connection_id)
        .values_list("connection_id")
        .annotate(
            answered=Count("id"),
            ok=Count("id", filter=ok),
            signed=Count("id", filter=~Q(outcome="ping")),
            hmac_failed=Count("id", filter=Q(outcome="hmac_failed")),
            refused=Count("id", filter=~ok),
        )
        .order_by()
    )
    return {cid: _Requests(*numbers) for cid, *numbers in rows}


def webhook_ingest_success(span: Span, connection_id: int | None = None) -> list[Point]:
    """Share of inbound webhook requests our receiver answered 2xx (`count` requests, `total` answered 2xx).
    No point for a connection that received none."""
    return [
        Point(cid, r.ok / r.answered, count=r.answered, total=r.ok)
        for cid, r in sorted(_webhook_requests(span=span, connection_id=connection_id).items())
        if r.answered
    ]


def hmac_failure_rate(span: Span, connection_id: int | None = None) -> list[Point]:
    """Share of signed requests (pings aside) whose signature was refused (`count` requests, `total` refused)."""
    return [
        Point(cid, r.hmac_failed / r.signed, count=r.signed, total=r.hmac_failed)
        for cid, r in sorted(_webhook_requests(span=span, connection_id=connection_id).items())
        if r.signed
    ]


def webhook_failures(span: Span, connection_id: int | None = None) -> list[Point]:
    """Failed webhooks (seed 001), by reason: `refused` (answered other than 2xx: a bad signature, a body too large,
    a database error), `quarantined` (signed but unreadable, received in the span), `dead_letter` (processing gave up
    in the span)."""
    counts: dict[tuple[int, str], int] = {}
    for cid, r in _webhook_requests(span=span, connection_id=connection_id).items():
        if r.refused:
            counts[(cid, "refused")] = r.refused
    in_span = Q(received_at__gte=span.start, received_at__lt=span.end)
    processed_in_span = Q(processed_at__gte=span.start, processed_at__lt=span.end)
    rows = (
        InboundDelivery.objects.filter(connection_id__in=_ids(connection_id=connection_id))
        .filter((Q(state=DeliveryState.QUARANTINED) & in_span) | (Q(state__in=PARKED) & processed_in_span))
        .values_list("connection_id", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for cid, state, n in rows:
        reason = "quarantined" if state == DeliveryState.QUARANTINED else "dead_letter"
        counts[(cid, reason)] = counts.get((cid, reason), 0) + n
    return [Point(cid, float(n), reason, count=n) for (cid, reason), n in sorted(counts.items())]


def reconciler_delta(span: Span, connection_id: int | None = None) -> list[Point]:
    """Records the reconciler found missing from (or older in) the WMS in runs started in the span: each one is a
    missed webhook (`count` runs)."""
    rows = (
        ReconcileRun.objects.filter(
            connection_id__in=_ids(connection_id=connection_id), started_at__gte=span.start, started_at__lt=span.end
        )
        .values_list("connection_id")
        .annotate(runs=Count("id"), missing=Sum("missing"), stale=Sum("stale"))
        .order_by()
    )
    return [
        Point(cid, float((missing or 0) + (stale or 0)), count=runs)
        for cid, runs, missing, stale in sorted(rows)
        if (missing or 0) + (stale or 0)
    ]


def _percentiles(observations: dict[int, list[float]], fraction: float) -> list[Point]:
    points = []
    for cid, values in sorted(observations.items()):
        found = percentile(values, fraction)
        if found is not None:
            points.append(Point(cid, found, count=len(values), total=sum(values), samples=tuple(values)))
    return points


def outbound_write_seconds(
    span: Span, connection_id: int | None = None, *, kinds: Iterable[str] | None = None
) -> dict[int, list[float]]:
    """Time from event to platform-confirmed write (seed 000 §07): an outbound message's `sent_at − created_at`,
    for the writes confirmed in the span (a retried or replayed write counts from its first queueing); of the
    given message `kinds` only, when given (the alert judges live writes: a throttled backfill is slow on purpose)."""
    confirmed = OutboundMessage.objects.filter(
        connection_id__in=_ids(connection_id=connection_id),
        state=MessageState.SENT,
        sent_at__gte=span.start,
        sent_at__lt=span.end,
    )
    if kinds is not None:
        confirmed = confirmed.filter(kind__in=list(kinds))
    rows = confirmed.order_by("-sent_at").values_list("connection_id", "created_at", "sent_at")[:PERCENTILE_SAMPLES]
    found: dict[int, list[float]] = defaultdict(list)
    for cid, created, sent in rows:
        if sent is not None:
            found[cid].append(max((sent - created).total_seconds(), 0.0))
    return found


def outbound_write_latency(
    span: Span, connection_id: int | None = None, *, fraction: float = 0.95, kinds: Iterable[str] | None = None
) -> list[Point]:
    return _percentiles(outbound_write_seconds(span, connection_id, kinds=kinds), fraction)


def order_lag_seconds(span: Span, connection_id: int | None = None) -> dict[int, list[float]]:
    """Order lag (seed 001): how long between the order's placement on the channel and its arrival in the WMS, for
    the orders that arrived in the span. Orders know their channel; each connection is its channel's."""
    by_channel = dict(
        Connection.objects.filter(pk__in=_ids(connection_id=connection_id)).values_list("channel_id", "pk")
    )
    rows = (
        Order.objects.filter(
            channel_id__in=list(by_channel),
            created_at__gte=span.start,
            created_at__lt=span.end,
            placed_at__isnull=False,
        )
        .order_by("-created_at")
        .values_list("channel_id", "placed_at", "created_at")[:PERCENTILE_SAMPLES]
    )
    found: dict[int, list[float]] = defaultdict(list)
    for channel_id, placed, created in rows:
        if placed is not None:
            found[by_channel[channel_id]].append(max((created - placed).total_seconds(), 0.0))
    return found


def order_lag(span: Span, connection_id: int | None = None, *, fraction: float = 0.5) -> list[Point]:
    return _percentiles(order_lag_seconds(span, connection_id), fraction)


# --- readings of state now --------------------------------------------------------------------------------------


def rate_limit_headroom(span: Span | None = None, connection_id: int | None = None) -> list[Point]:
    """The share of the rate-limit budget the platform reported left at our last call (no point before a call
    reported one)."""
    ids = _ids(connection_id=connection_id)
    circuits = ConnectionCircuit.objects.filter(connection_id__in=ids, headroom_at__isnull=False)
    return [
        Point(c.connection_id, fraction)
        for c in circuits.order_by("connection_id")
        if (fraction := c.headroom_fraction) is not None
    ]


def dead_letter_depth(span: Span | None = None, connection_id: int | None = None) -> list[Point]:
    """Events that exhausted their retries and wait for a person: outbound writes (dead, not archived out of the
    bounded queue) and inbound deliveries (dead-lettered or failed)."""
    ids = _ids(connection_id=connection_id)
    outbound = (
        OutboundMessage.objects.filter(connection_id__in=ids, state=MessageState.DEAD, archived_at__isnull=True)
        .values_list("connection_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    inbound = (
        InboundDelivery.objects.filter(connection_id__in=ids, state__in=PARKED)
        .values_list("connection_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    points = [Point(cid, float(n), "outbound", count=n) for cid, n in outbound]
    points += [Point(cid, float(n), "inbound", count=n) for cid, n in inbound]
    return sorted(points, key=lambda p: (p.connection_id, p.label))


def catalog_drift_skus(span: Span | None = None, connection_id: int | None = None) -> list[Point]:
    """SKUs of the connection's brand missing weight, dimensions or HS code (the brand's catalog drift)."""
    facts = connection_facts(connection_id=connection_id)
    brands = {f.brand_id for f in facts.values()}
    rows = catalog_drift().filter(brand_id__in=brands).order_by().values_list("brand_id").annotate(n=Count("id"))
    per_brand = dict(rows)
    return [
        Point(cid, float(per_brand[f.brand_id]), count=per_brand[f.brand_id])
        for cid, f in facts.items()
        if per_brand.get(f.brand_id)
    ]


def inventory_divergence(span: Span | None = None, connection_id: int | None = None) -> list[Point]:
    """SKUs whose number on the channel, as last read back, differs from what we last published beyond the
    connection's threshold (±5 % unless its publish settings say otherwise)."""
    ids = _ids(connection_id=connection_id)
    thresholds = dict(
        PublishSettings.objects.filter(connection_id__in=ids).values_list("connection_id", "divergence_threshold_pct")
    )
    rows = (
        PublishedLevel.objects.filter(connection_id__in=ids, channel_quantity__isnull=False)
        .exclude(channel_quantity=F("quantity"))
        .values_list("connection_id", "quantity", "channel_quantity")
    )
    counts: dict[int, int] = defaultdict(int)
    for cid, published, shown in rows:
        pct = float(thresholds.get(cid, DEFAULT_DIVERGENCE_PCT))
        if shown is not None and diverges(shown=shown, truth=published, pct=pct):
            counts[cid] += 1
    return [Point(cid, float(n), count=n) for cid, n in sorted(counts.items())]


def exception_queue_depth(span: Span | None = None, connection_id: int | None = None) -> list[Point]:
    """Exceptions waiting for a person (open or escalated), by kind. Not one connection's number: the queue is the
    warehouse's."""
    rows = ExceptionItem.objects.filter(state__in=QUEUE_STATES).values_list("kind").annotate(n=Count("id")).order_by()
    kinds = set(ExceptionKind.values)
    counts: dict[str, int] = defaultdict(int)
    for kind, n in rows:
        counts[kind if kind in kinds else ExceptionKind.OTHER] += n
    return [Point(0, float(n), kind, count=n) for kind, n in sorted(counts.items())]
