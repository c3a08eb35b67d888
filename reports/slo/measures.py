"""The three brand-facing SLIs of every connection (seed 000 §07), each stated once, and the SQL that counts them.

An *event* has a start, an end (none yet if it has not happened) and the moment we learned of it:

- **ingest**: an order of the connection's channel. Start: the platform's event time (the earliest `triggered_at`
  of the order's webhooks; else the order's placement time on the platform; else its arrival). End: the order's
  first "accepted" or "held" timeline event. Learned of: its arrival in the WMS.
- **fulfilment write**: a fulfilment write in the outbox. Start: the shipment's hand-off to the carrier (the time on
  the carrier's receipt). End: the platform confirmed the write (`sent_at`). Learned of: the hand-off.
- **reconciler delta**: a record the reconciler found missing from (or older in) the WMS, i.e. one reconciler
  delivery. Start and learned of: when the reconciler stored it. End: when it was applied (processed, or found to
  be already there).

An event is *good* when it ended within the threshold. It is *decided* once it is good, or once its threshold has
run out; it then counts at the moment its outcome became known:
`counted_at = max(learned_of, min(end, start + threshold))`. A decided event never moves to another minute, day or
window, so a rollup of a past day never changes. Undecided events (still inside their threshold) count nowhere.

Two of the SLOs promise a median (P50). A median is not a property of one order, so they are measured in *time
slices*: a minute of a connection with at least one decided event is **good** when the median latency of its events
is within the threshold (an event decided without an end counts as infinitely slow; the median is the lower one,
`percentile_disc(0.5)`: at least half of the minute's events are within the threshold). The SLI is good minutes ÷
minutes with events, with a target of 99 %. (Counting orders instead, "P50 < 5 s" would be "at least 50 % of orders
within 5 s": a 50 % target, an error budget of half of all orders and a burn rate that cannot exceed 2, so no
burn-rate warning could ever fire.) The reconciler's SLO is a promise about each record, so it counts records:
records resolved within 24 h ÷ records decided, target 99 %."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import connection as db

MINUTE = dt.timedelta(minutes=1)


class Unit(StrEnum):
    MINUTES = "minutes"  # time slices: minutes with events, good when their median is within the threshold
    EVENTS = "events"  # each event is good or bad


@dataclass(frozen=True)
class Slo:
    key: str
    name: str  # what the page calls it
    promise: str  # the published objective, as seed 000 §07 words it
    threshold: dt.timedelta
    target: float  # the share of valid units that must be good
    unit: Unit
    events_word: str  # what one event is, in the plural
    measured: str  # from … to …, in plain words
    slack: dt.timedelta  # how far before a window's start an event may have been learned of (the index filter)


SLOS: tuple[Slo, ...] = (
    Slo(
        "ingest", "Order ingest", "Order ingest P50 under 5 seconds", dt.timedelta(seconds=5), 0.99, Unit.MINUTES,
        "orders", "from the platform's event time to the order being accepted or held",
        dt.timedelta(seconds=5) + MINUTE,
    ),
    Slo(
        "fulfilment", "Fulfilment write", "Fulfilment write P50 under 10 seconds", dt.timedelta(seconds=10), 0.99,
        Unit.MINUTES, "fulfilment writes",
        "from the hand-off to the carrier (its receipt) to the platform confirming the write",
        dt.timedelta(seconds=10) + MINUTE,
    ),
    Slo(
        "reconciler", "Reconciler delta", "Reconciler delta resolved within 24 hours", dt.timedelta(hours=24), 0.99,
        Unit.EVENTS, "records found by the reconciler",
        "from the reconciler finding a missing record to the record being applied in the WMS",
        dt.timedelta(hours=24) + MINUTE,
    ),
)  # fmt: skip
BY_KEY = {slo.key: slo for slo in SLOS}


# --- the events of each SLI -------------------------------------------------------------------------------------
# Each selects: connection_id, order_id (may be NULL), ref (the platform's order id), start_at, end_at, known_at,
# for the connections %(ids)s learned of in [%(lo)s, %(hi)s) (an indexed column: a superset of what is counted).

_EVENTS_SQL = {
    "ingest": """
        SELECT c.id AS connection_id, o.id AS order_id, o.platform_order_id AS ref,
               COALESCE(d.triggered_at, o.placed_at, o.created_at) AS start_at, e.at AS end_at,
               o.created_at AS known_at
        FROM integrations_connection c
        JOIN orders_order o ON o.channel_id = c.channel_id
        LEFT JOIN LATERAL (
            SELECT min(d.triggered_at) AS triggered_at FROM integrations_inbounddelivery d
            WHERE d.connection_id = c.id AND d.platform_order_id = o.platform_order_id AND d.triggered_at IS NOT NULL
        ) d ON true
        LEFT JOIN LATERAL (
            SELECT min(ev.at) AS at FROM orders_orderevent ev
            WHERE ev.order_id = o.id AND ev.kind IN ('accepted', 'held')
        ) e ON true
        WHERE c.id = ANY(%(ids)s) AND o.created_at >= %(lo)s AND o.created_at < %(hi)s
    """,
    "fulfilment": """
        SELECT m.connection_id, s.order_id, m.payload->>'order_id' AS ref,
               COALESCE(s.handed_at, m.created_at) AS start_at,
               CASE WHEN m.state = 'sent' THEN m.sent_at END AS end_at,
               COALESCE(s.handed_at, m.created_at) AS known_at
        FROM outbox_outboundmessage m
        LEFT JOIN orders_shipment s ON s.id = CASE WHEN m.payload->>'shipment_id' ~ '^[0-9]{1,18}$'
                                                   THEN (m.payload->>'shipment_id')::bigint END
        WHERE m.connection_id = ANY(%(ids)s) AND m.kind = 'fulfilment'
          AND m.created_at >= %(lo)s AND m.created_at < %(hi)s
    """,
    "reconciler": """
        SELECT d.connection_id, d.order_id, d.platform_order_id AS ref, d.received_at AS start_at,
               CASE WHEN d.state IN ('processed', 'stale') THEN d.processed_at END AS end_at,
               d.received_at AS known_at
        FROM integrations_inbounddelivery d
        WHERE d.connection_id = ANY(%(ids)s) AND d.source = 'reconciler'
          AND d.received_at >= %(lo)s AND d.received_at < %(hi)s
    """,
}

# One rule: when an event counts and whether it is good (see the module's docstring).
_DECIDED_SQL = """
    WITH ev AS ({events}),
    decided AS (
        SELECT ev.*,
               GREATEST(known_at, LEAST(COALESCE(end_at, 'infinity'::timestamptz), start_at + %(threshold)s))
                   AS counted_at,
               (end_at IS NOT NULL AND end_at <= start_at + %(threshold)s) AS good,
               COALESCE(EXTRACT(EPOCH FROM end_at - start_at)::float8, 'infinity'::float8) AS seconds
        FROM ev
    )
