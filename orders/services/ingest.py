"""Ingestion: create or update the order a channel, a file or a person sent, idempotent on its key, then take it as
far as it can go (validate, route, allocate, accept)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from orders.canonical import CanonicalOrder
from orders.models import (
    Order,
    OrderEventKind,
    OrderSource,
    OrderState,
)
from orders.selectors import facility_default_for
from orders.services.common import overflow_collected
from orders.services.fixes import conflicts_record, fixes_keep
from orders.services.lifecycle import cancel_locked, process_locked, revise_locked
from orders.services.lines import (
    MATERIAL_FIELDS,
    canonical_fields,
    line_signature,
    lines_from,
    lines_replace,
    stored_signature,
)
from orders.services.stock import allocation_release
from orders.services.timeline import order_exception_open, timeline_add, timeline_batch
from warehouse.errors import InvalidInput, Reason
from warehouse.history import save_with_history
from warehouse.limits import as_text, refuse_too_long, too_long
from warehouse.memo import memo_scope
from warehouse.models import Brand, ExceptionKind, SalesChannel
from warehouse.transitions import Actor


@dataclass(frozen=True)
class IngestResult:
    order: Order
    created: bool
    applied: bool
    reason: str = ""


RELEASED_STATES = (
    OrderState.PICKING,
    OrderState.PICKED,
    OrderState.PACKED,
    OrderState.DISPATCHED,
    OrderState.IN_TRANSIT,
    OrderState.DELIVERED,
)


def order_ingest(
    *,
    canonical: CanonicalOrder,
    brand: Brand,
    channel: SalesChannel | None = None,
    source: str = OrderSource.CHANNEL,
    found_by_reconciler: bool = False,
    actor: Actor = None,
) -> IngestResult:
    """Create or update the order a channel (or a file, or a person) sent; idempotent on its key.

    Concurrent deliveries of one order serialise on the row: the first inserts it (the unique constraint makes every
    other insert fail in its savepoint), the others lock the row and apply only a newer `updated_at`."""
    pid = as_text(canonical.platform_order_id)
    id_too_long = too_long("platform_order_id", pid, 100)  # no order can be held without its key: always refused
    refuse_too_long([id_too_long] if id_too_long else [])
    if not pid:
        message = "An order without an order id cannot be stored idempotently."
        raise InvalidInput(message, reasons=[Reason("order_id_missing", "the order has no order id")])
    if channel is not None:
        if channel.brand_id != brand.pk:
            raise InvalidInput("The channel belongs to another brand.", reasons=[Reason("other_brand", pid)])
        source = OrderSource.CHANNEL
    key = _order_key(brand=brand, channel=channel, source=source, platform_order_id=pid)
    system = actor is None or channel is not None  # a channel, file or task: over-long values hold the order
    if not system:  # a person's over-long value is refused (400 naming it) before anything is written
        canonical_fields(canonical), line_signature(lines_from(canonical.lines))
    # No savepoint: a refusal is raised before this block; inside it only a database error (which dooms the caller's
    # transaction anyway) escapes, and a concurrent insert of the same order is caught by the inner savepoint.
    with transaction.atomic(savepoint=False), memo_scope(), timeline_batch(), overflow_collected(system):
        order = Order.objects.select_for_update().filter(**key).first()
        if order is None:
            try:
                with transaction.atomic():
                    order = Order(
                        brand=brand,
                        source=source,
                        channel=channel,
                        platform_order_id=pid,
                        source_updated_at=canonical.updated_at,
                        is_manual_entry=source == OrderSource.MANUAL,
                        facility=facility_default_for(brand=brand),
                        **canonical_fields(canonical),
                    )
                    save_with_history(order, actor=actor, reason="received")
                    order.inserted_now = True  # nothing refers to it yet: see orders.models.created_now
                    lines_replace(order, lines_from(canonical.lines), actor=actor)
            except IntegrityError:
                order = Order.objects.select_for_update().filter(**key).first()
                if order is None:
                    raise
                return _ingest_update(order, canonical, actor=actor)
            where = {
                OrderSource.CHANNEL: f"{channel or 'the channel'}",
                OrderSource.MANUAL: "manual entry",
                OrderSource.FILE: "a file import",
            }.get(OrderSource(source), source)
            found = " (found by the reconciler)" if found_by_reconciler else ""
            timeline_add(order, OrderEventKind.RECEIVED, f"Received from {where}{found}", actor=actor)
            if str(canonical.status).lower() == "cancelled":
                order, _ = cancel_locked(order, actor=actor, reason="cancelled on the platform")
            else:
                order = process_locked(order, actor=actor)
            order.inserted_now = False
            return IngestResult(order, True, True, "created")
        return _ingest_update(order, canonical, actor=actor)


def order_create_manual(
    *, brand: Brand, canonical: CanonicalOrder, actor: Actor, source: str = OrderSource.MANUAL
) -> Order:
    """An order keyed in by a person (an email order while the channel is down): flagged as manual entry."""
    return order_ingest(canonical=canonical, brand=brand, source=source, actor=actor).order


def _order_key(*, brand: Brand, channel: SalesChannel | None, source: str, platform_order_id: str) -> dict[str, Any]:
    """A channel's order is (channel, platform order id); a manual or file order (brand, source, order id)."""
    if channel is not None:
        return {"channel": channel, "platform_order_id": platform_order_id}
    return {"brand": brand, "source": source, "channel__isnull": True, "platform_order_id": platform_order_id}


