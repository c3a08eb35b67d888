"""What every order service shares: received values as whole text (never a prefix), the order lock, its label
in messages and the permission check."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from orders.models import (
    Order,
)
from warehouse.errors import NotPermitted, Reason
from warehouse.limits import as_text, refuse_too_long, too_long
from warehouse.transitions import Actor

CHANGE_ORDER = "orders.change_order"


FORCE_ORDER = "orders.force_order_transition"


CLOSE_SHIPMENT = "orders.close_shipment"


OPERATE_SHIPMENT = "orders.operate_shipment"


# Fields of one channel ingestion whose value did not fit (see `text_received`); None outside one (a person is
# refused instead).
_overflow: ContextVar[list[Reason] | None] = ContextVar("orders_overflow", default=None)


def text_received(value: Any, limit: int, field: str) -> str:
    """A received value as whole text, never a prefix (`warehouse.limits`). Over `limit`: a person's input is refused
    (`TooLong`, 400 naming `field`); inside a channel's ingestion the field is recorded, so validation holds the order
    naming it, and stored empty (the whole value stays in the delivery's payload)."""
    text = as_text(value)
    reason = too_long(field, text, limit)
    if reason is None:
        return text
    pending = _overflow.get()
    if pending is None:
        refuse_too_long([reason])
    elif reason not in pending:
        pending.append(reason)
    return ""


@contextmanager
def overflow_collected(system: bool) -> Iterator[None]:
    """A channel's (or file's) ingestion: values that do not fit hold the order instead of refusing it."""
    token = _overflow.set([] if system else None)
    try:
        yield
    finally:
        _overflow.reset(token)


def order_lock(order: Order) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("brand", "facility", "channel").get(pk=order.pk)


def order_label(order: Order) -> str:
    return order.platform_order_id or f"#{order.pk}"


def reasons_text(reasons: Sequence[Reason]) -> str:
    return "; ".join(r.message for r in reasons)


def require_perm(actor: Actor, perm: str, message: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise NotPermitted(message)


def overflow_reasons() -> list[Reason]:
    """The fields of the current channel ingestion whose value did not fit: validation holds the order naming them."""
    return list(_overflow.get() or [])