"""


def _decided(slo: Slo) -> str:
    return _DECIDED_SQL.format(events=_EVENTS_SQL[slo.key])


def _params(slo: Slo, ids: list[int], since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    # The learned-of filter's upper bound: a fulfilment write is queued just after its hand-off.
    return {
        "ids": ids, "lo": since - slo.slack, "hi": until + dt.timedelta(hours=1), "since": since, "until": until,
        "threshold": slo.threshold, "limit_seconds": slo.threshold.total_seconds(),
    }  # fmt: skip


# The aggregations over `decided`. `{bucket}` is one of this module's own SQL expressions, never input: every value
# is a query parameter.
_BY_EVENT_SQL = """
    SELECT connection_id, {bucket} AS bucket, count(*), count(*) FILTER (WHERE good), count(*),
           count(*) FILTER (WHERE NOT good)
    FROM decided WHERE counted_at >= %(since)s AND counted_at < %(until)s GROUP BY 1, 2
"""
_BY_MINUTE_SQL = """
    , slices AS (
        SELECT connection_id, date_trunc('minute', counted_at) AS minute,
               percentile_disc(0.5) WITHIN GROUP (ORDER BY seconds) AS median,
               count(*) AS events, count(*) FILTER (WHERE NOT good) AS missed
        FROM decided WHERE counted_at >= %(since)s AND counted_at < %(until)s GROUP BY 1, 2
    )
    SELECT connection_id, {bucket} AS bucket, count(*), count(*) FILTER (WHERE median <= %(limit_seconds)s),
           sum(events), sum(missed)
    FROM slices GROUP BY 1, 2
