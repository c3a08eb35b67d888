"""Write use-cases of returns. Each state change goes through `transition_apply`; the stock moves through the
inventory services in the same transaction, with event ids derived from the return and its lines, so a replayed
call never moves stock twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from inventory.models import Sku
from inventory.services import (
    StockResult,
    stock_dispose_return,
    stock_receive_return,
    stock_restock_return,
    stock_rework_return,
)
from orders.models import LEFT_BUILDING_STATES, Order
from returns.models import Disposition, Grade, Return, ReturnLine, ReturnState, triage_complete
from warehouse.errors import Conflict, InvalidInput, Reason, TransitionNotAllowed
from warehouse.fsm import guard_reason
from warehouse.history import save_with_history
from warehouse.models import Brand, ExceptionKind, Facility
from warehouse.services import exception_open, exceptions_resolve_if_cleared
from warehouse.transitions import Actor, transition_apply

Lines = Sequence[tuple[Sku, int]]
StockMove = Callable[..., StockResult]
COMPLETED = (ReturnState.RESTOCKED, ReturnState.REWORKED, ReturnState.DISPOSED)


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


def return_mark_shipped_back(*, rma: Return, actor: Actor, reason: str = "", force: bool = False) -> Return:
    return transition_apply(obj=rma, name="mark_shipped_back", actor=actor, reason=reason, force=force)


def return_receive(
    *, rma: Return, actor: Actor, facility: Facility | None = None, reason: str = "", force: bool = False
) -> Return:
    """Logged in at the warehouse: every unit goes to quarantine (on hand, never available) and the return waits
    in the exception queue for its triage decision."""
    changes: dict[str, Any] = {"received_at": timezone.now()}
    if facility is not None:
        changes["facility"] = facility
    with transaction.atomic():
        rma = transition_apply(obj=rma, name="receive", actor=actor, reason=reason, force=force, changes=changes)
        if rma.facility is None:  # only a forced receipt gets here without one
            message = "the return needs the facility that receives it"
            raise InvalidInput("Say where the return was received.", reasons=[Reason("facility_required", message)])
        for line in rma.lines.select_related("sku"):
            stock_receive_return(
                sku=line.sku, facility=rma.facility, quantity=line.quantity, event_id=_event_id(rma, "receive", line),
                actor=actor, reference=rma.rma_number, reason=reason or "return received",
            )  # fmt: skip
        exception_open(
            kind=ExceptionKind.RETURN_AWAITING_TRIAGE,
            summary=f"Return {rma.rma_number} is in quarantine waiting for a triage decision",
            reasons=[Reason("triage_pending", "grade and disposition not yet recorded; nothing restocks until then")],
            subject=rma,
            brand=rma.brand,
            facility=rma.facility,
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
    """Record the inspection: grade and disposition. The returns system triages as the system (`actor=None`); a
    manager triaging by hand forces it, with a reason, and is recorded as such."""
    grade, disposition = (grade or "").strip(), (disposition or "").strip()
    reasons = []
    if grade and grade not in Grade.values:
        reasons.append(Reason("grade_invalid", f"grade {grade!r} is not one of {', '.join(Grade.values)}"))
    if disposition and disposition not in Disposition.values:
        allowed = ", ".join(Disposition.values)
        reasons.append(Reason("disposition_invalid", f"disposition {disposition!r} is not one of {allowed}"))
    if reasons:
        raise InvalidInput("The triage is invalid: " + "; ".join(r.message for r in reasons), reasons=reasons)
    changes: dict[str, Any] = {
        "grade": grade,
        "disposition": disposition,
        "triaged_by": actor,
        "triaged_at": timezone.now(),
    }
    if notes:
        changes["notes"] = "\n".join(n for n in (rma.notes, notes.strip()) if n)
    with transaction.atomic():
        rma = transition_apply(obj=rma, name="triage", actor=actor, reason=reason, force=force, changes=changes)
        if rma.grade and rma.disposition:
            exceptions_resolve_if_cleared(
                subject=rma,
                kind=ExceptionKind.RETURN_AWAITING_TRIAGE,
                note=f"Triaged: grade {rma.grade}, disposition {rma.disposition}",
            )
    return rma


def _complete(*, rma: Return, name: str, move: StockMove, actor: Actor, reason: str, force: bool) -> Return:
    """Run the final transition and move each line's units out of quarantine. Triage must be complete even when a
    manager forces the step: nothing leaves quarantine without a recorded decision."""
    with transaction.atomic():
        locked = Return.objects.select_for_update().get(pk=rma.pk)
        if locked.state not in COMPLETED and not triage_complete(locked):
            failed = guard_reason(triage_complete)
            raise TransitionNotAllowed(f"Cannot {name} return {locked.rma_number}: {failed.message}.", reasons=[failed])
        rma = transition_apply(obj=locked, name=name, actor=actor, reason=reason, force=force)
        assert rma.facility is not None  # received returns always have one
        for line in rma.lines.select_related("sku"):
            move(
                sku=line.sku, facility=rma.facility, quantity=line.quantity, event_id=_event_id(rma, name, line),
                actor=actor, reference=rma.rma_number, reason=reason or f"return {rma.get_state_display().lower()}",
            )  # fmt: skip
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
