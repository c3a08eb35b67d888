"""Ingestion: a stored delivery (webhook or reconciler pull) → the connection's mappings → `CanonicalOrder` →
`orders.services.order_ingest`.

A platform whose webhooks only name the order (`Connector.order_reference`, a thin webhook) has it fetched here, by
the worker, through `Connector.fetch_order` before mapping: outside the delivery's transaction (no row lock is held
over HTTP), never in the webhook request. A failed fetch is a failed attempt like any other (an HTTP error that may
pass is retried with backoff, then dead-lettered; a 401 also pauses the connection), and an order the platform no
longer has (404) quarantines the delivery with an exception.

Idempotent: a delivery is processed once (row lock + state), and the orders app is idempotent on (connection,
platform order id). Stale payloads are dropped here as well: deliveries of one order are serialised by an advisory
lock, and one whose version (`updated_at`, else the triggered-at header) is not newer than the newest already
applied changes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import replace
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Max
from django.utils import timezone

from integrations.delivery_lifecycle import attempt_failed, error_name, rerun_succeeded
from integrations.http import AuthExpired, PermanentError
from integrations.mappings import mappings_for, normalise
from integrations.models import Connection, DeliverySource, DeliveryState, InboundDelivery
from integrations.platforms.registry import connector_for
from orders.canonical import CanonicalOrder
from warehouse.errors import Reason
from warehouse.locks import advisory_xact_lock
from warehouse.models import ExceptionKind
from warehouse.services import exception_open

logger = logging.getLogger(__name__)

MAX_LINES = 500  # a 50k-line body is kept and quarantined for a person, never handed to allocation


def _order_key_max() -> int:
    """The longest order id that can be a key: it must fit the delivery's column and the order's."""
    from orders.models import Order

    return min(
        InboundDelivery._meta.get_field("platform_order_id").max_length or 0,
        Order._meta.get_field("platform_order_id").max_length or 0,
    )


def order_key_problem(platform_order_id: str) -> Reason | None:
    """Why an order id cannot be the key of an order (no order can be held without its key), or None."""
    if not platform_order_id.strip():
        return Reason("no_order_id", "the payload has no order id under the mapped path")
    if len(platform_order_id) > _order_key_max():
        return Reason(
            "order_id_too_long",
            f"the order id is {len(platform_order_id)} characters long; an order id has at most {_order_key_max()}",
        )
    return None


def _lock_order(connection_id: int, platform_order_id: str) -> None:
    """Serialise ingestion of one platform order across workers (PostgreSQL; SQLite serialises writers anyway)."""
    advisory_xact_lock(f"{connection_id}:{platform_order_id}")


def newest_applied_version(*, connection_id: int, platform_order_id: str) -> dt.datetime | None:
    return InboundDelivery.objects.filter(
        connection_id=connection_id, platform_order_id=platform_order_id, state=DeliveryState.PROCESSED
    ).aggregate(newest=Max("platform_updated_at"))["newest"]


def _order_ingest(*, canonical: CanonicalOrder, connection: Connection, found_by_reconciler: bool) -> Any:
    from orders.services import order_ingest  # the orders app; imported late so integrations loads without it

    return order_ingest(
        canonical=canonical,
        brand=connection.brand,
        channel=connection.channel,
        source="channel",
        found_by_reconciler=found_by_reconciler,
        actor=None,
    )


def _quarantine(delivery: InboundDelivery, reason: Reason) -> None:
    delivery.state = DeliveryState.QUARANTINED
    delivery.outcome = reason.message[:300]
    delivery.processed_at = timezone.now()
    delivery.save(update_fields=["state", "outcome", "processed_at", "attempts"])
    exception_open(
        kind=ExceptionKind.WEBHOOK_QUARANTINE,
        summary=f"{delivery.connection}: delivery {delivery.delivery_id[:80]} could not be ingested ({reason.code})",
        reasons=[reason],
        subject=delivery,
        brand=delivery.connection.brand,
    )


def _locked_delivery(lookup: dict[str, Any]) -> InboundDelivery | None:
    return (
        InboundDelivery.objects.select_for_update(of=("self",))
        .select_related("connection__channel__brand")
        .filter(**lookup)
        .first()
    )


def _lookup(delivery_id: int | None, connection_id: int | None, delivery_key: str | None) -> dict[str, Any]:
    """By row id, or by (connection, platform delivery id): the inbox enqueues before the row id is known."""
    if delivery_id is not None:
        return {"pk": delivery_id}
    return {"connection_id": connection_id, "delivery_id": delivery_key}


def _referenced_order(lookup: dict[str, Any]) -> dict[str, Any] | Reason | None:
    """For a delivery that only names its order (`Connector.order_reference`): the order fetched from the platform,
    or a Reason when the platform no longer has it (404). None when the delivery carries its order (or is not due,
    or cannot be read: the locked pass decides). Raises the client's error when the fetch fails otherwise."""
    from integrations.outbox.senders import default_client_factory  # the worker's timeouts, as for writes

    delivery = (
        InboundDelivery.objects.select_related("connection__channel")
        .filter(**lookup, state=DeliveryState.RECEIVED)
        .first()
    )
    if delivery is None:
        return None
    try:
        payload = json.loads(bytes(delivery.body))
        connector = connector_for(delivery.connection.platform)
        reference = connector.order_reference(payload) if isinstance(payload, dict) else None
    except (ValueError, TypeError, RecursionError, LookupError):
        return None
    if reference is None:
        return None
    connection = delivery.connection
    try:
        return connector.fetch_order(default_client_factory(connection), reference)
    except AuthExpired:
        from integrations.services import connection_pause_for_credentials

        connection_pause_for_credentials(connection=connection, note="fetching a webhook's order got 401")
        raise
    except PermanentError as exc:
        if exc.status_code == 404:
            return Reason("order_not_found", f"the platform has no order {reference[:100]} (404 when fetched)")
        raise


