"""The floor: release to pick (allocated → in pick), pick activity, picked, packed."""

from __future__ import annotations

from django.db import transaction

from inventory.services import (
    stock_start_pick,
)
from orders.models import (
    OPERATE_ORDER,
    Order,
    OrderEventKind,
    OrderState,
)
from orders.services.common import order_label, order_lock, require_perm
from orders.services.legs import legs_move, legs_where, order_legs
from orders.services.timeline import timeline_add
from warehouse.errors import Reason, TransitionNotAllowed
from warehouse.limits import text_within
from warehouse.models import ExceptionKind
from warehouse.services import exceptions_resolve_if_cleared
from warehouse.transitions import Actor, transition_apply


def order_release_to_pick(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """Accepted → picking: the allocation moves to in pick. From here the warehouse owns the order."""
    with transaction.atomic():
        order = transition_apply(obj=order, name="release_to_pick", actor=actor, reason=reason or "released to pick")
        legs = order_legs(order)
        legs_move(order, legs, stock_start_pick, "start_pick", actor=actor, reference=f"order {order_label(order)}")
        where = f" at {legs_where(legs)}" if len(legs) > 1 else ""
        timeline_add(order, OrderEventKind.RELEASED_TO_PICK, f"Released to pick{where}: allocated stock is now in pick",
               actor=actor)  # fmt: skip
        return order


def order_record_pick_activity(*, order: Order, actor: Actor, note: str = "") -> Order:
    """A pick scan or note while picking; it keeps the 4-hour stall alarm quiet."""
    require_perm(actor, OPERATE_ORDER, "You may not record pick activity.")
    note = text_within(note, field="note", limit=500)
    with transaction.atomic():
        order = order_lock(order)
        if order.state != OrderState.PICKING:
            raise TransitionNotAllowed(
                f"Order {order_label(order)} is {order.state}, not picking.",
                reasons=[Reason("wrong_state", f"pick activity needs state picking, not {order.state}")],
            )
        timeline_add(order, OrderEventKind.PICK_ACTIVITY, note or "Pick activity", actor=actor)
        exceptions_resolve_if_cleared(subject=order, kind=ExceptionKind.PICKING_STALLED, note="Picking resumed.")
        return order


def order_confirm_picked(*, order: Order, actor: Actor, reason: str = "") -> Order:
    with transaction.atomic():
        order = transition_apply(obj=order, name="confirm_picked", actor=actor, reason=reason or "last line picked")
        timeline_add(order, OrderEventKind.PICKED, "Picked: every line confirmed; goods go to packing", actor=actor)
        exceptions_resolve_if_cleared(subject=order, kind=ExceptionKind.PICKING_STALLED, note="Picking finished.")
        return order


def order_pack(*, order: Order, actor: Actor, reason: str = "") -> Order:
    with transaction.atomic():
        order = transition_apply(obj=order, name="pack", actor=actor, reason=reason or "packed")
        timeline_add(order, OrderEventKind.PACKED, "Packed: staged for the carrier", actor=actor)
        return order
