"""The order's timeline (plain-words `OrderEvent` lines, batched per ingestion) and the exceptions an order opens
and clears."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.utils import timezone

from orders.models import (
    Order,
    OrderEvent,
    OrderState,
    created_now,
)
from orders.services.common import order_label
from warehouse.errors import Reason
from warehouse.models import ExceptionKind
from warehouse.services import exception_open, exceptions_resolve_if_cleared
from warehouse.transitions import Actor

# Timeline lines of one ingestion, written in one INSERT at its end (same transaction, same order of lines).
_timeline: ContextVar[list[OrderEvent] | None] = ContextVar("orders_timeline_batch", default=None)


@contextmanager
def timeline_batch() -> Iterator[None]:
    if _timeline.get() is not None:
        yield
        return
    token = _timeline.set([])
    try:
        yield
        OrderEvent.objects.bulk_create(_timeline.get() or [])
    finally:
        _timeline.reset(token)


def timeline_add(
    order: Order, kind: str, message: str, *, actor: Actor, data: dict[str, Any] | None = None
) -> OrderEvent:
    """Append one line to the timeline; it is also the order's latest activity. `last_activity_at` feeds the
    stalled-picking alarm, so while picking it is written at once; in other states it is saved with the order's next
    save (an ingestion saves the order at each transition anyway, and an extra UPDATE per line costs throughput)."""
    at = timezone.now()
    event = OrderEvent(order=order, kind=kind, message=message[:500], at=at, actor=actor, data=data or {})
    batch = _timeline.get()
    if batch is None:
        event.save()
    else:
        batch.append(event)
    order.last_activity_at = at
    if order.state == OrderState.PICKING:
        Order.objects.filter(pk=order.pk).update(last_activity_at=at)
    return event


def exceptions_clear(order: Order, kind: ExceptionKind, note: str) -> None:
    """Close the order's open exceptions of `kind`; an order created in this transaction has none to look for."""
    if not created_now(order):
        exceptions_resolve_if_cleared(subject=order, kind=kind, note=note)


def order_exception_open(
    order: Order, *, kind: ExceptionKind, summary: str, reasons: list[Reason], detail: dict[str, Any] | None = None
) -> None:
    exception_open(
        kind=kind,
        summary=f"Order {order_label(order)}: {summary}",
        reasons=reasons,
        subject=order,
        brand=order.brand,
        facility=order.facility,
        detail=detail,
    )
