"""The floor hold: an order the warehouse already owns stops where it is, with every reason named, and resumes to the
state it was held from (`Order.held_from`). A short pick holds a picking order (its picked units stay in pick); the
carriers' work holds a packed order that no shipping rule covers or that misses customs data. Unlike `on_hold` (before
release: nothing allocated, the order is edited and re-run from validation), nothing is released or re-run here.

Also here, because a resumed order may be complete: the last line picked moves the order to `picked`."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import F

from inventory.services import stock_allocate, stock_start_pick
from orders.models import (
    FLOOR_HOLDABLE_STATES,
    OPERATE_ORDER,
    Order,
    OrderEventKind,
    OrderState,
    PickLine,
)
from orders.services.common import FORCE_ORDER, order_label, order_lock, reasons_text, require_perm
from orders.services.timeline import order_exception_open, timeline_add
from warehouse.errors import InvalidInput, NotPermitted, Reason, TransitionNotAllowed
from warehouse.limits import text_within
from warehouse.models import ExceptionKind
from warehouse.services import exceptions_resolve_if_cleared
from warehouse.transitions import Actor, transition_apply

SHORT_PICK = "short_pick"


def hold_on_floor_locked(order: Order, *, reasons: Sequence[Reason], kind: ExceptionKind | str, actor: Actor) -> Order:
    """Hold a locked picking or packed order on the floor (or add reasons to its floor hold), with an exception."""
    if not reasons:
        raise InvalidInput("Name why the order is held.", reasons=[Reason("reason_required", "Give a reason")])
    body = [r.as_dict() for r in reasons]
    if order.state == OrderState.FLOOR_HOLD:
        order.hold_reasons = [*order.hold_reasons, *(r for r in body if r not in order.hold_reasons)]
        order.save(update_fields=["hold_reasons", "updated_at"])
    elif order.state in FLOOR_HOLDABLE_STATES:
        order = transition_apply(
            obj=order,
            name="hold_on_floor",
            actor=actor,
            reason=reasons_text(reasons)[:300],
            changes={"hold_reasons": body},
            lock=False,
        )
    else:
        raise TransitionNotAllowed(
            f"Order {order_label(order)} is {order.get_state_display().lower()}: only a picking or packed order is "
            "held on the floor.",
            reasons=[Reason("wrong_state", f"a floor hold needs state picking or packed, not {order.state}")],
        )
    timeline_add(
        order,
        OrderEventKind.FLOOR_HOLD,
        f"Held on the floor: {reasons_text(reasons)}",
        actor=actor,
        data={"reasons": body, "held_from": order.held_from},
    )
    order_exception_open(
        order, kind=ExceptionKind(kind), summary=f"held on the floor: {reasons_text(reasons)}", reasons=list(reasons)
    )
    return order


def order_hold_on_floor(
    *, order: Order, reasons: Sequence[Reason], actor: Actor, kind: ExceptionKind | str = ExceptionKind.ORDER_ON_HOLD
) -> Order:
    """Hold a picking or packed order on the floor naming every reason (e.g. `no_shipping_rule`, `customs_missing`
    for a packed order), with one open exception of `kind`; `order_resume_from_floor_hold` takes it back."""
    with transaction.atomic():
        return hold_on_floor_locked(order_lock(order), reasons=reasons, kind=kind, actor=actor)


def order_resume_from_floor_hold(
    *, order: Order, actor: Actor, note: str, kind: ExceptionKind | str | None = None
) -> Order:
    """Resume a floor-held order to the state it was held from, closing its open exceptions of `kind` (default: the
    short-pick exception for a picking order, the order-on-hold one for a packed order) with `note`.

    Held from picking, this is the manager's "the stock was found": the units reported short are taken again
    (allocated and in pick); when the shelf still lacks them it is refused, naming each SKU, and nothing changes.
    Resuming picking needs `orders.force_order_transition` (a manager's decision); a packed order, operating rights."""
    require_perm(actor, OPERATE_ORDER, "You may not resume orders.")
    note = text_within(note, field="note", limit=300).strip()
    if not note:
        raise InvalidInput("Say why the hold is over.", reasons=[Reason("note", "the note is blank")])
    with transaction.atomic():
        order = order_lock(order)
        if order.state != OrderState.FLOOR_HOLD:
            raise TransitionNotAllowed(
                f"Order {order_label(order)} is {order.get_state_display().lower()}, not held on the floor.",
                reasons=[Reason("wrong_state", "resume needs an order held on the floor")],
            )
        if order.held_from == OrderState.PICKING:
            if actor is not None and not actor.has_perm(FORCE_ORDER):
                raise NotPermitted("You may not resume picking: a manager decides a short pick.")
            _take_short_units_again(order, actor=actor)
            return resume_locked(order, actor=actor, note=note, kind=kind or ExceptionKind.SHORT_PICK)
        return resume_locked(order, actor=actor, note=note, kind=kind or ExceptionKind.ORDER_ON_HOLD)


def _take_short_units_again(order: Order, *, actor: Actor) -> None:
    for line in PickLine.objects.filter(order=order, short__gt=0).select_related("sku", "facility").order_by("id"):
        event = f"order:{order.pk}:refound:{line.pk}:{line.short_reports}"
        reference = f"order {order_label(order)}: short units found"
        stock_allocate(
            facility=line.facility, lines=[(line.sku, line.short)], event_id=event, actor=actor, reference=reference
        )
        stock_start_pick(
            facility=line.facility,
            lines=[(line.sku, line.short)],
            event_id=f"{event}:pick",
            actor=actor,
            reference=reference,
        )
        timeline_add(
            order,
            OrderEventKind.PICK_ACTIVITY,
            f"{line.short} × {line.sku.code} found at {line.facility.code}: back in pick",
            actor=actor,
        )
        line.short = 0
        line.save(update_fields=["short"])


def resume_locked(order: Order, *, actor: Actor, note: str, kind: ExceptionKind | str) -> Order:
    """Back to the state the locked, floor-held order was held from; picked at once when nothing is left to pick."""
    name = "resume_picking" if order.held_from == OrderState.PICKING else "resume_packed"
    was = order.held_from
    order = transition_apply(obj=order, name=name, actor=actor, reason=note, lock=False)
    timeline_add(order, OrderEventKind.FLOOR_RESUMED, f"Floor hold over ({was} again): {note}", actor=actor)
    exceptions_resolve_if_cleared(subject=order, kind=kind, note=note)
    if order.state == OrderState.PICKING:
        order = confirm_if_all_picked(order, actor=actor)
    return order


def confirm_if_all_picked(order: Order, *, actor: Actor) -> Order:
    """Picking → picked when no pick line has units left (seed 001: "triggers on final pick confirmation")."""
    lines = PickLine.objects.filter(order=order)
    if not lines.exists() or lines.filter(picked__lt=F("expected")).exists():
        return order
    return confirm_picked_locked(order, actor=actor, reason="last line picked")


def confirm_picked_locked(order: Order, *, actor: Actor, reason: str, words: str = "") -> Order:
    order = transition_apply(obj=order, name="confirm_picked", actor=actor, reason=reason, lock=False)
    timeline_add(order, OrderEventKind.PICKED, f"Picked: every line confirmed{words}; goods go to packing", actor=actor)
    exceptions_resolve_if_cleared(subject=order, kind=ExceptionKind.PICKING_STALLED, note="Picking finished.")
    return order
