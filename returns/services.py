"""Write use-cases of returns. Each state change goes through `transition_apply`; the stock moves through the
inventory services in the same transaction, with event ids derived from the return and its lines, so a replayed
call never moves stock twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from inventory.models import Sku
from inventory.services import (
    StockResult,
    sku_resolve_scan,
    stock_dispose_return,
    stock_receive_return,
    stock_restock_return,
    stock_rework_return,
)
from orders.models import LEFT_BUILDING_STATES, Order
from returns.models import (
    AUTHORISE,
    OPERATE,
    TRIAGE,
    Disposition,
    Grade,
    Return,
    ReturnDecision,
    ReturnLine,
    ReturnState,
    triage_complete,
)
from warehouse.errors import Conflict, InvalidInput, NotPermitted, Reason, TransitionNotAllowed
from warehouse.fsm import guard_reason
from warehouse.history import save_with_history
from warehouse.limits import text_within
from warehouse.models import Brand, ExceptionKind, Facility
from warehouse.roles import brands_visible_to
from warehouse.services import exception_open, exceptions_resolve_if_cleared
from warehouse.transitions import Actor, transition_apply

Lines = Sequence[tuple[Sku, int]]
StockMove = Callable[..., StockResult]
COMPLETED = (ReturnState.RESTOCKED, ReturnState.REWORKED, ReturnState.DISPOSED, ReturnState.COMPLETED)
# Receipt by scan is open from authorisation until triage is recorded.
RECEIVABLE = (ReturnState.AUTHORIZED, ReturnState.SHIPPED_BACK, ReturnState.RECEIVED)


def _event_id(rma: Return, step: str, line: ReturnLine) -> str:
    return f"return:{rma.pk}:{step}:{line.pk}"


def _check_lines(*, brand: Brand, lines: Lines) -> list[Reason]:
    reasons: list[Reason] = []
    if not lines:
        reasons.append(Reason("lines_required", "the return needs at least one line"))
    seen: set[int] = set()
    for sku, quantity in lines:
        if sku.brand_id != brand.pk:
            reasons.append(Reason("other_brand", f"{sku.code} belongs to another brand"))
        if sku.is_kit:
            reasons.append(Reason("kit_has_no_stock", f"{sku.code} is a kit: return its components"))
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            reasons.append(Reason("quantity_not_positive", f"{sku.code}: quantity {quantity!r} is not ≥ 1"))
        if sku.pk in seen:
            reasons.append(Reason("duplicate_line", f"{sku.code} is listed twice"))
        seen.add(sku.pk)
    return reasons


def shipped_units(order: Order) -> dict[int, int]:
    """Units of each SKU that left on `order`: its lines not cancelled, a kit as its components."""
    units: dict[int, int] = {}
    for line in order.lines.select_related("sku").prefetch_related("sku__components"):
        if line.cancelled_at is not None or line.sku is None or not line.quantity:
            continue
        if line.sku.is_kit:
            for part in line.sku.components.all():
                units[part.component_id] = units.get(part.component_id, 0) + part.quantity * line.quantity
        else:
            units[line.sku.pk] = units.get(line.sku.pk, 0) + line.quantity
    return units


def returnable_units(order: Order, *, exclude_rma: str = "") -> dict[int, int]:
    """Units of each SKU that may still come back on `order`: shipped, less those on its other returns."""
    units = shipped_units(order)
    taken = ReturnLine.objects.filter(rma__order=order).exclude(rma__rma_number=exclude_rma)
    for sku_id, quantity in taken.values_list("sku_id", "quantity"):
        units[sku_id] = units.get(sku_id, 0) - quantity
    return units


def _check_shipped(*, order: Order, lines: Lines, rma_number: str) -> list[Reason]:
    """A return takes back only units that were shipped on its order, and each unit once."""
    shipped = shipped_units(order)
    left = returnable_units(order, exclude_rma=rma_number)
    name = order.platform_order_id or str(order.pk)
    reasons = []
    for sku, quantity in lines:
        if not isinstance(quantity, int) or quantity < 1:
            continue  # named by _check_lines
        if sku.pk not in shipped:
            reasons.append(Reason("not_shipped_on_order", f"{sku.code} was never shipped on order {name}"))
        elif quantity > left.get(sku.pk, 0):
            already = shipped[sku.pk] - left.get(sku.pk, 0)
            tail = f", {already} already on another return" if already else ""
            message = f"order {name} shipped {shipped[sku.pk]} × {sku.code}{tail}: {quantity} cannot come back"
            reasons.append(Reason("more_than_shipped", message))
    return reasons


def return_initiate(
    *,
    brand: Brand,
    rma_number: str,
    lines: Lines,
    actor: Actor,
    order: Order | None = None,
    facility: Facility | None = None,
    reason: str = "",
    notes: str = "",
) -> Return:
    """The returns system opened an RMA. A replay of the same RMA number returns the return already recorded."""
    rma_number = (rma_number or "").strip()
    reasons = _check_lines(brand=brand, lines=lines)
    if not rma_number:
        reasons.insert(0, Reason("rma_number_required", "the return needs an RMA number"))
    if order is not None and order.brand_id != brand.pk:
        reasons.append(Reason("order_other_brand", "the order belongs to another brand"))
    if order is not None and order.state not in LEFT_BUILDING_STATES:
        state = order.get_state_display().lower()
        reasons.append(Reason("order_not_shipped", f"order {order.platform_order_id} is {state}: it never left"))
    elif order is not None and order.brand_id == brand.pk:
        reasons += _check_shipped(order=order, lines=lines, rma_number=rma_number)
    if reasons:
        raise InvalidInput("The return is invalid: " + "; ".join(r.message for r in reasons), reasons=reasons)
    with transaction.atomic():
        existing = Return.objects.select_for_update().filter(brand=brand, rma_number=rma_number).first()
        if existing is not None:
            recorded = set(existing.lines.values_list("sku_id", "quantity"))
            if recorded != {(sku.pk, quantity) for sku, quantity in lines}:
                message = f"RMA {rma_number} is already recorded with other lines"
                raise Conflict(message, reasons=[Reason("rma_number_in_use", message)])
            return existing
        rma = Return(
            brand=brand, rma_number=rma_number, order=order, facility=facility, reason=reason.strip(), notes=notes
        )
        save_with_history(rma, actor=actor, reason="initiated")
        for sku, quantity in lines:
            line = ReturnLine(rma=rma, sku=sku, quantity=quantity)
            line._history_user = actor  # type: ignore[attr-defined]
            line.save()
    return rma


def return_authorize(*, rma: Return, actor: Actor, reason: str = "", force: bool = False) -> Return:
    return transition_apply(obj=rma, name="authorize", actor=actor, reason=reason, force=force)


def return_authorize_order(
    *, order: Order, lines: Lines, actor: Actor, rma_number: str = "", reason: str = "", notes: str = ""
) -> Return:
    """A manager, or the brand for its own order, authorises a return of units shipped on `order`: the RMA is
    recorded and authorised in one step, to be received at the facility the order shipped from. Without an RMA
    number one is made from the order's id."""
    if actor is not None and not (
        actor.has_perm(AUTHORISE) and brands_visible_to(actor).filter(pk=order.brand_id).exists()
    ):
        raise NotPermitted("You may not authorise a return on this order.")
    rma_number = text_within(rma_number, field="rma_number", limit=60)
    reason = text_within(reason, field="reason", limit=300)
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("brand").get(pk=order.pk)
        if not (rma_number or "").strip():
            rma_number = f"RMA-{order.platform_order_id or order.pk}-{order.returns.count() + 1}"
        rma = return_initiate(
            brand=order.brand, rma_number=rma_number, lines=lines, actor=actor, order=order,
            facility=order.facility, reason=reason, notes=notes,
        )  # fmt: skip
        if rma.state == ReturnState.INITIATED:
            rma = return_authorize(rma=rma, actor=actor, reason=reason)
    return rma


