"""The connector health board (issue 18, item 4): for staff, every connection at a glance — its numbers, its open
incidents, its dead-letter depth and its status in words.

The numbers come from the one-minute rollups (`integrations.MetricMinute`, one grouped query for every connection
and family), dead letters are read live (the outbox's depth), and the status in words is worked out for all
connections at once, so the page costs the same few queries whatever the number of connections."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Max, Min, Q, Sum, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from integrations.alerts.models import Incident
from integrations.alerts.runbooks import RUNBOOKS
from integrations.connection_status import FAILING_AFTER, error_in_words
from integrations.metrics import series
from integrations.models import Connection, ConnectionStatus, InboundDelivery, MetricMinute, ReconcileRun
from integrations.outbox.models import ConnectionCircuit, MessageState, OutboundMessage
from integrations.platforms.registry import write_latency_budget_seconds

VIEW_INCIDENT = "alerts.view_incident"
FAMILIES = [
    "webhook_ingest_rate",
    "webhook_ingest_success",
    "hmac_failure_rate",
    "reconciler_delta",
    "outbound_write_latency_p95",
    "rate_limit_headroom",
    "catalog_drift",
]


@dataclass
class Row:
    connection: Connection
    status: str = ""
    status_words: str = ""
    failing: bool = False
    ingest_5m: int = 0
    ingest_1h: int = 0
    success_5m: float | None = None
    hmac_1h: float | None = None
    delta_1h: int = 0
    p95_s: float | None = None
    budget_s: float = 0.0
    headroom: float | None = None
    drift: int = 0
    dead_in: int = 0
    dead_out: int = 0
    incidents: list[Incident] = field(default_factory=list)


def _numbers(now: dt.datetime) -> dict[tuple[str, int], dict[str, Any]]:
    """The last hour of rollups summed per (family, connection) in one query, each window by a filter."""
    five, fifteen, hour = (now - dt.timedelta(minutes=m) for m in (5, 15, 60))
    in5, in15 = Q(minute__gte=five), Q(minute__gte=fifteen)
    rows = (
        MetricMinute.objects.filter(metric__in=FAMILIES, minute__gte=hour, minute__lt=now)
        .values("metric", "connection_id")
        .annotate(
            n5=Sum("count", filter=in5), t5=Sum("total", filter=in5), n60=Sum("count"), t60=Sum("total"),
            v60=Sum("value"), max15=Max("value", filter=in15), min5=Min("value", filter=in5),
            max5=Max("value", filter=in5),
        )
        .order_by()
    )  # fmt: skip
    return {(r["metric"], r["connection_id"]): r for r in rows}


def _failing_pulls(ids: list[int]) -> set[int]:
    """Connections whose last `FAILING_AFTER` finished pulls all failed (one query for all of them)."""
    ranked = (
        ReconcileRun.objects.filter(connection_id__in=ids)
        .exclude(outcome="running")
        .annotate(rank=Window(RowNumber(), partition_by=[F("connection_id")], order_by=[F("started_at").desc()]))
        .values_list("connection_id", "outcome", "rank")
    )
    outcomes: dict[int, list[str]] = {}
    for cid, outcome, rank in ranked:
        if rank <= FAILING_AFTER:
            outcomes.setdefault(cid, []).append(outcome)
    return {cid for cid, found in outcomes.items() if len(found) == FAILING_AFTER and set(found) == {"failed"}}


def _dead_letters(ids: list[int]) -> dict[tuple[int, str], int]:
    """Dead-letter depth per connection and direction, as `series.dead_letter_depth` counts it (two queries, without
    its connection lookup: the board has the connections)."""
    outbound = (
        OutboundMessage.objects.filter(connection_id__in=ids, state=MessageState.DEAD, archived_at__isnull=True)
        .values_list("connection_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    inbound = (
        InboundDelivery.objects.filter(connection_id__in=ids, state__in=series.PARKED)
        .values_list("connection_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    found = {(cid, "outbound"): n for cid, n in outbound}
    found.update({(cid, "inbound"): n for cid, n in inbound})
    return found


def _ratio(total: float | None, count: int | None) -> float | None:
    return (total or 0.0) / count if count else None


def health_rows(*, now: dt.datetime | None = None) -> list[Row]:
    now = now or timezone.now()
    connections = list(Connection.objects.select_related("channel__brand").order_by("channel__brand__name", "pk"))
    ids = [c.pk for c in connections]
    numbers = _numbers(now)
    circuits = {c.connection_id: c for c in ConnectionCircuit.objects.filter(connection_id__in=ids)}
    failing_pulls = _failing_pulls(ids)
    dead = _dead_letters(ids)
    incidents: dict[int, list[Incident]] = {}
    for incident in Incident.objects.filter(closed_at__isnull=True, connection_id__in=ids).select_related("rule"):
        incidents.setdefault(incident.connection_id, []).append(incident)
    rows = []
    for c in connections:

        def n(metric: str, cid: int = c.pk) -> dict[str, Any]:
            return numbers.get((metric, cid), {})

        circuit = circuits.get(c.pk)
        row = Row(connection=c, budget_s=write_latency_budget_seconds(c.platform))
        row.ingest_5m = int(n("webhook_ingest_rate").get("n5") or 0)
        row.ingest_1h = int(n("webhook_ingest_rate").get("n60") or 0)
        row.success_5m = _ratio(n("webhook_ingest_success").get("t5"), n("webhook_ingest_success").get("n5"))
        row.hmac_1h = _ratio(n("hmac_failure_rate").get("t60"), n("hmac_failure_rate").get("n60"))
        row.delta_1h = int(n("reconciler_delta").get("v60") or 0)
        row.p95_s = n("outbound_write_latency_p95").get("max15")
        row.headroom = n("rate_limit_headroom").get("min5")
        row.drift = int(n("catalog_drift").get("max5") or 0)
        row.dead_in, row.dead_out = dead.get((c.pk, "inbound"), 0), dead.get((c.pk, "outbound"), 0)
        row.incidents = incidents.get(c.pk, [])
        row.status, row.status_words, row.failing = _status(c, circuit, failing=c.pk in failing_pulls)
        rows.append(row)
    return rows


def _status(c: Connection, circuit: ConnectionCircuit | None, *, failing: bool) -> tuple[str, str, bool]:
    """The connection's status and one sentence saying why (the words of `integrations.connection_status`)."""
    label = c.get_status_display()
    if c.status == ConnectionStatus.ACTIVE:
        if failing:
            return "Failing", f"The last {FAILING_AFTER} pulls failed.", True
        if circuit is not None and circuit.consecutive_failures >= FAILING_AFTER:
            words = error_in_words(circuit.last_error, prefix="Writes keep failing: ") if circuit.last_error else ""
            return "Failing", words or f"The last {circuit.consecutive_failures} writes failed.", True
        return label, "Webhooks, pulls and writes are working.", False
    return label, error_in_words(c.status_reason) if c.status_reason else "", True


@login_required
@require_GET
def health_board(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(VIEW_INCIDENT):
        raise PermissionDenied
    rows = health_rows()
    return render(
        request,
        "reports/health_board.html",
        {"rows": rows, "runbooks": RUNBOOKS, "open_count": sum(len(r.incidents) for r in rows), "nav": "health"},
    )
