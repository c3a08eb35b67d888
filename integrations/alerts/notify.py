"""Telling people an incident opened: once per address, by e-mail through Django's mail backend and by a signed
POST to an on-call URL, each retried through django-q2 with backoff.

A `Notification` row per (incident, channel, address) is queued in the incident's transaction, so an incident
notifies each address once whatever the number of evaluations; its task is enqueued after commit, and the
evaluation sweep re-enqueues what fell due again (a lost task, a retry). A snoozed incident, or one on a connection
in maintenance, keeps its notifications waiting.

The webhook body is JSON; its signature is `X-Hub-Alert-Signature: sha256=<hex>`, HMAC-SHA256 with
`settings.ALERTS_WEBHOOK_SECRET` over `<X-Hub-Alert-Timestamp>.<body>`, so a receiver can refuse replays."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from integrations.alerts.incidents import incident_entry_add
from integrations.alerts.models import (
    Channel,
    EntryKind,
    Incident,
    MaintenanceWindow,
    Notification,
    NotificationState,
    Recipient,
)
from integrations.alerts.runbooks import runbook
from integrations.redaction import redact_text

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
SIGNATURE_HEADER = "X-Hub-Alert-Signature"
TIMESTAMP_HEADER = "X-Hub-Alert-Timestamp"
TASK = "integrations.alerts.tasks.alerts_notification_send"


def retry_delay(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8, 16 minutes after the 1st … 5th failure."""
    return dt.timedelta(minutes=2 ** (attempts - 1))


def sign(*, body: bytes, timestamp: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def absolute(path: str) -> str:
    return getattr(settings, "ALERTS_BASE_URL", "").rstrip("/") + path


def recipients_for(incident: Incident) -> list[Recipient]:
    return list(
        Recipient.objects.filter(active=True)
        .filter(Q(brand__isnull=True) | Q(brand_id=incident.brand_id))
        .filter(Q(rule__isnull=True) | Q(rule_id=incident.rule_id))
        .order_by("pk")
    )


def notifications_queue(*, incident: Incident, extra_emails: list[str] = ()) -> list[Notification]:  # type: ignore[assignment]
    """Queue one notification per address of the incident's recipients (and `extra_emails`, e.g. the brand's
    administrators); an address already notified about this incident is skipped. Sent after commit."""
    wanted: list[tuple[str, str]] = []
    for recipient in recipients_for(incident):
        if recipient.email:
            wanted.append((Channel.EMAIL, recipient.email))
        if recipient.webhook_url:
            wanted.append((Channel.WEBHOOK, recipient.webhook_url))
    wanted += [(Channel.EMAIL, address) for address in extra_emails if address]
    rows = [Notification(incident=incident, channel=c, target=t) for c, t in dict.fromkeys(wanted)]
    created = Notification.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(
        Notification.objects.filter(incident=incident, state=NotificationState.PENDING).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: [async_task(TASK, pk, group="alerts.notify") for pk in ids])
    return created


def message_of(incident: Incident) -> dict[str, Any]:
    book = runbook(incident.runbook)
    return {
        "incident": incident.pk,
        "title": incident.title,
        "severity": incident.severity,
        "rule": incident.rule.code,
        "connection": incident.connection_id,
        "platform": incident.connection.platform,
        "brand": incident.brand.name,
        "value": incident.value,
        "threshold": incident.threshold,
        "opened_at": incident.opened_at.isoformat(),
        "runbook": absolute(book.url),
        "runbook_title": book.title,
        "incident_url": absolute(f"/incidents/{incident.pk}/"),
        "summary": incident.brand_summary,
    }


def _held(notification: Notification, now: dt.datetime) -> dt.datetime | None:
    """Until when this notification must wait (a snooze, a maintenance window), else None."""
    incident = notification.incident
    if incident.snoozed_until is not None and incident.snoozed_until > now:
        return incident.snoozed_until
    window = (
        MaintenanceWindow.objects.filter(connection_id=incident.connection_id, starts_at__lte=now, ends_at__gt=now)
        .order_by("-ends_at")
        .first()
    )
    return window.ends_at if window is not None else None


def notification_send(*, notification_id: int, now: dt.datetime | None = None) -> str:
    """Attempt one notification (idempotent: a sent or failed one is left alone). Returns its state."""
    now = now or timezone.now()
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .select_related("incident__rule", "incident__connection__channel__brand", "incident__brand")
            .filter(pk=notification_id, state=NotificationState.PENDING)
            .first()
        )
        if notification is None:
            return "skipped"
        if notification.next_attempt_at > now:
            return NotificationState.PENDING
        held = _held(notification, now)
        if held is not None:
            Notification.objects.filter(pk=notification.pk).update(next_attempt_at=held)
            return NotificationState.PENDING
        message = message_of(notification.incident)
        try:
            if notification.channel == Channel.EMAIL:
                _send_email(notification.target, message)
            else:
                _send_webhook(notification.target, message)
        except Exception as exc:  # any failure is a retry; the error is kept in words, secrets masked
            return _failed(notification, error=f"{type(exc).__name__}: {exc}", now=now)
        notification.state, notification.sent_at = NotificationState.SENT, now
        notification.attempts += 1
        notification.last_error = ""
        notification.save(update_fields=["state", "sent_at", "attempts", "last_error"])
        where = "e-mail" if notification.channel == Channel.EMAIL else "on-call webhook"
        incident_entry_add(incident=notification.incident, kind=EntryKind.NOTIFIED, text=f"notified by {where}")
        return NotificationState.SENT


def _failed(notification: Notification, *, error: str, now: dt.datetime) -> str:
    secret = getattr(settings, "ALERTS_WEBHOOK_SECRET", "")
    notification.attempts += 1
    notification.last_error = redact_text(error, [secret] if secret else [])[:300]
    if notification.attempts >= MAX_ATTEMPTS:
        notification.state = NotificationState.FAILED
    else:
        notification.next_attempt_at = now + retry_delay(notification.attempts)
    notification.save(update_fields=["attempts", "last_error", "state", "next_attempt_at"])
    logger.warning("alert notification %s failed (attempt %s)", notification.pk, notification.attempts)
    return notification.state


def _send_email(address: str, message: dict[str, Any]) -> None:
    subject = f"[{message['severity'].upper()}] {message['title']}"[:200]
    body = (
        f"{message['title']}\n\n"
        f"Severity: {message['severity']}\nBrand: {message['brand']}\nPlatform: {message['platform']}\n"
        f"Opened: {message['opened_at']}\n\n"
        f"Runbook ({message['runbook_title']}): {message['runbook']}\n"
        f"Incident: {message['incident_url']}\n"
    )
    send_mail(subject, body, None, [address], fail_silently=False)


def _send_webhook(url: str, message: dict[str, Any]) -> None:
    secret = getattr(settings, "ALERTS_WEBHOOK_SECRET", "")
    if not secret:
        raise RuntimeError("ALERTS_WEBHOOK_SECRET is not set: the on-call webhook is never sent unsigned")
    body = json.dumps(message, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(body=body, timestamp=timestamp, secret=secret),
    }
    response = requests.post(url, data=body, headers=headers, timeout=(3, 10), allow_redirects=False)
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"the on-call URL answered HTTP {response.status_code}")


def notifications_due(*, now: dt.datetime | None = None, limit: int = 200) -> list[int]:
    """Pending notifications whose attempt is due (retries, lost tasks): enqueued by the evaluation's sweep."""
    now = now or timezone.now()
    return list(
        Notification.objects.filter(state=NotificationState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
