"""A person edits an order until release to pick (delivery fields, a line's SKU or quantity, cancelling a line, a
re-check, deciding a platform conflict); the order then goes through validation and allocation again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from inventory.services import (
    sku_resolve,
)
from orders.canonical import ADDRESS_FIELDS, CanonicalAddress, CanonicalLine
from orders.models import (
    EDITABLE_STATES,
    Order,
    OrderEventKind,
    OrderLine,
    OrderState,
    forget_lines,
    order_lines,
)
from orders.services.common import CHANGE_ORDER, order_label, order_lock, require_perm, text_received
from orders.services.fixes import DECISIONS, FIELD_WORDS, fix_remember, signature_json
from orders.services.lifecycle import revise_locked
from orders.services.lines import (
    address_fields,
    line_signature,
    lines_from,
    lines_replace,
    stored_signature,
)
from orders.services.stock import allocation_release
from orders.services.timeline import exceptions_clear, order_exception_open, timeline_add
from orders.validation import MAX_LINE_QUANTITY, quantity_parse
from warehouse.errors import Conflict, InvalidInput, NotPermitted, Reason, TransitionNotAllowed
from warehouse.history import save_with_history
from warehouse.memo import memo_scope
from warehouse.models import ExceptionKind
from warehouse.transitions import Actor


def order_edit(
    *,
    order: Order,
    actor: Actor,
    address: CanonicalAddress | Mapping[str, Any] | None = None,
    lines: Sequence[CanonicalLine | tuple[str, Any]] | None = None,
    phone: str | None = None,
    special_handling: str | None = None,
) -> Order:
    """Fix or change an order until it is released to pick; it is re-validated and moves on (its exception closes
    when the cause is gone). After release: refused (`Conflict`) and escalated as `ORDER_EDIT_AFTER_RELEASE`."""
    if actor is not None and not actor.has_perm(CHANGE_ORDER):
        raise NotPermitted("You may not edit orders.")
    with transaction.atomic():
        order = order_lock(order)
        if order.state == OrderState.CANCELLED:
            raise TransitionNotAllowed(
                f"Order {order_label(order)} is cancelled.",
                reasons=[Reason("wrong_state", "a cancelled order is final")],
            )
        if order.state not in EDITABLE_STATES:
            reason = Reason("edit_after_release", f"an edit was requested while the order is {order.state}")
            order_exception_open(
                order, kind=ExceptionKind.ORDER_EDIT_AFTER_RELEASE, summary="edit after release", reasons=[reason]
            )
            timeline_add(
                order, OrderEventKind.EDIT_REFUSED, f"Edit refused and escalated: {reason.message}", actor=actor
            )
            refused = True
        else:
            refused = False
            changed: list[str] = []
            values: dict[str, Any] = {}
            if address is not None:
                given = address_fields(address)
                keys = address.keys() if isinstance(address, Mapping) else ADDRESS_FIELDS
                values.update({f"delivery_{k}": given[f"delivery_{k}"] for k in keys if f"delivery_{k}" in given})
            if phone is not None:
                values["contact_phone"] = text_received(phone, 40, "phone")
            if special_handling is not None:
                values["special_handling"] = text_received(special_handling, 2000, "special_handling")
            for name, value in values.items():
                if getattr(order, name) != value:
                    fix_remember(order, name, getattr(order, name), actor=actor)
                    setattr(order, name, value)
                    changed.append(name.replace("delivery_", ""))
            new_lines = lines_from(lines) if lines is not None else None
            lines_changed = new_lines is not None and line_signature(new_lines) != stored_signature(order)
            if lines_changed:
                fix_remember(order, "lines", signature_json(stored_signature(order)), actor=actor)
            save_with_history(order, actor=actor, reason="edited")
            if new_lines is not None and lines_changed:
                allocation_release(order, actor=actor, why="the lines were edited")
                lines_replace(order, new_lines, actor=actor)
                changed.append("lines")
            if changed:
                timeline_add(order, OrderEventKind.EDITED, f"Edited: {', '.join(changed)}", actor=actor)
                order = revise_locked(order, actor=actor, why=f"edited: {', '.join(changed)}")
    if refused:
        raise Conflict(
            f"Order {order_label(order)} was released to pick: edits are refused; a manager has been asked to decide.",
            reasons=[Reason("edit_after_release", "edits apply until release to pick")],
        )
    return order


def order_line_edit(
    *, order: Order, line_number: int, actor: Actor, sku_code: str | None = None, quantity: Any = None
) -> Order:
    """A person corrects one line's SKU code (it must resolve: a catalog code or an alias inside its window) and/or
    its quantity (a whole number from 1 to MAX_LINE_QUANTITY) until release to pick; the order is re-checked
    (validated, allocated and accepted if it can be). Bad input is refused and nothing is saved."""
    require_perm(actor, CHANGE_ORDER, "You may not edit orders.")
    code = None if sku_code is None else str(sku_code).strip()
    if code is not None and not code:
        raise InvalidInput("Give the line's SKU code.", reasons=[Reason("sku_code", "the SKU code is blank")])
    if code is not None and len(code) > 100:
        raise InvalidInput("The SKU code is over 100 characters.", reasons=[Reason("sku_code", "at most 100")])
    units = None if quantity is None else quantity_parse(quantity)
    if quantity is not None and units is None:
        message = f"The quantity must be a whole number from 1 to {MAX_LINE_QUANTITY:,}."
        raise InvalidInput(message, reasons=[Reason("quantity", message)])
    with transaction.atomic():
        order = order_lock(order)
        _require_editable(order)
        line = _active_line(order, line_number)
        signature = signature_json(stored_signature(order))
        changed = []
        if code is not None and code != line.sku_code:
            try:
                line.sku = sku_resolve(brand=order.brand, code=code).sku
            except InvalidInput as exc:
                raise InvalidInput(
                    f"{exc.message}: choose an offered SKU or create an alias first.", reasons=exc.reasons
                ) from exc
            changed.append(f"SKU {line.sku_code or '(none)'} → {code}")
            line.sku_code = code
        if units is not None and (units != line.quantity or str(units) != line.quantity_received):
            changed.append(f"quantity {line.quantity_received or '(none)'} → {units}")
            line.quantity, line.quantity_received = units, str(units)
        if changed:
            fix_remember(order, "lines", signature, actor=actor)
            line._history_user = actor  # type: ignore[attr-defined]
            line.save()
            forget_lines(order)
            allocation_release(order, actor=actor, why="a line was edited")
            timeline_add(order, OrderEventKind.EDITED, f"Line {line_number} edited: {', '.join(changed)}", actor=actor)
        elif order.state not in (OrderState.RECEIVED, OrderState.ON_HOLD):
            return order  # nothing changed on an order that is not waiting for a re-check
        return _recheck(order, actor=actor, why=f"line {line_number} edited" if changed else "re-checked")


def order_line_cancel(*, order: Order, line_number: int, actor: Actor, reason: str) -> Order:
    """A person cancels one line with a reason until release to pick: the line stays on the order, marked cancelled
    (never deleted, never allocated or shipped), and the order is re-checked without it."""
    require_perm(actor, CHANGE_ORDER, "You may not edit orders.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the line is cancelled.", reasons=[Reason("reason", "the reason is blank")])
    if len(reason) > 300:
        message = f"The reason is {len(reason)} characters; at most 300."
        raise InvalidInput(message, reasons=[Reason("reason", message)])
    with transaction.atomic():
        order = order_lock(order)
        _require_editable(order)
        line = _active_line(order, line_number)
        if len(order_lines(order)) == 1:
            raise Conflict(
                f"Line {line_number} is the order's last line: cancel the order instead.",
                reasons=[Reason("last_line", "an order keeps at least one line")],
            )
        fix_remember(order, "lines", signature_json(stored_signature(order)), actor=actor)
        line.cancelled_at, line.cancel_reason = timezone.now(), reason
        line._history_user = actor  # type: ignore[attr-defined]
        line.save(update_fields=["cancelled_at", "cancel_reason"])
        forget_lines(order)
        allocation_release(order, actor=actor, why="a line was cancelled")
        what = f"{line.quantity_received or '?'} × {line.sku_code or 'no SKU'}"
        timeline_add(order, OrderEventKind.EDITED, f"Line {line_number} ({what}) cancelled: {reason}", actor=actor)
        return _recheck(order, actor=actor, why=f"line {line_number} cancelled")


def order_recheck(*, order: Order, actor: Actor) -> Order:
    """A person asks to check a held order again (e.g. after creating an alias its line now resolves): validated,
    routed, allocated and accepted if it can be, else held with every reason named."""
    require_perm(actor, CHANGE_ORDER, "You may not edit orders.")
    with transaction.atomic():
        order = order_lock(order)
        if order.state not in (OrderState.RECEIVED, OrderState.ON_HOLD):
            raise TransitionNotAllowed(
                f"Order {order_label(order)} is {order.get_state_display().lower()}: only a held order is re-checked.",
                reasons=[Reason("wrong_state", "re-check applies to an order on hold")],
            )
        return _recheck(order, actor=actor, why="re-checked")


def _recheck(order: Order, *, actor: Actor, why: str) -> Order:
    with memo_scope():  # SKU resolution read once per code
        return revise_locked(order, actor=actor, why=why)


def order_conflict_decide(*, order: Order, field: str, decision: str, actor: Actor) -> Order:
    """A person decides a platform update that conflicts with a fix: keep ours (the platform sending the same value
    again is then no conflict) or take the platform's (until release to pick; the order is re-checked)."""
    require_perm(actor, CHANGE_ORDER, "You may not edit orders.")
    if decision not in DECISIONS:
        raise InvalidInput("Choose ours or the platform's.", reasons=[Reason("decision", "ours or platform")])
    with transaction.atomic():
        order = order_lock(order)
        conflicts = dict(order.platform_conflicts or {})
        if field not in conflicts:
            raise InvalidInput(
                "No platform update is waiting on that field.", reasons=[Reason("no_conflict", str(field)[:100])]
            )
        theirs = conflicts.pop(field)
        fixes = dict(order.person_fixes or {})
        words = FIELD_WORDS.get(field, field)
        if decision == "platform":
            _require_editable(order)
            fixes.pop(field, None)
            if field != "lines":
                setattr(order, field, theirs)
        else:
            fixes[field] = [entry[:3] for entry in theirs] if field == "lines" else theirs
        order.platform_conflicts, order.person_fixes = conflicts, fixes
        save_with_history(order, actor=actor, reason=f"platform update on {words}: {decision}")
        if decision == "platform" and field == "lines":
            allocation_release(order, actor=actor, why="the platform's lines were taken")
            lines_replace(order, [CanonicalLine(*entry) for entry in theirs], actor=actor)
        took = "took the platform's" if decision == "platform" else "kept ours"
        timeline_add(order, OrderEventKind.EDITED, f"Platform update on {words}: {took}", actor=actor)
        if not conflicts:
            exceptions_clear(order, ExceptionKind.ORDER_UPDATE_CONFLICT, f"Decided: {took} ({words}).")
        if decision == "platform":
            order = _recheck(order, actor=actor, why=f"took the platform's {words}")
        return order


def _require_editable(order: Order) -> None:
    if order.state == OrderState.CANCELLED:
        raise TransitionNotAllowed(
            f"Order {order_label(order)} is cancelled.", reasons=[Reason("wrong_state", "a cancelled order is final")]
        )
    if order.state not in EDITABLE_STATES:
        raise Conflict(
            f"Order {order_label(order)} was released to pick: its lines can no longer be changed.",
            reasons=[Reason("edit_after_release", "edits apply until release to pick")],
        )


def _active_line(order: Order, line_number: int) -> OrderLine:
    line = next((x for x in order_lines(order) if x.line_number == line_number), None)
    if line is None:
        raise InvalidInput(
            f"Order {order_label(order)} has no open line {line_number}.",
            reasons=[Reason("line_unknown", f"line {line_number} does not exist or is cancelled")],
        )
    return line
