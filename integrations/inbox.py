"""The webhook inbox: verify, store once, answer after commit, process later.

Order of work for one delivery (the view only translates HTTP to this and back):
1. bounded body (> 2 MB → 413), known platform and connection (else 404);
2. the platform's own handshake (WooCommerce's unsigned creation ping) → 200, nothing stored or processed;
3. signature over the raw bytes, compared as bytes in constant time → 401 + an audit row when it fails;
4. stored once per (connection, delivery id) in one transaction with its audit row; a duplicate changes nothing;
   an unreadable body (invalid UTF-8, invalid JSON, `\\u0000`) is kept raw and quarantined; an unknown topic is kept
   and ignored; a database error → 503 so the platform retries;
5. after commit, a django-q2 task processes it (`integrations.tasks.inbound_delivery_process`)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, transaction

from integrations.audit import audit_record
from integrations.mappings import platform_events
from integrations.models import AuditDirection, Connection, ConnectionStatus, DeliveryState, InboundDelivery
from integrations.vault import CredentialKeyError
from warehouse.errors import Reason
from warehouse.models import ExceptionKind
from warehouse.services import exception_open

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_JSON_DEPTH = 64
KEPT_HEADER_PREFIXES = ("x-shopify-", "x-wc-webhook-", "content-type", "user-agent")
SIGNATURE_HEADERS = frozenset({"x-shopify-hmac-sha256", "x-wc-webhook-signature"})


@dataclass(frozen=True)
class InboxResult:
    status: int
    outcome: str
    delivery_id: int | None = None


def _kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        k: str(v)[:300]
        for k, v in headers.items()
        if k.lower().startswith(KEPT_HEADER_PREFIXES) and k.lower() not in SIGNATURE_HEADERS
    }


def _depth(value: Any, limit: int) -> int:
    """Nesting depth, iteratively (a 10k-deep body must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(node, dict):
            stack.extend((v, level + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, level + 1) for v in node)
    return deepest


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
    if _depth(payload, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        return Reason("too_deep", f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")
    return None


def _enqueue(delivery_pk: int) -> None:
    from integrations.tasks import inbound_delivery_enqueue

    inbound_delivery_enqueue(delivery_pk)


def inbox_receive(
    *, platform: str, connection_id: int, body: bytes, headers: Mapping[str, str], endpoint: str
) -> InboxResult:
    started = time.monotonic()

    def elapsed() -> float:
        return (time.monotonic() - started) * 1000

    if len(body) > MAX_BODY_BYTES:
        return InboxResult(413, "too_large")
    try:
        events = platform_events(platform)
    except LookupError:
        return InboxResult(404, "unknown_platform")
    connection = Connection.objects.filter(pk=connection_id, platform=platform).select_related("brand").first()
    if connection is None or connection.status == ConnectionStatus.DISABLED:
        return InboxResult(404, "unknown_connection")

    if events.is_handshake(body=body, headers=headers):
        audit_record(
            connection=connection,
            direction=AuditDirection.INBOUND,
            method="POST",
            endpoint=endpoint,
            status=200,
            latency_ms=elapsed(),
            outcome="ping",
            body=body,
            headers=_kept_headers(headers),
        )
        return InboxResult(200, "ping")

    try:
        secrets = connection.signing_secrets_valid()
    except CredentialKeyError:
        logger.error("webhook for connection %s: its signing secret cannot be decrypted", connection.pk)
        return InboxResult(503, "vault_error")

    if not events.signature_valid(body=body, headers=headers, secrets=secrets):
        audit_record(
            connection=connection,
            direction=AuditDirection.INBOUND,
            method="POST",
            endpoint=endpoint,
            status=401,
            latency_ms=elapsed(),
            outcome="hmac_failed",
            body=body[:16384],
            headers=_kept_headers(headers),
            detail="signature missing or wrong; not processed",
        )
        return InboxResult(401, "hmac_failed")

    meta = events.delivery_meta(headers)
    delivery_key = meta.delivery_id or "sha256:" + hashlib.sha256(body).hexdigest()
    problem = body_problem(body)
    if problem is not None:
        state, outcome = DeliveryState.QUARANTINED, "quarantined"
    elif not events.is_order_topic(meta.topic):
        state, outcome = DeliveryState.IGNORED, "ignored_topic"
    else:
        state, outcome = DeliveryState.RECEIVED, "accepted"

    try:
        with transaction.atomic():
            delivery, created = InboundDelivery.objects.get_or_create(
                connection=connection,
                delivery_id=delivery_key,
                defaults={
                    "event_id": meta.event_id,
                    "topic": meta.topic,
                    "headers": _kept_headers(headers),
                    "body": body,
                    "triggered_at": meta.triggered_at,
                    "state": state,
                    "outcome": problem.message if problem else ("" if state == DeliveryState.RECEIVED else outcome),
                },
            )
            if not created:
                outcome = "duplicate"
            elif problem is not None:
                exception_open(
                    kind=ExceptionKind.WEBHOOK_QUARANTINE,
                    summary=f"{connection}: a signed {meta.topic or 'delivery'} could not be read ({problem.code})",
                    reasons=[problem],
                    subject=delivery,
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
                body=None if outcome == "duplicate" else body,
                headers=_kept_headers(headers),
                detail=f"delivery {delivery_key[:100]}",
            )
            if created and state == DeliveryState.RECEIVED:
                delivery_pk = delivery.pk
                transaction.on_commit(lambda: _enqueue(delivery_pk))
    except DatabaseError:
        logger.exception("webhook for connection %s not stored: database error", connection.pk)
        return InboxResult(503, "database_error")
    return InboxResult(200, outcome, delivery.pk)
