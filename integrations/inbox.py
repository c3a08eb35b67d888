"""The webhook inbox: verify, store once, answer after commit, process later.

Order of work for one delivery (the view only translates HTTP to this and back):
1. bounded body (> 2 MB → 413), known platform and connection (else 404);
2. the platform's own handshake (an unsigned set-up ping, where the platform sends one) → 200, nothing stored or
   processed;
3. signature over the raw bytes, compared as bytes in constant time → 401 + an audit row when it fails;
4. stored once per (connection, delivery id) in one transaction with its audit row; a duplicate changes nothing;
   an unreadable body (invalid UTF-8, invalid JSON, `\\u0000`) is kept raw and quarantined; an unknown topic is kept
   and ignored; a database error → 503 so the platform retries;
5. a django-q2 task wakes a worker for it (`integrations.queueing`: on PostgreSQL its row is written in the same
   statement as the delivery); the delivery row, not the task, says what is left to do
   (`integrations.delivery_lifecycle`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, transaction
from django.db import connection as db
from django.utils import timezone

from integrations.audit import audit_record
from integrations.connection_cache import connection_view
from integrations.models import AuditDirection, Connection, ConnectionStatus, DeliveryState, InboundDelivery
from integrations.platforms.protocol import Connector
from integrations.platforms.registry import UnknownPlatform, connector_for
from integrations.queueing import TASK_CTE, broker_in_our_database, delivery_wake, task_params
from integrations.redaction import redact_headers
from integrations.vault import CredentialKeyError
from warehouse.errors import Reason
from warehouse.jsonlimits import json_depth
from warehouse.models import ExceptionKind
from warehouse.services import exception_open

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_JSON_DEPTH = 64
DELIVERY_KEY_MAX = 200  # InboundDelivery.delivery_id
KEPT_HEADER_PREFIXES = ("content-type", "user-agent")  # and each platform's own (`Connector.kept_header_prefixes`)


@dataclass(frozen=True)
class InboxResult:
    status: int
    outcome: str
    delivery_id: int | None = None


def _kept_headers(headers: Mapping[str, str], connector: Connector) -> dict[str, str]:
    """The headers worth keeping with a delivery: the platform's own and the content type, never its signature."""
    prefixes = (*KEPT_HEADER_PREFIXES, *connector.kept_header_prefixes)
    return {
        k: str(v)[:300]
        for k, v in headers.items()
        if k.lower().startswith(prefixes) and k.lower() not in connector.signature_headers
    }


def body_problem(body: bytes) -> Reason | None:
    """Why a verified body cannot be processed, or None when it is a readable JSON object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Reason("invalid_utf8", "the body is not valid UTF-8")
    if "\x00" in text or "\\u0000" in text:
        return Reason("nul_character", "the body contains \\u0000, which PostgreSQL text and jsonb refuse")
    try:
        payload = json.loads(text)
    except RecursionError:
        return Reason("too_deep", f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")
    except ValueError:
        return Reason("invalid_json", "the body is not valid JSON")
    if not isinstance(payload, dict):
        return Reason("not_an_object", "the JSON body is not an object")
    if json_depth(payload, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        return Reason("too_deep", f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")
    return None


_INSERT_SQL = """
INSERT INTO integrations_inbounddelivery
    (connection_id, source, delivery_id, event_id, topic, headers, body, received_at, triggered_at,
     platform_order_id, state, outcome, attempts)
