"""The order's pipeline on a locked order: validate → route → allocate and accept, or hold with every reason named;
cancel, and a manager's force. `order_accept` reads top to bottom here (its stock steps are in `stock`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from inventory.services import (
    stock_unpick,
)
from orders.allocation.preorders import preorder_claims_release
from orders.models import (
    CANCELLABLE_STATES,
    HOLDABLE_STATES,
    OPERATE_ORDER,
    Order,
    OrderEventKind,
    OrderLine,
    OrderState,
    PickLine,
    allocation_rows,
    held_for_split,
    order_lines,
)
from orders.services.allocate import allocation_apply
from orders.services.common import FORCE_ORDER, order_label, order_lock, overflow_reasons, reasons_text, require_perm
from orders.services.legs import legs_move, legs_where, order_legs
from orders.services.stock import allocation_forget, allocation_release
from orders.services.timeline import exceptions_clear, order_exception_open, timeline_add
from orders.validation import order_reasons
from warehouse.errors import InvalidInput, NotPermitted, Reason, TransitionNotAllowed
from warehouse.history import save_with_history
from warehouse.limits import text_within
from warehouse.models import ExceptionKind, Facility
from warehouse.services import exceptions_resolve_if_cleared
from warehouse.transitions import Actor, transition_apply

# Transitions a manager may force through `order_force`. Those that move stock (release to pick, cancel, dispatch)
# and acceptance (a short order is never accepted) go through their own services only.
FORCEABLE = ("validate", "confirm_picked", "pack", "mark_in_transit", "deliver")


def order_validate(*, order: Order, actor: Actor) -> Order:
    """Check every mandatory field; invalid → on hold with every reason named (and an exception)."""
    require_perm(actor, OPERATE_ORDER, "You may not validate orders.")  # a re-check of a held order writes its reasons
    with transaction.atomic():
        order = order_lock(order)
        if order.state not in (OrderState.RECEIVED, OrderState.ON_HOLD):
            return transition_apply(obj=order, name="validate", actor=actor)  # raises: wrong state
        return _validate(order, actor=actor)


def order_accept(*, order: Order, actor: Actor) -> Order:
    """Allocate every line (all or nothing) and accept; short → on hold with reason "short". An on-hold order is
    re-validated first (the retry after stock arrived)."""
    require_perm(actor, OPERATE_ORDER, "You may not accept orders.")  # the re-validation of a held order writes
    with transaction.atomic():
        order = order_lock(order)
        reroute = held_for_split(order)  # held because it would split: stock may now be whole somewhere
        if order.state == OrderState.ON_HOLD:
            order = _validate(order, actor=actor)
        if order.state != OrderState.VALIDATED:
            if order.state == OrderState.ON_HOLD:
                return order
            return transition_apply(obj=order, name="accept", actor=actor)  # raises: wrong state
        return _accept(order, actor=actor, reroute=reroute)


def _accept(order: Order, *, actor: Actor, reroute: bool) -> Order:
    """Allocate every line (all or nothing: `allocation_apply`), then accept; short → on hold, never half-accepted."""
    shortfall = allocation_apply(order, actor=actor, reroute=reroute)
    if shortfall is not None:
        return _hold(order, reasons=[shortfall.reason], kind=shortfall.kind, actor=actor)
    order = transition_apply(obj=order, name="accept", actor=actor, reason="complete allocation", lock=False)
    timeline_add(order, OrderEventKind.ACCEPTED, "Accepted: stock is allocated; ready to release to pick", actor=actor)
    exceptions_clear(order, ExceptionKind.ORDER_SHORT, "Stock is now allocated.")
    return order


def _validate(order: Order, *, actor: Actor) -> Order:
    lines = order_lines(order)
    stored = [line.sku_id for line in lines]
    reasons = order_reasons(order=order, lines=lines) + overflow_reasons()
    _keep_resolved(lines, stored, actor=actor)
    reasons = _without_overridden(order, reasons)
    if reasons:
        return _hold(order, reasons=reasons, kind=ExceptionKind.ORDER_ON_HOLD, actor=actor)
    order = transition_apply(
        obj=order, name="validate", actor=actor, reason="every mandatory field is valid", lock=False
    )
    timeline_add(
        order, OrderEventKind.VALIDATED, "Validated: order id, SKUs, quantities, address and phone", actor=actor
    )
    exceptions_clear(order, ExceptionKind.ORDER_ON_HOLD, "The order now validates.")
    return order


def _keep_resolved(lines: Sequence[OrderLine], stored: Sequence[int | None], *, actor: Actor) -> None:
    """Each line keeps the SKU its code resolved to in validation (or that it found none)."""
    for line, sku_id in zip(lines, stored, strict=True):
        if line.sku_id != sku_id:
            line._history_user = actor  # type: ignore[attr-defined]
            line.save(update_fields=["sku"])


def _without_overridden(order: Order, reasons: list[Reason]) -> list[Reason]:
    """A manager forced validation past some reasons (`order_force`): skip exactly those while they read the same.
    An override whose reason is gone (the data changed) is dropped, so a later problem holds the order again."""
    forced = order.forced_past or []
    if not forced:
        return reasons
    order.forced_past = [r.as_dict() for r in reasons if r.as_dict() in forced]  # saved with the hold or validation
    return [r for r in reasons if r.as_dict() not in forced]


def _hold(order: Order, *, reasons: list[Reason], kind: ExceptionKind, actor: Actor) -> Order:
    """Hold with every reason named, and put the same reasons in the exception queue. Nothing stays allocated."""
    allocation_release(order, actor=actor, why="the order is on hold")
    body = [r.as_dict() for r in reasons]
    if order.state == OrderState.ON_HOLD:
        order.hold_reasons = body
        save_with_history(
            order, actor=actor, reason="hold reasons updated", fields=["hold_reasons", "forced_past", "updated_at"]
        )
    else:
        order = transition_apply(
            obj=order, name="hold", actor=actor, reason=reasons_text(reasons)[:300], changes={"hold_reasons": body},
            lock=False,
        )  # fmt: skip
    timeline_add(order, OrderEventKind.HELD, f"On hold: {reasons_text(reasons)}", actor=actor, data={"reasons": body})
    summary = "short of stock" if kind == ExceptionKind.ORDER_SHORT else "on hold"
    order_exception_open(order, kind=kind, summary=f"{summary}: {reasons_text(reasons)}", reasons=reasons)
    return order


def process_locked(order: Order, *, actor: Actor) -> Order:
    """Take a received (or on-hold) order as far as it can go: validate, then allocate and accept."""
    if order.state not in (OrderState.RECEIVED, OrderState.ON_HOLD):
        return order
    # New, revised or held for a split: (re)route. A retry of an order held short keeps its facility.
    fresh = order.state == OrderState.RECEIVED or held_for_split(order)
    order = _validate(order, actor=actor)
    if order.state == OrderState.VALIDATED:
        order = _accept(order, actor=actor, reroute=fresh)
    return order


def revise_locked(order: Order, *, actor: Actor, why: str) -> Order:
    """An edit before release to pick sends the order back through validation and allocation."""
    if order.state == OrderState.RECEIVED:
        return process_locked(order, actor=actor)
    order = transition_apply(obj=order, name="revise", actor=actor, reason=why, lock=False)
    return process_locked(order, actor=actor)


def order_hold(*, order: Order, reasons: list[Reason], actor: Actor) -> Order:
    """A person holds an order before pick, naming why; its allocation is released."""
    if not reasons:
        raise InvalidInput("Name why the order is held.", reasons=[Reason("reason_required", "Give a reason")])
    require_perm(actor, OPERATE_ORDER, "You may not hold orders.")  # holding a held order again writes its reasons
    with transaction.atomic():
        order = order_lock(order)
        if order.state not in (*HOLDABLE_STATES, OrderState.ON_HOLD):
            return transition_apply(obj=order, name="hold", actor=actor)  # raises: wrong state
        return _hold(order, reasons=reasons, kind=ExceptionKind.ORDER_ON_HOLD, actor=actor)


def order_cancel(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """Before packing: cancelled, allocation released. After packing: refused (`TransitionNotAllowed`) and escalated
    as a `CANCEL_AFTER_PACK` exception, which is committed before the error is raised."""
    require_perm(actor, OPERATE_ORDER, "You may not cancel orders.")  # before the escalation below writes anything
    reason = text_within(reason, field="reason", limit=300) or "cancelled"
    with transaction.atomic():
        order, refused = cancel_locked(order_lock(order), actor=actor, reason=reason)
    if refused:
        raise TransitionNotAllowed(
            f"Order {order_label(order)} is {order.get_state_display().lower()}: it can no longer be cancelled; "
            "a manager has been asked to decide.",
            reasons=[Reason("cancel_after_pack", "cancellation is allowed before packing only")],
        )
    return order


def cancel_locked(order: Order, *, actor: Actor, reason: str) -> tuple[Order, bool]:
    """Cancel before packing (allocation released); after packing refuse and escalate. Returns (order, refused)."""
    if order.state == OrderState.CANCELLED:
        return order, False
    held_packed = order.state == OrderState.FLOOR_HOLD and order.held_from != OrderState.PICKING
    if order.state not in CANCELLABLE_STATES or held_packed:
        why = Reason("cancel_after_pack", f"the order is already {order.get_state_display().lower()}: {reason}")
        order_exception_open(
            order, kind=ExceptionKind.CANCEL_AFTER_PACK, summary="cancellation requested after packing", reasons=[why]
        )
        timeline_add(
            order, OrderEventKind.CANCEL_REFUSED, f"Cancellation refused and escalated: {why.message}", actor=actor
        )
        return order, True
    was = order.state
    order = transition_apply(
        obj=order, name="cancel", actor=actor, reason=reason, changes={"cancel_reason": reason}, lock=False
    )
    if was == OrderState.FLOOR_HOLD:
        _put_back_floor_held(order, actor=actor)
    elif was in (OrderState.PICKING, OrderState.PICKED) and allocation_rows(order):
        # The units are in pick: they go back to the shelf (in pick → available), ledgered once per order round and
        # facility.
        units = sum(qty for _, qty in order.allocated_stock())
        legs = order_legs(order)
        legs_move(order, legs, stock_unpick, "unpick", actor=actor,
                   reference=f"order {order_label(order)} cancelled while {was}")  # fmt: skip
        allocation_forget(
            order, legs, actor=actor, reason="picked units put back",
            message=f"Cancelled while {was}: {units} picked unit(s) put back to available at {legs_where(legs)}",
        )  # fmt: skip
    else:
        allocation_release(order, actor=actor, why="the order was cancelled")
    preorder_claims_release(order=order, actor=actor, why="the order was cancelled")
    timeline_add(order, OrderEventKind.CANCELLED, f"Cancelled: {reason}", actor=actor)
    for kind in (ExceptionKind.ORDER_ON_HOLD, ExceptionKind.ORDER_SHORT):
        exceptions_resolve_if_cleared(subject=order, kind=kind, note="The order was cancelled.")
    return order, False


def _put_back_floor_held(order: Order, *, actor: Actor) -> None:
    """A short-picked order cancelled: what is still in pick (every pick line but its short units, which already left
    in pick) goes back to available, per facility, ledgered once per order round."""
    at: dict[int, tuple[Facility, dict[int, list[Any]]]] = {}
    for pick in PickLine.objects.filter(order=order).select_related("sku", "facility"):
        units = pick.expected - pick.short
        if units:
            skus = at.setdefault(pick.facility_id, (pick.facility, {}))[1]
            skus.setdefault(pick.sku_id, [pick.sku, 0])[1] += units
    for facility, skus in at.values():
        stock_unpick(
            facility=facility,
            lines=[(sku, n) for sku, n in skus.values()],
            actor=actor,
            event_id=f"order:{order.pk}:unpick:{order.stock_round}:{facility.code}",
            reference=f"order {order_label(order)} cancelled while held on the floor",
        )
    legs = order_legs(order)
    allocation_forget(
        order,
        legs,
        actor=actor,
        reason="picked units put back",
        message="Cancelled while held on the floor: the units in pick were put back to available",
    )


def order_force(*, order: Order, name: str, actor: Actor, reason: str) -> Order:
    """A manager overrides a guard (needs `orders.force_order_transition` and a reason). A forced validation is the
    manager's explicit decision on a held order: it then allocates as usual (see `_force_validate`)."""
    if actor is None or not actor.has_perm(FORCE_ORDER):
        raise NotPermitted("You may not force an order transition.")
    if name not in FORCEABLE:
        raise InvalidInput(
            f"{name} cannot be forced; use its own step.",
            reasons=[Reason("not_forceable", f"forceable: {', '.join(FORCEABLE)}")],
        )
    with transaction.atomic():
        order = order_lock(order)
        was = order.state
        if name == "validate" and was in (OrderState.RECEIVED, OrderState.ON_HOLD):
            return _force_validate(order, actor=actor, reason=reason)
        order = transition_apply(obj=order, name=name, actor=actor, reason=reason, force=True)
        timeline_add(order, OrderEventKind.FORCED, f"Forced {name.replace('_', ' ')} ({was} → {order.state}): {reason}",
               actor=actor, data={"from": was, "to": order.state})  # fmt: skip
        return order