def delivery_process(
    *, delivery_id: int | None = None, connection_id: int | None = None, delivery_key: str | None = None
) -> str:
    """Process one stored delivery once; returns its state. Safe to call again (a task re-run changes nothing)."""
    lookup = _lookup(delivery_id, connection_id, delivery_key)
    fetched = _referenced_order(lookup)
    with transaction.atomic():
        delivery = _locked_delivery(lookup)
        if delivery is None or delivery.state != DeliveryState.RECEIVED:
            return delivery.state if delivery else "missing"
        delivery.attempts += 1
        connection = delivery.connection
        if isinstance(fetched, Reason):
            _quarantine(delivery, fetched)
            return delivery.state
        try:
            payload = fetched if fetched is not None else json.loads(bytes(delivery.body))
            canonical = normalise(payload=payload, mappings=mappings_for(connection))
        except (ValueError, TypeError, RecursionError) as exc:
            _quarantine(delivery, Reason("unreadable", f"the payload cannot be normalised ({type(exc).__name__})"))
            return delivery.state
        if len(canonical.lines) > MAX_LINES:
            _quarantine(delivery, Reason("too_many_lines", f"{len(canonical.lines)} lines; at most {MAX_LINES}"))
            return delivery.state
        key_problem = order_key_problem(canonical.platform_order_id)
        if key_problem is not None:
            _quarantine(delivery, key_problem)
            return delivery.state
        version = canonical.updated_at or delivery.triggered_at
        delivery.platform_order_id = canonical.platform_order_id
        delivery.platform_updated_at = version

        _lock_order(connection.pk, canonical.platform_order_id)
        newest = newest_applied_version(connection_id=connection.pk, platform_order_id=canonical.platform_order_id)
        if version is not None and newest is not None and version <= newest:
            delivery.state = DeliveryState.STALE
            delivery.outcome = f"not newer than the version already applied ({newest.isoformat()})"
        else:
            canonical = _with_version(canonical, version)
            result = _order_ingest(
                canonical=canonical,
                connection=connection,
                found_by_reconciler=delivery.source == DeliverySource.RECONCILER,
            )
            delivery.order_id = result.order.pk
            delivery.state = DeliveryState.PROCESSED if (result.created or result.applied) else DeliveryState.STALE
            delivery.outcome = (result.reason or ("created" if result.created else "updated"))[:300]
        delivery.processed_at = timezone.now()
        delivery.next_attempt_at = None
        delivery.save(
            update_fields=[
                "state",
                "outcome",
                "processed_at",
                "attempts",
                "platform_order_id",
                "platform_updated_at",
                "order_id",
                "next_attempt_at",
            ]
        )
        if delivery.reruns:
            rerun_succeeded(delivery)
        return delivery.state


def _with_version(canonical: CanonicalOrder, version: dt.datetime | None) -> CanonicalOrder:
    if canonical.updated_at == version:
        return canonical
    return replace(canonical, updated_at=version)


def delivery_process_safely(
    *, delivery_id: int | None = None, connection_id: int | None = None, delivery_key: str | None = None
) -> str:
    """The task body: a failed attempt is recorded on the delivery (`integrations.delivery_lifecycle`): retried
    with backoff when the error is transient, else dead-lettered with an exception. Returns the delivery's state;
    raises only when even that record cannot be written (the database is down: the sweeper wakes it later)."""
    lookup = _lookup(delivery_id, connection_id, delivery_key)
    try:
        return delivery_process(delivery_id=delivery_id, connection_id=connection_id, delivery_key=delivery_key)
    except Exception as exc:
        if isinstance(exc, DatabaseError):
            logger.warning("delivery %s: attempt failed: %s", lookup, error_name(exc))
        else:
            logger.exception("delivery %s failed", lookup)
        return attempt_failed(lookup=lookup, error=exc)


def payload_replay(
    *, connection: Connection, payload: dict[str, Any], topic: str = "reconcile", process: bool = True
) -> InboundDelivery:
    """Store a record the reconciler pulled as a delivery (source=reconciler) and ingest it through the same path.

    The delivery id is the record's id and version, so the same pulled version is stored and applied once."""
    canonical = normalise(payload=payload, mappings=mappings_for(connection))
    version = (
        canonical.updated_at.isoformat()
        if canonical.updated_at
        else hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
    )
    key = f"reconcile:{canonical.platform_order_id}:{version}"
    if len(key) > InboundDelivery._meta.get_field("delivery_id").max_length:  # type: ignore[operator]
        key = "reconcile:sha256:" + hashlib.sha256(key.encode()).hexdigest()  # a key is never cut short
    delivery, created = InboundDelivery.objects.get_or_create(
        connection=connection,
        delivery_id=key,
        defaults={
            "source": DeliverySource.RECONCILER,
            "topic": topic,
            "body": json.dumps(payload, default=str).encode(),
            "state": DeliveryState.RECEIVED,
        },
    )
    # One left `received` by an earlier run (its processing failed, or its task was lost) is due now as well.
    if process and (created or delivery.state == DeliveryState.RECEIVED):
        delivery_process_safely(delivery_id=delivery.pk)
        delivery.refresh_from_db()
    return delivery