def return_mark_shipped_back(*, rma: Return, actor: Actor, reason: str = "", force: bool = False) -> Return:
    return transition_apply(obj=rma, name="mark_shipped_back", actor=actor, reason=reason, force=force)


def _await_triage(rma: Return) -> None:
    exception_open(
        kind=ExceptionKind.RETURN_AWAITING_TRIAGE,
        summary=f"Return {rma.rma_number} is in quarantine waiting for a triage decision",
        reasons=[Reason("triage_pending", "grade and disposition not yet recorded; nothing restocks until then")],
        subject=rma,
        brand=rma.brand,
        facility=rma.facility,
    )


def return_receive(
    *, rma: Return, actor: Actor, facility: Facility | None = None, reason: str = "", force: bool = False
) -> Return:
    """Logged in at the warehouse as a whole: every unit not yet scanned in goes to quarantine (on hand, never
    available) and the return waits in the exception queue for its triage decision."""
    changes: dict[str, Any] = {"received_at": timezone.now()}
    if facility is not None:
        changes["facility"] = facility
    with transaction.atomic():
        rma = transition_apply(obj=rma, name="receive", actor=actor, reason=reason, force=force, changes=changes)
        if rma.facility is None:  # only a forced receipt gets here without one
            message = "the return needs the facility that receives it"
            raise InvalidInput("Say where the return was received.", reasons=[Reason("facility_required", message)])
        for line in rma.lines.select_related("sku").select_for_update(of=("self",)):
            if line.outstanding:
                stock_receive_return(
                    sku=line.sku, facility=rma.facility, quantity=line.outstanding, actor=actor,
                    event_id=_event_id(rma, "receive", line), reference=rma.rma_number,
                    reason=reason or "return received",
                )  # fmt: skip
                line.received_quantity = line.quantity
                save_with_history(line, actor=actor, reason="received", fields=["received_quantity"])
        _await_triage(rma)
    return rma


