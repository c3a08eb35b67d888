"""The floor: release to pick (allocated → in pick, and the pick list), pick confirmation by scan with quantities, the
last line picked → picked, and the short pick (a count task, an exception and a floor hold until a manager decides:
the stock was found, or the short line is cancelled)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.counts import count_task_open
from inventory.kits import kit_parts
from inventory.services import sku_resolve_scan, stock_start_pick, stock_unpick
from orders.models import (
    OPERATE_ORDER,
    AllocationRow,
    Order,
    OrderEventKind,
    OrderLine,
    OrderState,
    PickLine,
    allocation_rows,
    allocation_rows_remember,
    forget_lines,
    order_lines,
)
from orders.services.common import FORCE_ORDER, order_label, order_lock, require_perm
from orders.services.floor import (
    SHORT_PICK,
    confirm_if_all_picked,
    confirm_picked_locked,
    hold_on_floor_locked,
    resume_locked,
)
from orders.services.legs import legs_move, legs_where, order_legs
from orders.services.timeline import timeline_add
from warehouse.errors import Conflict, InvalidInput, NotPermitted, Reason, TransitionNotAllowed
from warehouse.limits import text_within
from warehouse.models import ExceptionKind
from warehouse.services import exceptions_resolve_if_cleared
from warehouse.transitions import Actor, transition_apply


def order_release_to_pick(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """Accepted → picking: the allocation moves to in pick and the pick list is written. From here the warehouse owns
    the order."""
    require_perm(actor, OPERATE_ORDER, "You may not release orders to pick.")
    with transaction.atomic():
        order = transition_apply(obj=order, name="release_to_pick", actor=actor, reason=reason or "released to pick")
        legs = order_legs(order)
        legs_move(order, legs, stock_start_pick, "start_pick", actor=actor, reference=f"order {order_label(order)}")
        pick_lines_write(order)
        where = f" at {legs_where(legs)}" if len(legs) > 1 else ""
        timeline_add(
            order,
            OrderEventKind.RELEASED_TO_PICK,
            f"Released to pick{where}: allocated stock is now in pick",
            actor=actor,
        )
        return order


def pick_lines_write(order: Order) -> list[PickLine]:
    """One pick line per allocation row, a kit row one per component (its units times the row's kits)."""
    rows = allocation_rows(order)
    recipe = kit_parts(row.sku_id for row in rows if row.sku.is_kit)
    found: list[PickLine] = []
    for row in rows:
        parts = [(part.component, part.quantity) for part in recipe.get(row.sku_id, [])] if row.sku.is_kit else []
        for sku, per_unit in parts or [(row.sku, 1)]:
            found.append(
                PickLine(
                    order=order,
                    row=row,
                    line_id=row.line_id,
                    facility=row.facility,
                    sku=sku,
                    expected=per_unit * row.quantity,
                )
            )
    return PickLine.objects.bulk_create(found, batch_size=500)


def _quantity(value: Any) -> int:
    text = str(value).strip() if value is not None and not isinstance(value, bool) else ""
    digits = text[1:] if text.startswith("-") else text
    if not digits.isdigit() or int(text) <= 0:
        message = f"Quantity {value!r} is not a whole number of units of at least 1"
        raise InvalidInput(message, reasons=[Reason("quantity_not_positive", message)])
    return int(text)


def _require_picking(order: Order) -> None:
    if order.state == OrderState.FLOOR_HOLD:
        raise TransitionNotAllowed(
            f"Order {order_label(order)} is held on the floor: a manager decides the short pick first.",
            reasons=[Reason("held_on_floor", "picking waits for the manager's decision on the hold")],
        )
    if order.state != OrderState.PICKING:
        raise TransitionNotAllowed(
            f"Order {order_label(order)} is {order.state}, not picking.",
            reasons=[Reason("wrong_state", f"picking needs state picking, not {order.state}")],
        )


def _pick_line(order: Order, pick_line: Any) -> PickLine:
    try:
        pk = int(pick_line)
    except (TypeError, ValueError):
        pk = 0
    found = PickLine.objects.select_related("sku", "facility", "line").filter(order=order, pk=pk).first()
    if found is None:
        message = f"Order {order_label(order)} has no pick line {pick_line!r}"
        raise InvalidInput(message, reasons=[Reason("pick_line_unknown", message)])
    return found


def order_pick(*, order: Order, code: str, quantity: Any = 1, actor: Actor, pick_line: Any = None) -> Order:
    """Confirm `quantity` units picked by a scan of the SKU's barcode or code (aliases and legacy barcodes resolve
    within their windows), on pick line `pick_line` or, without one, on the open lines of the scanned SKU in order.
    Refused, changing nothing: a wrong SKU (the expected SKU named), more than the line still needs, a quantity below
    1, an unknown barcode. The last unit picked moves the order to `picked`."""
    require_perm(actor, OPERATE_ORDER, "You may not pick orders.")
    units = _quantity(quantity)
    with transaction.atomic():
        order = order_lock(order)
        _require_picking(order)
        resolution = sku_resolve_scan(brand=order.brand, code=code)
        sku = resolution.sku
        if pick_line not in (None, ""):
            target = _pick_line(order, pick_line)
            if target.sku_id != sku.pk:
                message = f"Scanned {sku.code}, but this line expects {target.sku.code}"
                raise InvalidInput(message, reasons=[Reason("wrong_sku", message)])
            lines = [target]
        else:
            open_lines = PickLine.objects.select_related("sku", "facility", "line").filter(order=order)
            lines = list(open_lines.filter(sku=sku, picked__lt=F("expected")).order_by("id"))
            if not lines:
                expected = open_lines.filter(picked__lt=F("expected")).order_by("id").first()
                hint = f"; the next line expects {expected.sku.code}" if expected is not None else ""
                message = f"Scanned {sku.code}, which order {order_label(order)} does not need{hint}"
                raise InvalidInput(message, reasons=[Reason("wrong_sku", message)])
        left = sum(line.expected - line.picked - line.short for line in lines)
        if units > left:
            message = f"{sku.code}: {units} scanned, but only {left} more allocated to pick"
            raise InvalidInput(message, reasons=[Reason("over_pick", message)])
        now, todo, done = timezone.now(), units, []
        for line in lines:
            take = min(todo, line.expected - line.picked - line.short)
            if take <= 0:
                continue
            line.picked, line.picked_at, line.picked_by = line.picked + take, now, actor
            line.save(update_fields=["picked", "picked_at", "picked_by"])
            done.append(f"{take} × {sku.code} (line {line.line.line_number})")
            todo -= take
        warn = "; ".join(r.message for r in resolution.warnings)
        timeline_add(
            order,
            OrderEventKind.PICK_ACTIVITY,
            f"Picked {', '.join(done)}" + (f" ({warn})" if warn else ""),
            actor=actor,
        )
        exceptions_resolve_if_cleared(subject=order, kind=ExceptionKind.PICKING_STALLED, note="Picking resumed.")
        return confirm_if_all_picked(order, actor=actor)


def order_short_pick(*, order: Order, pick_line: Any, actor: Actor, note: str = "") -> Order:
    """The picker finds fewer units on the shelf than the line still needs. The missing units leave "in pick" (so the
    shelf can be counted true), a count task and a `short_pick` exception are opened, and the order is held on the
    floor with reason `short_pick`; the units already picked stay in pick. Nothing moves on until a manager decides:
    the stock was found (`order_resume_from_floor_hold`) or the short line is cancelled (`order_cancel_short_line`)."""
    require_perm(actor, OPERATE_ORDER, "You may not pick orders.")
    note = text_within(note, field="note", limit=200)
    with transaction.atomic():
        order = order_lock(order)
        _require_picking(order)
        line = _pick_line(order, pick_line)
        missing = line.expected - line.picked - line.short
        if missing <= 0:
            message = f"Line {line.line.line_number} ({line.sku.code}) is picked in full: nothing is short"
            raise Conflict(message, reasons=[Reason("nothing_short", message)])
        line.short_reports += 1
        stock_unpick(
            facility=line.facility,
            lines=[(line.sku, missing)],
            actor=actor,
            event_id=f"order:{order.pk}:short:{line.pk}:{line.short_reports}",
            reference=f"order {order_label(order)}: short pick, {missing} not on the shelf",
        )
        line.short += missing
        line.save(update_fields=["short", "short_reports"])
        words = (
            f"line {line.line.line_number}: {missing} of {line.expected} × {line.sku.code} not on the shelf at "
            f"{line.facility.code}"
        )
        task = count_task_open(
            sku=line.sku,
            facility=line.facility,
            actor=actor,
            reason=f"short pick on order {order_label(order)}: {missing} × {line.sku.code} missing",
        )
        timeline_add(
            order,
            OrderEventKind.SHORT_PICK,
            f"Short pick, {words}" + (f" ({note})" if note else "") + f"; count task #{task.pk} opened",
            actor=actor,
            data={"count_task": task.pk},
        )
        return hold_on_floor_locked(
            order, reasons=[Reason(SHORT_PICK, f"Short pick, {words}")], kind=ExceptionKind.SHORT_PICK, actor=actor
        )


def order_cancel_short_line(*, order: Order, line_number: Any, actor: Actor, reason: str) -> Order:
    """A manager cancels a short line after release (a recorded override of the rule that an order is not edited
    after release to pick), with a reason: its units in pick go back to the shelf, the line stays on the order marked
    cancelled, and once no line is short the order goes on (picking, or picked when nothing is left to pick)."""
    if actor is None or not actor.has_perm(FORCE_ORDER):
        raise NotPermitted("You may not cancel a line after release: a manager decides a short pick.")
    reason = text_within(reason, field="reason", limit=300).strip()
    if not reason:
        raise InvalidInput("Say why the line is cancelled.", reasons=[Reason("reason", "the reason is blank")])
    with transaction.atomic():
        order = order_lock(order)
        if order.state != OrderState.FLOOR_HOLD or order.held_from != OrderState.PICKING:
            raise TransitionNotAllowed(
                f"Order {order_label(order)} is not held for a short pick.",
                reasons=[Reason("wrong_state", "a line is cancelled after release only on a short-pick hold")],
            )
        line = next((x for x in order_lines(order) if str(x.line_number) == str(line_number).strip()), None)
        if line is None:
            message = f"Order {order_label(order)} has no line {line_number!r} to cancel"
            raise InvalidInput(message, reasons=[Reason("line_unknown", message)])
        picks = list(PickLine.objects.filter(line=line).select_related("sku", "facility"))
        if not any(p.short for p in picks):
            message = f"Line {line.line_number} is not short: only a short line is cancelled after release"
            raise Conflict(message, reasons=[Reason("line_not_short", message)])
        if len(order_lines(order)) == 1:
            raise Conflict(
                f"Line {line.line_number} is the order's last line: cancel the order instead.",
                reasons=[Reason("last_line", "an order keeps at least one line")],
            )
        put_back = _put_back(order, line, picks, actor=actor)
        line.cancelled_at, line.cancel_reason = timezone.now(), reason
        line._history_user = actor  # type: ignore[attr-defined]
        line.save(update_fields=["cancelled_at", "cancel_reason"])
        forget_lines(order)
        AllocationRow.objects.filter(line=line).delete()  # its pick lines go with it
        allocation_rows_remember(order, [r for r in allocation_rows(order) if r.line_id != line.pk])
        what = f"{line.quantity} × {line.sku_code}"
        timeline_add(
            order,
            OrderEventKind.LINE_CANCELLED,
            f"Line {line.line_number} ({what}) cancelled after release by a manager: {reason}; "
            f"{put_back} picked unit(s) put back",
            actor=actor,
            data={"override": "edit_after_release", "line": line.line_number},
        )
        if PickLine.objects.filter(order=order, short__gt=0).exists():
            return order  # another line is still short: the hold stays
        return resume_locked(
            order, actor=actor, note=f"short line {line.line_number} cancelled: {reason}", kind=ExceptionKind.SHORT_PICK
        )


def _put_back(order: Order, line: OrderLine, picks: list[PickLine], *, actor: Actor) -> int:
    """The line's units still in pick (picked, or not yet picked and not short) go back to available."""
    total = 0
    for pick in picks:
        units = pick.expected - pick.short
        if units:
            stock_unpick(
                facility=pick.facility,
                lines=[(pick.sku, units)],
                actor=actor,
                event_id=f"order:{order.pk}:cancel_line:{pick.pk}",
                reference=f"order {order_label(order)}: line {line.line_number} cancelled",
            )
        total += pick.picked
    return total


def order_record_pick_activity(*, order: Order, actor: Actor, note: str = "") -> Order:
    """A pick note while picking; it keeps the 4-hour stall alarm quiet."""
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
    """The "Confirm picked" button: a person confirms every line picked without scanning; the pick lines left open
    are recorded as picked by them, in the timeline. (A short line holds the order on the floor, so it is never
    confirmed this way.)"""
    with transaction.atomic():
        order = order_lock(order)
        _require_picking(order)
        open_lines = PickLine.objects.filter(order=order, picked__lt=F("expected"))
        units = sum(p.expected - p.picked for p in open_lines)
        if units:
            open_lines.update(picked=F("expected"), picked_at=timezone.now(), picked_by=actor)
        words = f" ({units} unit(s) confirmed without a scan)" if units else ""
        return confirm_picked_locked(order, actor=actor, reason=reason or "last line picked", words=words)


def order_pack(*, order: Order, actor: Actor, reason: str = "") -> Order:
    with transaction.atomic():
        order = transition_apply(obj=order, name="pack", actor=actor, reason=reason or "packed")
        timeline_add(order, OrderEventKind.PACKED, "Packed: staged for the carrier", actor=actor)
        return order
