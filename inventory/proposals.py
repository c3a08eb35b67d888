"""Inventory correction workflow: operations propose a count, a manager approves it (seed 001 "Security and access":
"Inventory corrections: physical count, variance, who approved the correction, why").

A proposal is an exception item (kind `other`, subject the stock row) waiting for a manager: it needs no table of
its own, shows in the exception queue, and its approval runs `stock_cycle_count` with the manager as approver, so
the ledger records expected, counted, variance, who counted, who approved and why."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from inventory.models import StockLevel
from inventory.services import StockResult, stock_cycle_count
from warehouse.errors import InvalidInput, NotPermitted, Reason, TransitionNotAllowed
from warehouse.models import ExceptionItem, ExceptionKind
from warehouse.services import exception_open, exception_resolve

PROPOSE_PERMISSION = "warehouse.add_exceptionitem"  # raising a problem for a manager; finance has no such right


def _proposal(item: ExceptionItem) -> dict[str, Any]:
    proposal = item.detail.get("proposal")
    if not isinstance(proposal, dict) or item.content_type is None or item.content_type.model != "stocklevel":
        raise TransitionNotAllowed("This exception is not a count proposal.")
    return proposal


def count_propose(*, level: StockLevel, counted: int, reason: str, actor: User) -> ExceptionItem:
    """Operations counted `counted` units on the shelf; a manager must approve before stock changes."""
    if not actor.has_perm(PROPOSE_PERMISSION):
        raise NotPermitted("You may not propose a count.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A count needs a reason.", reasons=[Reason("reason_required", "Say why it was counted")])
    if not isinstance(counted, int) or isinstance(counted, bool) or counted < 0:
        raise InvalidInput("The count must be a whole number ≥ 0.", reasons=[Reason("count_invalid", str(counted))])
    sku, facility = level.sku, level.facility
    variance = counted - level.on_hand
    return exception_open(
        kind=ExceptionKind.OTHER,
        summary=f"Count proposal: {sku.code} at {facility.code}: counted {counted}, system {level.on_hand} "
        f"(variance {variance:+d})",
        reasons=[Reason("count_proposed", f"{actor.get_username()} counted {counted}: {reason}")],
        subject=level,
        brand=sku.brand,
        facility=facility,
        dedupe_key=f"count-proposal:{level.pk}",
        detail={"proposal": {"counted": counted, "expected": level.on_hand, "proposed_by": actor.pk, "reason": reason}},
    )


def proposal_status(item: ExceptionItem) -> str:
    """The proposer's view of where their count stands, in words."""
    if item.state != "resolved":
        return "Escalated to a manager" if item.state == "escalated" else "Waiting for approval"
    return "Rejected" if item.decision_note.startswith("Count rejected") else "Approved"


def count_approve(*, item: ExceptionItem, actor: User, note: str = "") -> StockResult:
    """The manager approves: on hand becomes the count, the variance is in the ledger, the proposal closes."""
    proposal = _proposal(item)
    level = StockLevel.objects.select_related("sku", "facility").get(pk=int(item.object_id or 0))
    proposer = User.objects.filter(pk=int(proposal.get("proposed_by") or 0)).first()
    why = proposal.get("reason", "")
    note = (note or "").strip()
    with transaction.atomic():
        result = stock_cycle_count(
            sku=level.sku,
            facility=level.facility,
            counted=int(proposal["counted"]),
            event_id=f"count-proposal:{item.pk}",
            actor=proposer,
            approver=actor,
            reason=f"{why} (approved: {note})" if note else why,
        )
        exception_resolve(item=item, actor=actor, note=f"Count approved. {note}".strip())
    return result


def count_reject(*, item: ExceptionItem, actor: User, note: str) -> ExceptionItem:
    """The manager rejects the count (e.g. recount needed): stock is unchanged, the decision is recorded."""
    _proposal(item)
    if not actor.has_perm("inventory.approve_cycle_count"):
        raise NotPermitted("You may not decide count proposals.")
    note = (note or "").strip()
    return exception_resolve(item=item, actor=actor, note=f"Count rejected: {note}" if note else "")