@dataclass(frozen=True)
class ScanResult:
    rma: Return
    line: ReturnLine
    quantity: int
    warnings: list[Reason]


def return_receive_scan(
    *, rma: Return, code: str, actor: Actor, quantity: int = 1, facility: Facility | None = None, reason: str = ""
) -> ScanResult:
    """Receive scanned units into quarantine, at most as many as the return authorises for that SKU. The first
    scan moves the return to received; the units wait there for their triage decision."""
    if actor is not None and not actor.has_perm(OPERATE):
        raise NotPermitted("You may not receive a return.")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        message = f"quantity {quantity!r} is not ≥ 1"
        raise InvalidInput(f"The receipt is invalid: {message}", reasons=[Reason("quantity_not_positive", message)])
    with transaction.atomic():
        rma = Return.objects.select_for_update(of=("self",)).select_related("brand", "facility").get(pk=rma.pk)
        if rma.state not in RECEIVABLE:
            message = f"return {rma.rma_number} is {rma.get_state_display().lower()}: receipt is closed"
            raise TransitionNotAllowed(message[0].upper() + message[1:] + ".", reasons=[Reason("wrong_state", message)])
        found = sku_resolve_scan(brand=rma.brand, code=code)
        sku, warnings = found.sku, list(found.warnings)
        line = rma.lines.select_for_update(of=("self",)).select_related("sku").filter(sku=sku).first()
        if line is None:
            listed = ", ".join(rma.lines.values_list("sku__code", flat=True))
            message = f"{sku.code} is not on return {rma.rma_number} (it authorises {listed})"
            raise InvalidInput(message, reasons=[Reason("sku_not_on_return", message)])
        if quantity > line.outstanding:
            message = (
                f"return {rma.rma_number} authorises {line.quantity} × {sku.code} and {line.received_quantity} "
                f"{'is' if line.received_quantity == 1 else 'are'} received: {quantity} more is over the authorisation"
            )
            raise InvalidInput(message[0].upper() + message[1:], reasons=[Reason("over_authorised", message)])
        where = facility or rma.facility
        if where is None:
            message = "the return needs the facility that receives it"
            raise InvalidInput("Say where the return was received.", reasons=[Reason("facility_required", message)])
        if rma.state != ReturnState.RECEIVED:
            changes = {"received_at": timezone.now(), "facility": where}
            rma = transition_apply(obj=rma, name="receive", actor=actor, reason=reason or "scanned in", changes=changes)
        elif where != rma.facility:
            message = f"return {rma.rma_number} is being received at {rma.facility}"
            raise InvalidInput(message, reasons=[Reason("other_facility", message)])
        assert rma.facility is not None
        stock_receive_return(
            sku=sku, facility=rma.facility, quantity=quantity, actor=actor, reference=rma.rma_number,
            event_id=f"return:{rma.pk}:scan:{line.pk}:{line.received_quantity}", reason=reason or "return scanned in",
        )  # fmt: skip
        line.received_quantity += quantity
        save_with_history(line, actor=actor, reason=f"scanned {code.strip()}", fields=["received_quantity"])
        _await_triage(rma)
    return ScanResult(rma=rma, line=line, quantity=quantity, warnings=warnings)


def _check_decision(grade: str, disposition: str) -> list[Reason]:
    reasons = []
    if grade and grade not in Grade.values:
        reasons.append(Reason("grade_invalid", f"grade {grade!r} is not one of {', '.join(Grade.values)}"))
    if disposition and (disposition not in Disposition.values or disposition == Disposition.MIXED):
        allowed = ", ".join(v for v in Disposition.values if v != Disposition.MIXED)
        reasons.append(Reason("disposition_invalid", f"disposition {disposition!r} is not one of {allowed}"))
    return reasons


