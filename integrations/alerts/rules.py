"""The alert rules of seed 000 §07 as data, and their evaluation (scheduled every minute).

`DEFAULTS` are the seed's thresholds; `rules_ensure_defaults` creates a missing one (never overwrites a tuned one:
administrators change thresholds in the console, and history keeps each change; a rule is turned off with
`enabled`, not deleted, since a deleted default comes back).

`alerts_evaluate(now=)` reads each enabled rule's signal for every connection (one grouped query per signal), and
per (rule, connection): keeps since when the threshold has been crossed (`AlertState`), opens the incident once it
has been crossed for `for_minutes` (unless the connection is in a maintenance window, or a more severe rule of the
same group also fires), runs the runbook's first-hour response and queues the notifications; closes a metric-backed
incident whose signal recovered. Everything takes `now`, so tests drive it on a fake clock."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from integrations.alerts import runbooks, signals
from integrations.alerts.incidents import incident_close_recovered, incident_open, silenced_connection_ids
from integrations.alerts.models import AlertRule, AlertState, Comparison, Incident, Severity, Signal
from integrations.alerts.notify import notifications_queue
from integrations.alerts.responses import first_hour_response
from integrations.models import Connection, ConnectionStatus
from warehouse.memo import memo_scope

logger = logging.getLogger(__name__)

SEVERITY_RANK: dict[str, int] = {Severity.PAGE: 0, Severity.INVESTIGATE: 1, Severity.REVIEW: 2}
ABOVE, BELOW = Comparison.ABOVE, Comparison.BELOW
MINUTE = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Default:
    code: str
    name: str
    signal: str
    comparison: str
    threshold: float
    window_minutes: int
    for_minutes: int
    severity: str
    runbook: str
    brand_words: str
    min_observations: int = 1
    group: str = ""
    metric_backed: bool = True
    evaluate_every_minutes: int = 1


# Seed 000 §07's table, one line per threshold; §09's failure shapes name the runbooks.
DEFAULTS: tuple[Default, ...] = (
    Default("ingest-rate-drop", "Webhook ingest rate dropped", Signal.INGEST_RATE_DROP, ABOVE, 0.5, 5, 0,
            Severity.PAGE, runbooks.PLATFORM_OUTAGE,
            "Orders from your store are arriving more slowly than usual; we are pulling them directly meanwhile.",
            min_observations=10),
    Default("ingest-success-low", "Webhook ingest success below 99 %", Signal.INGEST_SUCCESS, BELOW, 0.99, 5, 5,
            Severity.PAGE, runbooks.PLATFORM_OUTAGE,
            "Some order notifications from your store were not accepted; we are pulling them directly meanwhile."),
    Default("hmac-failures", "Webhook signature failures above 0.1 %", Signal.HMAC_FAILURE_RATE, ABOVE, 0.001, 60, 0,
            Severity.PAGE, runbooks.SIGNATURE_SPIKE,
            "Some notifications claiming to come from your store failed their signature check and were dropped."),
    Default("reconciler-delta", "Reconciler found changes we missed", Signal.RECONCILER_DELTA, ABOVE, 0, 60, 0,
            Severity.INVESTIGATE, runbooks.ADMIN_EDIT,
            "Our regular check found orders changed on your store that we had not been told about.",
            group="reconciler-delta"),
    Default("reconciler-delta-page", "Reconciler delta above 50 an hour", Signal.RECONCILER_DELTA, ABOVE, 50, 60, 0,
            Severity.PAGE, runbooks.INVENTORY_DESYNC,
            "Many records on your store differ from ours; we are re-checking them and holding affected stock writes.",
            group="reconciler-delta"),
    Default("write-latency-p95", "Live write latency P95 over the platform's budget", Signal.WRITE_LATENCY_OVER_BUDGET,
            ABOVE, 1.0, 15, 0, Severity.PAGE, runbooks.PLATFORM_OUTAGE,
            "Tracking and stock updates are reaching your store later than usual."),
    Default("headroom-low", "Rate-limit headroom below 20 % for 10 minutes", Signal.HEADROOM, BELOW, 0.2, 0, 10,
            Severity.PAGE, runbooks.RATE_LIMIT,
            "Your store's API limit is nearly used up; your orders' updates go first, stock updates follow."),
    Default("dead-letters", "Dead letters waiting", Signal.DEAD_LETTERS, ABOVE, 0, 0, 0, Severity.INVESTIGATE,
            runbooks.PLATFORM_OUTAGE, "Some updates to your store could not be delivered and are being looked at.",
            group="dead-letters"),
    Default("dead-letters-growing", "Dead letters growing", Signal.DEAD_LETTERS_ADDED, ABOVE, 0, 15, 15,
            Severity.PAGE, runbooks.PLATFORM_OUTAGE,
            "Updates to your store keep failing; we are working on it.", group="dead-letters"),
    Default("catalog-drift", "Catalog drift to review", Signal.CATALOG_DRIFT, ABOVE, 0, 0, 0, Severity.REVIEW,
            runbooks.CATALOG_EXPLOSION, "Some of your products miss a weight, dimensions or an HS code.",
            metric_backed=False, evaluate_every_minutes=1440),
    Default("reconciler-failing", "Reconciler failed more than twice in a row", Signal.RECONCILER_FAILURES, ABOVE, 2,
            0, 0, Severity.PAGE, runbooks.PLATFORM_OUTAGE,
            "Our regular check of your store is failing; orders may arrive late.", group="reconciler-health"),
    Default("reconciler-silent", "Reconciler without a success for 30 minutes", Signal.RECONCILER_SILENCE, ABOVE, 30,
            0, 0, Severity.PAGE, runbooks.PLATFORM_OUTAGE,
            "Our regular check of your store has not succeeded for half an hour; orders may arrive late.",
            group="reconciler-health"),
    Default("credentials-refused", "Platform refused our credentials", Signal.CREDENTIALS_REFUSED, ABOVE, 0, 0, 0,
            Severity.PAGE, runbooks.CREDENTIAL_EXPIRED,
            "Your store refused our access key: updates are queued until a new key is set."),
    Default("outbound-backlog", "Outbound backlog spike", Signal.OUTBOUND_BACKLOG, ABOVE, 500, 0, 0, Severity.PAGE,
            runbooks.CATALOG_EXPLOSION,
            "A large catalog change is being sent to your store; order updates go first, stock updates follow."),
)  # fmt: skip


def rules_ensure_defaults() -> int:
    """Create the seed's rules that do not exist yet (by code, one at a time so history records each); returns how
    many were created."""
    have = set(AlertRule.objects.values_list("code", flat=True))
    created = 0
    for default in DEFAULTS:
        if default.code not in have:
            values = {name: getattr(default, name) for name in Default.__dataclass_fields__ if name != "code"}
            created += AlertRule.objects.get_or_create(code=default.code, defaults=values)[1]
    return created


@dataclass
class Evaluation:
    opened: list[int]
    closed: list[int]
    crossed: dict[str, list[int]]


def alerts_evaluate(*, now: dt.datetime | None = None) -> Evaluation:
    now = now or timezone.now()
    with memo_scope():
        return _evaluate(now)


def _evaluate(now: dt.datetime) -> Evaluation:
    rules_ensure_defaults()
    rules = list(AlertRule.objects.filter(enabled=True))
    connections = {
        c.pk: c for c in Connection.objects.select_related("channel__brand").exclude(status=ConnectionStatus.DISABLED)
    }
    ids = sorted(connections)
    silenced = silenced_connection_ids(now=now)
    states = {(s.rule_id, s.connection_id): s for s in AlertState.objects.filter(connection_id__in=ids)}
    open_incidents = {
        (i.rule_id, i.connection_id): i for i in Incident.objects.filter(closed_at__isnull=True).select_related("rule")
    }
    cache: dict[tuple[str, int], signals.Readings] = {}
    result = Evaluation([], [], {})
    firing: list[tuple[AlertRule, int, float]] = []
    for rule in rules:
        key = (rule.signal, rule.window_minutes)
        if key not in cache:
            cache[key] = signals.read(
                rule.signal, now=now, window=dt.timedelta(minutes=rule.window_minutes), connection_ids=ids
            )
        readings = cache[key]
        for cid in ids:
            state = states.get((rule.pk, cid))
            every = dt.timedelta(minutes=rule.evaluate_every_minutes)
            if every > MINUTE and state is not None and state.evaluated_at and now - state.evaluated_at < every:
                continue
            reading = readings.get(cid)
            crossed = (
                reading is not None and reading.observations >= rule.min_observations and rule.crossed(reading.value)
            )
            state = _state_update(rule, cid, state, crossed=crossed, value=reading.value if reading else None, now=now)
            open_incident = open_incidents.get((rule.pk, cid))
            if crossed:
                result.crossed.setdefault(rule.code, []).append(cid)
                assert state.crossed_since is not None and reading is not None
                if now - state.crossed_since >= dt.timedelta(minutes=rule.for_minutes) and cid not in silenced:
                    firing.append((rule, cid, reading.value))
            elif open_incident is not None and rule.metric_backed:
                value = reading.value if reading is not None else 0.0
                incident_close_recovered(incident=open_incident, value=value, now=now)
                open_incident.closed_at = now
                result.closed.append(open_incident.pk)
    for rule, cid, value in _most_severe(firing, open_incidents.values()):
        with transaction.atomic():
            incident, created = incident_open(rule=rule, connection=connections[cid], value=value, now=now)
            if created:
                extra = first_hour_response(incident=incident, now=now)
                notifications_queue(incident=incident, extra_emails=extra)
                result.opened.append(incident.pk)
    return result


def _state_update(
    rule: AlertRule, cid: int, state: AlertState | None, *, crossed: bool, value: float | None, now: dt.datetime
) -> AlertState:
    if state is None:
        state = AlertState(rule=rule, connection_id=cid)
    since = (state.crossed_since or now) if crossed else None
    if state.pk is None or state.crossed_since != since or rule.evaluate_every_minutes > 1:
        state.crossed_since, state.value, state.evaluated_at = since, value, now
        state.save()
    return state


def _rank(rule: AlertRule) -> tuple[int, int]:
    return (SEVERITY_RANK.get(rule.severity, 9), rule.pk)


def _most_severe(
    firing: list[tuple[AlertRule, int, float]], still_open: Iterable[Incident]
) -> list[tuple[AlertRule, int, float]]:
    """What to open: a rule without an open incident; of the rules of one group on one connection, only the most
    severe, and none while the group already has an open incident at least as severe (one cause, one page)."""
    open_rank: dict[tuple[str, int], tuple[int, int]] = {}
    open_rules = set()
    for incident in still_open:
        if incident.closed_at is None:
            open_rules.add((incident.rule_id, incident.connection_id))
            if incident.rule.group:
                key = (incident.rule.group, incident.connection_id)
                open_rank[key] = min(open_rank.get(key, (99, 0)), (SEVERITY_RANK.get(incident.severity, 9), 0))
    best: dict[tuple[str, int], tuple[AlertRule, int, float]] = {}
    kept: list[tuple[AlertRule, int, float]] = []
    for entry in firing:
        rule, cid, _ = entry
        if (rule.pk, cid) in open_rules:
            continue
        if not rule.group:
            kept.append(entry)
            continue
        key = (rule.group, cid)
        if key in open_rank and open_rank[key][0] <= SEVERITY_RANK.get(rule.severity, 9):
            continue
        if key not in best or _rank(rule) < _rank(best[key][0]):
            best[key] = entry
    return kept + list(best.values())