def _ingest_update(order: Order, canonical: CanonicalOrder, *, actor: Actor) -> IngestResult:
    incoming, applied_version = canonical.updated_at, order.source_updated_at
    if incoming is not None and applied_version is not None and incoming <= applied_version:
        return IngestResult(order, False, False, f"stale: {incoming.isoformat()} is not newer than the applied version")
    if order.state == OrderState.CANCELLED:
        return IngestResult(order, False, False, "the order is cancelled")
    if str(canonical.status).lower() == "cancelled":
        order, refused = cancel_locked(order, actor=actor, reason="cancelled on the platform")
        if refused:
            return IngestResult(order, False, False, "cancellation after packing: escalated")
        order.source_updated_at = incoming or applied_version
        save_with_history(
            order, actor=actor, reason="platform cancellation", fields=["source_updated_at", "updated_at"]
        )
        return IngestResult(order, False, True, "cancelled")
    fields = canonical_fields(canonical)
    kept, conflicts = fixes_keep(order, fields, lines_from(canonical.lines))
    if conflicts:
        conflicts_record(order, conflicts, actor=actor)
    lines = kept or []
    lines_changed = kept is not None and line_signature(lines) != stored_signature(order)
    changed = [name for name in MATERIAL_FIELDS if getattr(order, name) != fields[name]]
    if order.state in RELEASED_STATES and (changed or lines_changed):
        what = ", ".join([*(c.replace("delivery_", "") for c in changed), *(["lines"] if lines_changed else [])])
        reason = Reason("edit_after_release", f"the platform changed {what} after the order was released to pick")
        order_exception_open(
            order, kind=ExceptionKind.ORDER_EDIT_AFTER_RELEASE, summary="edited after release to pick", reasons=[reason]
        )
        timeline_add(order, OrderEventKind.EDIT_REFUSED, f"Update refused and escalated: {reason.message}", actor=actor)
        if conflicts:
            save_with_history(order, actor=actor, reason="update conflict", fields=["platform_conflicts", "updated_at"])
        return IngestResult(order, False, False, "edit after release to pick: escalated")
    for name, value in fields.items():
        setattr(order, name, value)
    order.source_updated_at = incoming or applied_version
    save_with_history(order, actor=actor, reason="updated from the platform")
    if lines_changed:
        allocation_release(order, actor=actor, why="the platform changed the lines")
        lines_replace(order, lines, actor=actor)
    if changed or lines_changed:
        what = ", ".join([*(c.replace("delivery_", "") for c in changed), *(["lines"] if lines_changed else [])])
        timeline_add(order, OrderEventKind.UPDATED, f"Updated from the platform: {what}", actor=actor)
        order = revise_locked(order, actor=actor, why="updated from the platform")
    else:
        order = process_locked(order, actor=actor)  # e.g. a short order retried by a newer payload
    return IngestResult(order, False, True, "updated")