"""


def _buckets_sql(slo: Slo, bucket: str) -> str:
    """valid units, good units, events and missed events per connection and `bucket` (an SQL expression over
    `counted_at`), for the events counted in [since, until)."""
    if slo.unit is Unit.EVENTS:
        return _decided(slo) + _BY_EVENT_SQL.format(bucket=bucket)
    return _decided(slo) + _BY_MINUTE_SQL.format(bucket=bucket.replace("counted_at", "minute"))


@dataclass(frozen=True)
class Counts:
    valid: int  # minutes with events, or events (the SLO's unit)
    good: int
    events: int  # events counted (orders, writes, records)
    missed: int  # events that missed the threshold

    @property
    def bad(self) -> int:
        return self.valid - self.good


def _run(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def daily_counts(slo: Slo, ids: list[int], since: dt.datetime, until: dt.datetime) -> dict[tuple[int, dt.date], Counts]:
    """Counts per connection and UTC day, for the events counted in [since, until) (`until` ≤ now)."""
    if not ids:
        return {}
    bucket = "(counted_at AT TIME ZONE 'UTC')::date"
    rows = _run(_buckets_sql(slo, bucket), _params(slo, ids, since, until))
    return {(cid, day): Counts(int(v), int(g), int(e), int(m)) for cid, day, v, g, e, m in rows}


def minute_counts(
    slo: Slo, ids: list[int], since: dt.datetime, until: dt.datetime
) -> dict[tuple[int, dt.datetime], Counts]:
    """Counts per connection and minute, for the events counted in [since, until) (whole minutes)."""
    if not ids:
        return {}
    rows = _run(_buckets_sql(slo, "date_trunc('minute', counted_at)"), _params(slo, ids, since, until))
    return {(cid, at): Counts(int(v), int(g), int(e), int(m)) for cid, at, v, g, e, m in rows}


@dataclass(frozen=True)
class Miss:
    connection_id: int
    order_id: int | None
    ref: str
    start_at: dt.datetime
    end_at: dt.datetime | None
    seconds: float  # inf: it never ended in time (no end yet when its threshold ran out)


_MISSES_SQL = """
    SELECT connection_id, order_id, ref, start_at, end_at, seconds, count(*) OVER ()
    FROM decided WHERE counted_at >= %(since)s AND counted_at < %(until)s AND NOT good
    ORDER BY seconds DESC, start_at, order_id LIMIT %(limit)s
"""


def misses(slo: Slo, ids: list[int], since: dt.datetime, until: dt.datetime, *, limit: int) -> tuple[list[Miss], int]:
    """The events counted in [since, until) that missed the threshold, slowest first (at most `limit`), and how many
    there are in all."""
    if not ids:
        return [], 0
    sql = _decided(slo) + _MISSES_SQL
    rows = _run(sql, {**_params(slo, ids, since, until), "limit": limit})
    total = int(rows[0][6]) if rows else 0
    return [Miss(cid, oid, ref or "", start, end, float(sec)) for cid, oid, ref, start, end, sec, _n in rows], total