# Reasons a forced validation cannot override: a line without a known SKU or a positive quantity cannot be
# allocated, picked or shipped. The manager fixes the line (or cancels it) on the order page instead.
LINE_REASONS = ("lines_missing", "sku_missing", "unknown_sku", "alias_expired", "quantity_invalid")


def _force_validate(order: Order, *, actor: Actor, reason: str) -> Order:
    """The manager overrides the data reasons the order is held for: they are recorded on the order (`forced_past`)
    so no later validation holds it for those same reasons until the data changes, and the one on-hold exception
    is resolved with the manager's reason. Stock is not overridden: short, it waits in the one `short` exception."""
    lines = order_lines(order)
    stored = [line.sku_id for line in lines]
    reasons = order_reasons(order=order, lines=lines)
    blocking = [r for r in reasons if r.code in LINE_REASONS]
    if blocking:
        raise TransitionNotAllowed(
            f"Cannot force validation of order {order_label(order)}: {reasons_text(blocking)}. Fix the line or "
            "cancel it on the order page.",
            reasons=blocking,
        )
    _keep_resolved(lines, stored, actor=actor)  # e.g. through an alias made since the hold
    was = order.state
    overridden = [r.as_dict() for r in reasons]
    order = transition_apply(
        obj=order, name="validate", actor=actor, reason=reason, force=True, changes={"forced_past": overridden},
        lock=False,
    )  # fmt: skip
    timeline_add(order, OrderEventKind.FORCED, f"Forced validate ({was} → {order.state}): {reason}", actor=actor,
           data={"from": was, "to": order.state, "overridden": [r["code"] for r in overridden]})  # fmt: skip
    exceptions_resolve_if_cleared(subject=order, kind=ExceptionKind.ORDER_ON_HOLD, note=f"Forced: {reason}")
    return _accept(order, actor=actor, reroute=True)