VALUES (%s, 'webhook', %s, %s, %s, %s::jsonb, %s, %s, %s, '', %s, %s, 0)
ON CONFLICT (connection_id, delivery_id) DO NOTHING
RETURNING id
"""


_DELIVERY_AND_AUDIT_CTES = """
WITH delivery AS (
    INSERT INTO integrations_inbounddelivery
        (connection_id, source, delivery_id, event_id, topic, headers, body, received_at, triggered_at,
         platform_order_id, state, outcome, attempts)
    VALUES (%(connection)s, 'webhook', %(key)s, %(event_id)s, %(topic)s, %(headers)s::jsonb, %(body)s, %(now)s,
            %(triggered_at)s, '', %(state)s, %(outcome)s, 0)
    ON CONFLICT (connection_id, delivery_id) DO NOTHING
    RETURNING id
), audit AS (
    INSERT INTO integrations_auditrecord
        (connection_id, direction, method, endpoint, status_code, latency_ms, outcome, credential_fingerprint,
         headers, body, body_truncated, detail, at)
    SELECT %(connection)s, 'inbound', 'POST', %(endpoint)s, 200, %(latency)s,
           CASE WHEN EXISTS (SELECT 1 FROM delivery) THEN %(audit_outcome)s ELSE 'duplicate' END,
           %(fingerprint)s, %(headers)s::jsonb, '', false, %(detail)s, %(now)s
),"""
# The delivery, its audit row and its wake-up task (`integrations.queueing.TASK_CTE`) in one statement.
_ONE_STATEMENT_SQL = "".join([_DELIVERY_AND_AUDIT_CTES, TASK_CTE, "\nSELECT id FROM delivery\n"])


def _store_in_one_statement(
    *, connection: Connection, delivery_key: str, fields: dict[str, Any], endpoint: str, latency_ms: float, outcome: str
) -> tuple[int | None, bool]:
    """PostgreSQL with the ORM broker on our database: delivery + audit row + task row in one statement (autocommit
    is one transaction, so the 200 still follows the commit). Returns (delivery id or None, created)."""
    params = {
        **task_params(connection_id=connection.pk, delivery_key=delivery_key),
        "connection": connection.pk,
        "key": delivery_key,
        "event_id": fields["event_id"],
        "topic": fields["topic"],
        "headers": json.dumps(redact_headers(fields["headers"])),
        "body": fields["body"],
        "now": timezone.now(),
        "triggered_at": fields["triggered_at"],
        "state": fields["state"],
        "outcome": fields["outcome"],
        "endpoint": endpoint[:500],
        "latency": latency_ms,
        "audit_outcome": outcome,
        "fingerprint": connection.credentials_fingerprint,
        "detail": f"delivery {delivery_key[:100]}",
        "enqueue": fields["state"] == DeliveryState.RECEIVED,
    }
    with db.cursor() as cursor:
        cursor.execute(_ONE_STATEMENT_SQL, params)
        row = cursor.fetchone()
    return (int(row[0]), True) if row else (None, False)


def _store(*, connection: Connection, delivery_key: str, fields: dict[str, Any]) -> tuple[int, bool]:
    """Insert the delivery unless (connection, delivery id) exists: (id, created). One statement on PostgreSQL."""
    if db.vendor == "postgresql":
        with db.cursor() as cursor:
            cursor.execute(
                _INSERT_SQL,
                [
                    connection.pk,
                    delivery_key,
                    fields["event_id"],
                    fields["topic"],
                    json.dumps(fields["headers"]),
                    fields["body"],
                    timezone.now(),
                    fields["triggered_at"],
                    fields["state"],
                    fields["outcome"],
                ],
            )
            row = cursor.fetchone()
        if row is not None:
            return int(row[0]), True
        existing = InboundDelivery.objects.filter(connection=connection, delivery_id=delivery_key).values_list(
            "pk", flat=True
        )
        return int(existing.get()), False
    delivery, created = InboundDelivery.objects.get_or_create(
        connection=connection, delivery_id=delivery_key, defaults=fields
    )
    return delivery.pk, created


def inbox_receive(
    *, platform: str, connection_id: int, body: bytes, headers: Mapping[str, str], endpoint: str
) -> InboxResult:
    started = time.monotonic()

    def elapsed() -> float:
        return (time.monotonic() - started) * 1000

    if len(body) > MAX_BODY_BYTES:
        return InboxResult(413, "too_large")
    try:
        connector = connector_for(platform)
    except UnknownPlatform:
        return InboxResult(404, "unknown_platform")
    try:
        view = connection_view(connection_id, platform)
    except CredentialKeyError:
        logger.error("webhook for connection %s: its signing secret cannot be decrypted", connection_id)
        return InboxResult(503, "vault_error")
    if view is None or view.connection.status == ConnectionStatus.DISABLED:
        return InboxResult(404, "unknown_connection")
    connection = view.connection

    if connector.is_handshake(body=body, headers=headers):
        audit_record(
            connection=connection,
            direction=AuditDirection.INBOUND,
            method="POST",
            endpoint=endpoint,
            status=200,
            latency_ms=elapsed(),
            outcome="ping",
            body=body,
            headers=_kept_headers(headers, connector),
        )
        return InboxResult(200, "ping")

    if not connector.signature_valid(body=body, headers=headers, secrets=view.secrets()):
        audit_record(
            connection=connection,
            direction=AuditDirection.INBOUND,
            method="POST",
            endpoint=endpoint,
            status=401,
            latency_ms=elapsed(),
            outcome="hmac_failed",
            body=body[:16384],
            headers=_kept_headers(headers, connector),
            detail="signature missing or wrong; not processed",
        )
        return InboxResult(401, "hmac_failed")

    meta = connector.delivery_meta(headers, body)
    delivery_key = meta.delivery_id or "sha256:" + hashlib.sha256(body).hexdigest()
    if len(delivery_key) > DELIVERY_KEY_MAX:  # a key is never cut short: an overlong one is named by its hash
        delivery_key = "sha256:" + hashlib.sha256(delivery_key.encode()).hexdigest()
    problem = body_problem(body)
    if problem is not None:
        state, outcome = DeliveryState.QUARANTINED, "quarantined"
    elif not connector.is_order_topic(meta.topic):
        state, outcome = DeliveryState.IGNORED, "ignored_topic"
    else:
        state, outcome = DeliveryState.RECEIVED, "accepted"

    kept = _kept_headers(headers, connector)
    fields = {
        "event_id": meta.event_id,
        "topic": meta.topic,
        "headers": kept,
        "body": body,
        "triggered_at": meta.triggered_at,
        "state": state,
        "outcome": problem.message if problem else ("" if state == DeliveryState.RECEIVED else outcome),
    }
    if problem is None and db.vendor == "postgresql" and broker_in_our_database():
        try:
            # Outside any transaction (a request) the statement is its own transaction; inside one (a test, a
            # caller's atomic block) a savepoint keeps a failure from poisoning it.
            with transaction.atomic() if db.in_atomic_block else contextlib.nullcontext():
                fast_pk, created = _store_in_one_statement(
                    connection=connection,
                    delivery_key=delivery_key,
                    fields=fields,
                    endpoint=endpoint,
                    latency_ms=elapsed(),
                    outcome=outcome,
                )
        except DatabaseError:
            logger.exception("webhook for connection %s not stored: database error", connection.pk)
            return InboxResult(503, "database_error")
        return InboxResult(200, outcome if created else "duplicate", fast_pk)

    try:
        with transaction.atomic():
            delivery_pk, created = _store(connection=connection, delivery_key=delivery_key, fields=fields)
            if not created:
                outcome = "duplicate"
            elif problem is not None:
                exception_open(
                    kind=ExceptionKind.WEBHOOK_QUARANTINE,
                    summary=f"{connection}: a signed {meta.topic or 'delivery'} could not be read ({problem.code})",
                    reasons=[problem],
                    subject=InboundDelivery.objects.get(pk=delivery_pk),
                    brand=connection.brand,
                    detail={"delivery_id": delivery_key, "connection_id": connection.pk},
                )
            audit_record(
                connection=connection,
                direction=AuditDirection.INBOUND,
                method="POST",
                endpoint=endpoint,
                status=200,
                latency_ms=elapsed(),
                outcome=outcome,
                # An accepted body is kept raw in the inbox row named in `detail`; refused and odd ones are here.
                body=None if outcome in ("duplicate", "accepted") else body,
                headers=kept,
                detail=f"delivery {delivery_pk} ({delivery_key[:80]})",
            )
            if created and state == DeliveryState.RECEIVED:
                if broker_in_our_database():
                    delivery_wake(delivery_pk)
                else:
                    transaction.on_commit(lambda: delivery_wake(delivery_pk))
    except DatabaseError:
        logger.exception("webhook for connection %s not stored: database error", connection.pk)
        return InboxResult(503, "database_error")
    return InboxResult(200, outcome, delivery_pk)