def _decide(*, rma: Return, line: ReturnLine, quantity: int, grade: str, disposition: str, actor: Actor,
            reason: str) -> ReturnDecision:  # fmt: skip
    return ReturnDecision.objects.create(
        rma=rma, line=line, quantity=quantity, grade=grade, disposition=disposition, reason=reason.strip(),
        decided_by=actor, decided_at=timezone.now(),
    )  # fmt: skip


def _undecided(rma: Return) -> dict[int, int]:
    """Received units of each line that have no decision yet, by line id."""
    left = dict(rma.lines.values_list("pk", "received_quantity"))
    for line_id, quantity in rma.decisions.values_list("line_id", "quantity"):
        left[line_id] -= quantity
    return {pk: n for pk, n in left.items() if n > 0}


def _summary(rma: Return) -> dict[str, Any]:
    """The return's grade (its worst unit's) and disposition (the units' one, or mixed)."""
    decisions = list(rma.decisions.values_list("grade", "disposition"))
    if not decisions:
        return {}
    dispositions = {d for _, d in decisions}
    return {
        "grade": max(g for g, _ in decisions),
        "disposition": dispositions.pop() if len(dispositions) == 1 else Disposition.MIXED,
    }


def _close_triage(
    *,
    rma: Return,
    actor: Actor,
    reason: str,
    summary: dict[str, Any] | None = None,
    force: bool = False,
    notes: str = "",
) -> Return:
    summary = _summary(rma) if summary is None else summary
    changes: dict[str, Any] = {**summary, "triaged_by": actor, "triaged_at": timezone.now()}
    if notes:
        changes["notes"] = "\n".join(n for n in (rma.notes, notes.strip()) if n)
    rma = transition_apply(obj=rma, name="triage", actor=actor, reason=reason, force=force, changes=changes)
    if rma.grade and rma.disposition:
        exceptions_resolve_if_cleared(
            subject=rma,
            kind=ExceptionKind.RETURN_AWAITING_TRIAGE,
            note=f"Triaged: grade {rma.grade}, disposition {rma.disposition}",
        )
    return rma


def return_triage(
    *,
    rma: Return,
    grade: str,
    disposition: str,
    actor: Actor,
    reason: str = "",
    notes: str = "",
    force: bool = False,
) -> Return:
    """Record the inspection of every received unit not yet triaged with one grade and disposition, and close the
    triage. The returns system triages as the system (`actor=None`); a manager triaging by hand may force it,
    with a reason, and is recorded as such."""
    grade, disposition = (grade or "").strip(), (disposition or "").strip()
    reasons = _check_decision(grade, disposition)
    if reasons:
        raise InvalidInput("The triage is invalid: " + "; ".join(r.message for r in reasons), reasons=reasons)
    if actor is not None and not force and not actor.has_perm(TRIAGE):
        raise NotPermitted("You may not triage a return.")
    with transaction.atomic():
        rma = Return.objects.select_for_update().get(pk=rma.pk)
        if grade and disposition and rma.state == ReturnState.RECEIVED:
            lines = {line.pk: line for line in rma.lines.all()}
            for line_id, quantity in _undecided(rma).items():
                _decide(rma=rma, line=lines[line_id], quantity=quantity, grade=grade, disposition=disposition,
                        actor=actor, reason=reason)  # fmt: skip
        summary = _summary(rma) or {"grade": grade, "disposition": disposition}
        rma = _close_triage(rma=rma, actor=actor, reason=reason, summary=summary, force=force, notes=notes)
    return rma


