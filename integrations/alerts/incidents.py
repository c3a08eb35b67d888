"""Incidents: an alert that fired is an `ExceptionItem` of kind INCIDENT (the queue people already work) with its
`Incident` row and a timeline of `IncidentEntry` lines.

One open incident per cause (`dedupe_key` = rule and connection): a re-evaluation that finds the threshold still
crossed changes nothing. A metric-backed incident closes itself when its signal recovers (the exception item is
resolved by the system with the recovery as its note); a data exception never does. Acknowledging, snoozing, the
post-incident review and maintenance windows are people's actions: permission first, then one transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.alerts.models import (
    OPERATE_INCIDENT,
    AlertRule,
    EntryKind,
    Incident,
    IncidentEntry,
    MaintenanceWindow,
)
from integrations.alerts.runbooks import POSTMORTEM_FIELDS, runbook
from integrations.models import Connection
from warehouse.errors import InvalidInput, NotPermitted, Reason
from warehouse.limits import text_within
from warehouse.models import ExceptionKind
from warehouse.services import exception_open, exceptions_resolve_if_cleared
from warehouse.transitions import Actor

MAX_SNOOZE = dt.timedelta(days=7)
MAX_MAINTENANCE = dt.timedelta(days=7)


def incident_dedupe_key(*, rule: AlertRule, connection_id: int) -> str:
    return f"incident:{rule.code}:{connection_id}"


def incident_entry_add(
    *, incident: Incident, kind: str, text: str, actor: Actor = None, at: dt.datetime | None = None
) -> IncidentEntry:
    return IncidentEntry.objects.create(
        incident=incident, kind=kind, text=text[:500], actor=actor, at=at or timezone.now()
    )


def _format(value: float) -> str:
    return f"{value:.4g}"


def incident_open(*, rule: AlertRule, connection: Connection, value: float, now: dt.datetime) -> tuple[Incident, bool]:
    """Open the incident of `rule` on `connection`, or return the one already open (created: False)."""
    key = incident_dedupe_key(rule=rule, connection_id=connection.pk)
    existing = Incident.objects.filter(dedupe_key=key, closed_at__isnull=True).first()
    if existing is not None:
        return existing, False
    book = runbook(rule.runbook)
    limit = f"{rule.get_comparison_display()} {_format(rule.threshold)}"
    title = f"{connection}: {rule.name} ({_format(value)}, threshold {limit})"
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                rule=rule, connection=connection, brand=connection.brand, dedupe_key=key, severity=rule.severity,
                runbook=rule.runbook, title=title[:300], brand_summary=rule.brand_words[:300], value=value,
                threshold=rule.threshold, opened_at=now,
            )  # fmt: skip
            item = exception_open(
                kind=ExceptionKind.INCIDENT,
                summary=title,
                reasons=[Reason(rule.code, f"{rule.get_signal_display()}: {_format(value)}")],
                subject=incident,
                brand=connection.brand,
                dedupe_key=key,
                detail={"runbook": book.url, "severity": rule.severity, "connection": connection.pk},
            )
            Incident.objects.filter(pk=incident.pk).update(exception=item)
            incident.exception = item
            incident_entry_add(
                incident=incident, kind=EntryKind.OPENED, at=now,
                text=f"{rule.get_signal_display()} is {_format(value)} ({rule.get_comparison_display()} "
                f"{_format(rule.threshold)}); runbook: {book.title} {book.url}",
            )  # fmt: skip
    except IntegrityError:  # opened at the same moment by another evaluation: theirs
        return Incident.objects.get(dedupe_key=key, closed_at__isnull=True), False
    return incident, True


def incident_close_recovered(*, incident: Incident, value: float, now: dt.datetime) -> Incident:
    """The signal is back on the right side of its threshold: the incident and its exception item close."""
    rule = incident.rule
    note = f"recovered: {rule.get_signal_display()} is {_format(value)}"
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.closed_at is not None:
            return locked
        locked.closed_at, locked.close_reason = now, note[:300]
        locked.save(update_fields=["closed_at", "close_reason"])
        incident_entry_add(incident=locked, kind=EntryKind.RECOVERED, text=note, at=now)
        exceptions_resolve_if_cleared(subject=locked, kind=ExceptionKind.INCIDENT, note=note[:300])
    return locked


def _require(actor: User | None) -> User:
    if actor is None or not actor.has_perm(OPERATE_INCIDENT):
        raise NotPermitted(
            "You may not act on incidents.", reasons=[Reason("not_permitted", f"needs {OPERATE_INCIDENT}")]
        )
    return actor


def incident_acknowledge(*, incident: Incident, actor: User | None) -> Incident:
    """Someone has it: recorded once, with who and when."""
    user = _require(actor)
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        if locked.acknowledged_at is None:
            locked.acknowledged_at, locked.acknowledged_by = timezone.now(), user
            locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
            incident_entry_add(incident=locked, kind=EntryKind.ACKNOWLEDGED, text=f"acknowledged by {user}", actor=user)
    return locked


def incident_snooze(*, incident: Incident, until: dt.datetime, reason: str, actor: User | None) -> Incident:
    """Hold its notifications until `until` (at most a week ahead), saying why."""
    user = _require(actor)
    reason = text_within(reason or "", field="reason", limit=300).strip()
    now = timezone.now()
    problems = []
    if not reason:
        problems.append(Reason("reason_required", "reason: say why it is snoozed"))
    if until <= now or until > now + MAX_SNOOZE:
        problems.append(Reason("bad_until", "until: a time in the next 7 days"))
    if problems:
        raise InvalidInput("The snooze was not saved.", reasons=problems)
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        locked.snoozed_until, locked.snooze_reason = until, reason
        locked.save(update_fields=["snoozed_until", "snooze_reason"])
        incident_entry_add(
            incident=locked, kind=EntryKind.SNOOZED, actor=user,
            text=f"snoozed by {user} until {until:%Y-%m-%d %H:%M} UTC: {reason}",
        )  # fmt: skip
    return locked


def incident_review_save(*, incident: Incident, answers: dict[str, Any], actor: User | None) -> Incident:
    """Keep the post-incident review: every question of the runbook's template answered (the whole text, never cut
    short: an answer over its limit is refused)."""
    user = _require(actor)
    kept: dict[str, str] = {}
    problems = []
    for name, question in POSTMORTEM_FIELDS:
        answer = text_within(str(answers.get(name, "") or ""), field=name, limit=4000).strip()
        if not answer:
            problems.append(Reason("required", f"{name}: {question}"))
        kept[name] = answer
    if problems:
        raise InvalidInput("Every question of the review needs an answer.", reasons=problems)
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        locked.postmortem, locked.postmortem_by, locked.postmortem_at = kept, user, timezone.now()
        locked.save(update_fields=["postmortem", "postmortem_by", "postmortem_at"])
        incident_entry_add(incident=locked, kind=EntryKind.REVIEW, text=f"post-incident review saved by {user}",
                           actor=user)  # fmt: skip
    return locked


def maintenance_declare(
    *, connection: Connection, starts_at: dt.datetime, ends_at: dt.datetime, reason: str, actor: User | None
) -> MaintenanceWindow:
    """Silence a connection's alerts between two times (at most a week)."""
    user = _require(actor)
    reason = text_within(reason or "", field="reason", limit=300).strip()
    problems = []
    if not reason:
        problems.append(Reason("reason_required", "reason: say what the maintenance is"))
    if ends_at <= starts_at or ends_at - starts_at > MAX_MAINTENANCE:
        problems.append(Reason("bad_window", "ends_at: after the start, at most 7 days later"))
    if problems:
        raise InvalidInput("The maintenance window was not saved.", reasons=problems)
    return MaintenanceWindow.objects.create(
        connection=connection, starts_at=starts_at, ends_at=ends_at, reason=reason, created_by=user
    )


def silenced_connection_ids(*, now: dt.datetime) -> set[int]:
    return set(
        MaintenanceWindow.objects.filter(starts_at__lte=now, ends_at__gt=now).values_list("connection_id", flat=True)
    )
