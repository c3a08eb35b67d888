"""The first-hour response of each runbook (seed 000 §09), run when an incident of that runbook opens, each step
written on the incident's timeline. Returns extra e-mail addresses to tell (the brand's administrators) beside the
incident's recipients.

- platform outage: polling fallback (the reconciler pulls at the fallback cadence) and a banner in the brand console;
- credential expired: writes already paused and queued by the outbox; the brand's administrators are told;
- rate-limit hit: live writes (fulfilments, tracking) are claimed before stock levels (outbox `PRIORITY`);
- inventory desync: a targeted reconcile of the connection is queued (divergent SKUs are quarantined by publishing);
- webhook signature spike: the signing secret is flagged on the incident and re-registration is spelled out;
- brand-side admin edit: an audit-log row, the brand's administrators told, a replay offered on the incident page;
- catalog explosion: stock writes drain in bulk calls and the non-critical backlog is throttled (spread out)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django_q.tasks import async_task

from integrations.alerts import runbooks
from integrations.alerts.incidents import incident_entry_add
from integrations.alerts.models import EntryKind, Incident
from integrations.audit import audit_record
from integrations.models import AuditDirection, Connection, ConnectionStatus
from integrations.outbox.models import MessageKind, MessageState, OutboundMessage
from integrations.services import connection_enter_polling_fallback
from warehouse.models import BrandUserObjectPermission
from warehouse.roles import BRAND_DATA

THROTTLE_BATCH = 50  # non-critical writes let through per minute while a catalog explosion is open


def _say(incident: Incident, text: str, now: dt.datetime) -> None:
    incident_entry_add(incident=incident, kind=EntryKind.RESPONSE, text=text, at=now)


def brand_admin_emails(incident: Incident) -> list[str]:
    """The brand's own users (those given the brand's data), who administer its store on the platform."""
    return sorted(
        {
            e
            for e in BrandUserObjectPermission.objects.filter(
                content_object_id=incident.brand_id, permission__codename=BRAND_DATA.split(".")[1]
            ).values_list("user__email", flat=True)
            if e
        }
    )


def _outage(incident: Incident, now: dt.datetime) -> list[str]:
    connection = incident.connection
    if connection.status == ConnectionStatus.ACTIVE:
        connection = connection_enter_polling_fallback(connection=connection, note=f"incident {incident.pk}: outage")
    minutes = connection.fallback_reconcile_every_minutes
    _say(incident, f"switched to polling: the reconciler pulls every {minutes} min; no retry storm (circuit)", now)
    _say(incident, "shown to the brand as a banner in its console", now)
    return []


def _credentials(incident: Incident, now: dt.datetime) -> list[str]:
    emails = brand_admin_emails(incident)
    waiting = OutboundMessage.objects.filter(connection=incident.connection, state=MessageState.PENDING).count()
    _say(incident, f"writes paused and queued ({waiting} waiting); they resume when the credentials are rotated", now)
    _say(incident, f"brand administrators told by e-mail ({len(emails)} addresses)", now)
    return emails


def _rate_limit(incident: Incident, now: dt.datetime) -> list[str]:
    waiting = dict(
        OutboundMessage.objects.filter(connection=incident.connection, state=MessageState.PENDING)
        .values_list("kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    live = sum(n for kind, n in waiting.items() if kind != MessageKind.INVENTORY)
    _say(
        incident,
        f"our writes slowed to the platform's Retry-After; the brand's live writes ({live}) go before the stock "
        f"backfill ({waiting.get(MessageKind.INVENTORY, 0)})",
        now,
    )
    return []


def _desync(incident: Incident, now: dt.datetime) -> list[str]:
    connection_id = incident.connection_id
    transaction.on_commit(
        lambda: async_task("integrations.tasks.reconcile_connection", connection_id, group="integrations.reconcile")
    )
    _say(incident, "targeted reconcile of the connection queued; diverging SKUs' writes are quarantined", now)
    return []


def _signature(incident: Incident, now: dt.datetime) -> list[str]:
    connection = incident.connection
    fingerprint = connection.signing_secret_fingerprint or "none"
    webhook = f"/webhooks/{connection.platform}/{connection.pk}/"
    _say(incident, f"signing secret (fingerprint {fingerprint}) flagged as suspect", now)
    _say(
        incident,
        f"re-register: set the platform's current secret on the connection's console page, then re-subscribe "
        f"the webhooks at {webhook}",
        now,
    )
    return []


def _admin_edit(incident: Incident, now: dt.datetime) -> list[str]:
    audit_record(
        connection=incident.connection, direction=AuditDirection.OUTBOUND, endpoint="reconciler",
        outcome="out_of_band_change", detail=f"incident {incident.pk}: {incident.title}"[:300],
    )  # fmt: skip
    emails = brand_admin_emails(incident)
    _say(incident, "out-of-band change written to the connection's audit log", now)
    _say(incident, f"brand administrators told by e-mail ({len(emails)} addresses)", now)
    _say(incident, f"replay from the platform offered on {reverse('incident', args=[incident.pk])}", now)
    return emails


def _catalog(incident: Incident, now: dt.datetime) -> list[str]:
    throttled = catalog_throttle(connection=incident.connection, now=now)
    _say(incident, "stock writes drain in the platform's bulk calls; fulfilments go first", now)
    _say(incident, f"non-critical writes throttled: {throttled} stock writes spread at {THROTTLE_BATCH} a minute", now)
    return []


def catalog_throttle(*, connection: Connection, now: dt.datetime) -> int:
    """Spread the connection's waiting stock writes at `THROTTLE_BATCH` a minute (one UPDATE per batch)."""
    ids = list(
        OutboundMessage.objects.filter(connection=connection, state=MessageState.PENDING, kind=MessageKind.INVENTORY)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)
    )
    for start in range(THROTTLE_BATCH, len(ids), THROTTLE_BATCH):
        batch = ids[start : start + THROTTLE_BATCH]
        due = now + dt.timedelta(minutes=start // THROTTLE_BATCH)
        OutboundMessage.objects.filter(pk__in=batch, next_attempt_at__lt=due).update(next_attempt_at=due)
    return max(0, len(ids) - THROTTLE_BATCH)


RESPONSES: dict[str, Callable[[Incident, dt.datetime], list[str]]] = {
    runbooks.PLATFORM_OUTAGE: _outage,
    runbooks.CREDENTIAL_EXPIRED: _credentials,
    runbooks.RATE_LIMIT: _rate_limit,
    runbooks.INVENTORY_DESYNC: _desync,
    runbooks.SIGNATURE_SPIKE: _signature,
    runbooks.ADMIN_EDIT: _admin_edit,
    runbooks.CATALOG_EXPLOSION: _catalog,
}


def first_hour_response(*, incident: Incident, now: dt.datetime) -> list[str]:
    return RESPONSES[incident.runbook](incident, now)
