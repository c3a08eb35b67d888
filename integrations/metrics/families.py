"""The exported metric families, stated once: the Prometheus name and help, the `series` function that computes it,
the trailing window it is read over at scrape time, its second label, and how its minute rows summarise into hours.

Every family is a gauge read from the database when scraped (or rolled up): a count "in the last hour" goes up and
down, so no family is a `_total` counter. Units are base units (`_seconds`, `_ratio` for 0–1 shares, `_per_second`
for the ingest rate). Labels are bounded: `platform` (a registered code), `connection` (its id; its name and brand
are on `hub_connection_info`), and one of `topic` (the platform's subscribed topics, else "other"), `direction`,
`reason` or `kind` (an exception kind). Never an order id, a SKU or a delivery id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from integrations.metrics import series
from integrations.metrics.series import ConnectionFacts, Point, Span
from warehouse.models import ExceptionKind

PREFIX = "hub_"
MINUTE = dt.timedelta(minutes=1)
FIVE_MINUTES = dt.timedelta(minutes=5)
FIFTEEN_MINUTES = dt.timedelta(minutes=15)
HOUR = dt.timedelta(hours=1)


class Rollup(StrEnum):
    """How a family's minute rows summarise into an hour's row (and a platform's value from its connections')."""

    RATE = "rate"  # Σ count ÷ seconds
    RATIO = "ratio"  # Σ total ÷ Σ count
    SUM = "sum"  # Σ value
    MAX = "max"  # the largest value (a percentile: an upper bound of the hour's percentile; a depth: its peak)
    MIN = "min"  # the smallest value (headroom: its low point)


@dataclass(frozen=True)
class Family:
    key: str  # what the rollup rows call it (stable: the pages read it)
    name: str  # the Prometheus family name
    help: str
    compute: Callable[[Span], list[Point]]  # readings of state ignore the span
    window: dt.timedelta | None  # the trailing window at scrape time; None: a reading of state now
    rollup: Rollup
    label: str = ""  # the second label's name
    zeros: Callable[[ConnectionFacts], Iterable[str]] | None = None  # label values shown as 0 when nothing happened
    per_connection: bool = True  # False: the warehouse's own number (no platform, no connection)
    platform_family: bool = False  # also export `hub_platform_<name>`: a ratio or percentile does not add up
    percentile: float | None = None  # a percentile family: which one (a platform's is taken over pooled samples)

    @property
    def platform_name(self) -> str:
        return PREFIX + "platform_" + self.name.removeprefix(PREFIX)


def _none(facts: ConnectionFacts) -> Iterable[str]:
    return ("",)


def _topics(facts: ConnectionFacts) -> Iterable[str]:
    return facts.topics


def _directions(facts: ConnectionFacts) -> Iterable[str]:
    return series.DIRECTIONS


def _reasons(facts: ConnectionFacts) -> Iterable[str]:
    return series.FAILURE_REASONS


def _window_text(window: dt.timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return "the last hour" if minutes == 60 else f"the last {minutes} minutes"


FAMILIES: tuple[Family, ...] = (
    Family(
        "webhook_ingest_rate", PREFIX + "webhook_ingest_events_per_second",
        "Webhook deliveries stored per second, per topic, over {window} (seed 000 §07: alert on a drop of more than "
        "50% against the trailing hour).",
        series.webhook_deliveries, FIVE_MINUTES, Rollup.RATE, "topic", _topics,
    ),
    Family(
        "webhook_ingest_success", PREFIX + "webhook_ingest_success_ratio",
        "Share of inbound webhook requests answered 2xx over {window} (alert below 0.99 for 5 minutes).",
        series.webhook_ingest_success, FIVE_MINUTES, Rollup.RATIO, platform_family=True,
    ),
    Family(
        "hmac_failure_rate", PREFIX + "webhook_hmac_failure_ratio",
        "Share of signed webhook requests whose signature was refused over {window} (alert above 0.001).",
        series.hmac_failure_rate, HOUR, Rollup.RATIO, platform_family=True,
    ),
    Family(
        "reconciler_delta", PREFIX + "reconciler_delta_records",
        "Records the reconciler found missing from or older in the WMS, in runs started in {window} (investigate "
        "at the first, page above 50 per hour).",
        series.reconciler_delta, HOUR, Rollup.SUM, zeros=_none,
    ),
    Family(
        "outbound_write_latency_p95", PREFIX + "outbound_write_latency_p95_seconds",
        "95th percentile of the time from event to platform-confirmed write, for writes confirmed in {window}.",
        partial(series.outbound_write_latency, fraction=0.95), FIFTEEN_MINUTES, Rollup.MAX,
        platform_family=True, percentile=0.95,
    ),
    Family(
        "outbound_write_latency_p50", PREFIX + "outbound_write_latency_p50_seconds",
        "Median time from event to platform-confirmed write, for writes confirmed in {window} (SLO: under 10 s).",
        partial(series.outbound_write_latency, fraction=0.5), FIFTEEN_MINUTES, Rollup.MAX,
        platform_family=True, percentile=0.5,
    ),
    Family(
        "rate_limit_headroom", PREFIX + "rate_limit_headroom_ratio",
        "Share of the rate-limit budget the platform reported left at our last call (alert below 0.2 for 10 "
        "minutes).",
        series.rate_limit_headroom, None, Rollup.MIN,
    ),
    Family(
        "dead_letter_depth", PREFIX + "dead_letter_depth",
        "Events that exhausted their retries and wait for a person, by direction (non-zero is a story, growing is "
        "an outage).",
        series.dead_letter_depth, None, Rollup.MAX, "direction", _directions,
    ),
    Family(
        "catalog_drift", PREFIX + "catalog_drift_skus",
        "SKUs of the connection's brand missing weight, dimensions or HS code (reviewed daily, never paged).",
        series.catalog_drift_skus, None, Rollup.MAX, zeros=_none,
    ),
    Family(
        "order_lag_p50", PREFIX + "order_lag_p50_seconds",
        "Median time from an order's placement on the channel to its arrival in the WMS, for orders that arrived "
        "in {window} (seed 001).",
        partial(series.order_lag, fraction=0.5), HOUR, Rollup.MAX, platform_family=True, percentile=0.5,
    ),
    Family(
        "order_lag_p95", PREFIX + "order_lag_p95_seconds",
        "95th percentile of the time from an order's placement on the channel to its arrival in the WMS, for "
        "orders that arrived in {window} (seed 001).",
        partial(series.order_lag, fraction=0.95), HOUR, Rollup.MAX, platform_family=True,
        percentile=0.95,
    ),
    Family(
        "inventory_divergence", PREFIX + "inventory_divergence_skus",
        "SKUs whose number on the channel, as last read back, differs from what we last published beyond the "
        "connection's threshold (seed 001: ±5%).",
        series.inventory_divergence, None, Rollup.MAX, zeros=_none,
    ),
    Family(
        "webhook_failures", PREFIX + "webhook_failures",
        "Failed webhooks over {window} by reason: refused (answered other than 2xx), quarantined (unreadable), "
        "dead_letter (processing gave up) (seed 001).",
        series.webhook_failures, HOUR, Rollup.SUM, "reason", _reasons,
    ),
    Family(
        "exception_queue_depth", PREFIX + "exception_queue_depth",
        "Exceptions waiting for a person (open or escalated), by kind (seed 001: a growing queue is a problem).",
        series.exception_queue_depth, None, Rollup.MAX, "kind", per_connection=False,
    ),
)  # fmt: skip

BY_KEY = {family.key: family for family in FAMILIES}
EXCEPTION_KINDS: tuple[str, ...] = tuple(ExceptionKind.values)


def help_text(family: Family) -> str:
    return family.help.format(window=_window_text(family.window)) if family.window else family.help


def platform_value(family: Family, points: list[Point], seconds: float) -> float | None:
    """One platform's value from its connections' points, by the family's rollup (a percentile is taken again over
    the pooled observations)."""
    if not points:
        return None
    if family.percentile is not None:
        return series.percentile([v for p in points for v in p.samples], family.percentile)
    return summarise(family.rollup, points, seconds=seconds)


def summarise(rollup: Rollup, points: list[Point], *, seconds: float) -> float:
    """Many points (minutes of one series, or connections of one platform) as one value."""
    count = sum(p.count for p in points)
    if rollup is Rollup.RATE:
        return count / seconds
    if rollup is Rollup.RATIO:
        return sum(p.total for p in points) / count if count else max(p.value for p in points)
    if rollup is Rollup.SUM:
        return sum(p.value for p in points)
    if rollup is Rollup.MIN:
        return min(p.value for p in points)
    return max(p.value for p in points)