def return_triage_units(
    *, rma: Return, line: ReturnLine, quantity: int, grade: str, disposition: str, actor: Actor, reason: str = ""
) -> Return:
    """Record the grade and disposition of `quantity` received units of one line. When every authorised unit is
    received and triaged, the return's triage is closed (its grade is the worst unit's; its disposition the
    units' one, or mixed)."""
    if actor is not None and not actor.has_perm(TRIAGE):
        raise NotPermitted("You may not triage a return.")
    grade, disposition = (grade or "").strip(), (disposition or "").strip()
    reasons = _check_decision(grade, disposition)
    if not grade:
        reasons.insert(0, Reason("grade_required", "triage needs a grade"))
    if not disposition:
        reasons.append(Reason("disposition_required", "triage needs a disposition (sellable, rework or nonconforming)"))
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        reasons.append(Reason("quantity_not_positive", f"quantity {quantity!r} is not ≥ 1"))
    if reasons:
        raise InvalidInput("The triage is invalid: " + "; ".join(r.message for r in reasons), reasons=reasons)
    with transaction.atomic():
        rma = Return.objects.select_for_update().get(pk=rma.pk)
        if rma.state != ReturnState.RECEIVED:
            message = f"return {rma.rma_number} is {rma.get_state_display().lower()}: nothing is waiting for triage"
            raise TransitionNotAllowed(message[0].upper() + message[1:] + ".", reasons=[Reason("wrong_state", message)])
        if line.rma_id != rma.pk:
            raise InvalidInput("That line is not on this return.", reasons=[Reason("line_other_return", "wrong line")])
        waiting = _undecided(rma).get(line.pk, 0)
        if quantity > waiting:
            message = f"{waiting} received unit(s) of {line.sku.code} wait for triage: {quantity} is more"
            raise InvalidInput(message, reasons=[Reason("more_than_received", message)])
        _decide(rma=rma, line=line, quantity=quantity, grade=grade, disposition=disposition, actor=actor,
                reason=reason)  # fmt: skip
        all_in = not any(ln.outstanding for ln in rma.lines.all())
        if all_in and not _undecided(rma):
            rma = _close_triage(rma=rma, actor=actor, reason=reason or "every unit triaged")
    return rma


def return_triage_finish(*, rma: Return, actor: Actor, reason: str = "") -> Return:
    """Close the triage of a return whose other authorised units never came back: the received ones all have
    their decision (the guard says so otherwise)."""
    with transaction.atomic():
        rma = Return.objects.select_for_update().get(pk=rma.pk)
        return _close_triage(rma=rma, actor=actor, reason=reason or "the other units never came back")


MOVES: dict[str, StockMove] = {
    Disposition.SELLABLE: stock_restock_return,
    Disposition.REWORK: stock_rework_return,
    Disposition.NONCONFORMING: stock_dispose_return,
}
# The step that completes a return of each summary disposition.
STEP_OF_DISPOSITION = {
    Disposition.SELLABLE: "restock",
    Disposition.REWORK: "rework",
    Disposition.NONCONFORMING: "dispose",
    Disposition.MIXED: "complete",
}


def _complete(*, rma: Return, name: str, move: StockMove | None, actor: Actor, reason: str, force: bool) -> Return:
    """Run the final transition and move each decision's units out of quarantine: all as `move` says (a forced
    override moves them all that way), or each as its own decision says (`move=None`, a mixed return). Triage
    must be complete even when a manager forces the step: nothing leaves quarantine without a recorded decision."""
    with transaction.atomic():
        locked = Return.objects.select_for_update().get(pk=rma.pk)
        if locked.state not in COMPLETED and (not triage_complete(locked) or _undecided(locked)):
            failed = guard_reason(triage_complete)
            raise TransitionNotAllowed(f"Cannot {name} return {locked.rma_number}: {failed.message}.", reasons=[failed])
        rma = transition_apply(obj=locked, name=name, actor=actor, reason=reason, force=force)
        assert rma.facility is not None  # received returns always have one
        now = timezone.now()
        for decision in rma.decisions.select_related("line__sku").filter(carried_out_at=None):
            (move or MOVES[decision.disposition])(
                sku=decision.line.sku, facility=rma.facility, quantity=decision.quantity, actor=actor,
                event_id=f"return:{rma.pk}:{name}:{decision.pk}", reference=rma.rma_number,
                reason=reason or f"return {rma.get_state_display().lower()}",
            )  # fmt: skip
            decision.carried_out_at = now
            decision.save(update_fields=["carried_out_at"])
    return rma


def return_restock(*, rma: Return, actor: Actor, reason: str = "", force: bool = False) -> Return:
    """Sellable: its units leave quarantine and become available again, through the ledger."""
    return _complete(rma=rma, name="restock", move=stock_restock_return, actor=actor, reason=reason, force=force)


def return_rework(*, rma: Return, actor: Actor, reason: str = "", force: bool = False) -> Return:
    """Rework: its units move from quarantine to damaged (on hand, never available)."""
    return _complete(rma=rma, name="rework", move=stock_rework_return, actor=actor, reason=reason, force=force)


def return_dispose(*, rma: Return, actor: Actor, reason: str = "", force: bool = False) -> Return:
    """Nonconforming: its units leave quarantine and the building."""
    return _complete(rma=rma, name="dispose", move=stock_dispose_return, actor=actor, reason=reason, force=force)


def return_complete(*, rma: Return, actor: Actor, reason: str = "", force: bool = False) -> Return:
    """Units triaged differently: each decision's units are restocked, reworked or disposed as it says."""
    return _complete(rma=rma, name="complete", move=None, actor=actor, reason=reason, force=force)
