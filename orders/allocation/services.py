"""Write use-cases of allocation: the brand edits its policy and cutoffs (kept in history), contract reservations
and scheduled inbound are recorded, and waiting orders are allocated in policy order as stock arrives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F

from inventory.models import Sku
from inventory.services import StockResult, stock_receive
from orders.allocation.models import (
    AllocationPolicy,
    ContractReservation,
    Cutoff,
    PriorityClass,
    ScheduledInbound,
)
from warehouse.errors import Conflict, InvalidInput, Reason
from warehouse.models import Brand, Facility
from warehouse.transitions import Actor

POLICY_FIELDS = {
    "class_order",
    "prime_platforms",
    "window_platforms",
    "marketplace_window_hours",
    "split_allowed",
    "split_fee",
}


def _save(obj: Any, *, actor: Actor, reason: str) -> None:
    obj._history_user = actor
    obj._change_reason = reason
    obj.save()


def allocation_policy_update(*, brand: Brand, actor: Actor, reason: str, **changes: Any) -> AllocationPolicy:
    """The brand (or its account manager) adjusts the policy; the old version stays in history with who and why."""
    unknown = set(changes) - POLICY_FIELDS
    if unknown:
        raise InvalidInput(
            "Unknown policy fields.",
            reasons=[Reason("unknown_field", f"{name} is not a policy field") for name in sorted(unknown)],
        )
    order = changes.get("class_order")
    if order is not None and (sorted(order) != sorted(PriorityClass.values)):
        message = "class_order must list each priority class once: " + ", ".join(PriorityClass.values)
        raise InvalidInput(message, reasons=[Reason("class_order_invalid", message)])
    fee = changes.get("split_fee")
    if fee is not None and Decimal(str(fee)) < 0:
        raise InvalidInput("The split fee cannot be negative.", reasons=[Reason("split_fee_negative", "fee < 0")])
    with transaction.atomic():
        policy = AllocationPolicy.objects.select_for_update().filter(brand=brand).first() or AllocationPolicy(
            brand=brand
        )
        for name, value in changes.items():
            setattr(policy, name, Decimal(str(value)) if name == "split_fee" else value)
        _save(policy, actor=actor, reason=(reason or "").strip() or "policy edited")
    return policy


def cutoff_set(
    *,
    brand: Brand,
    facility: Facility,
    cutoff_time: dt.time,
    actor: Actor,
    platform: str = "",
    handling_days: int = 0,
    hard_deadline: bool = False,
    ship_weekdays: list[int] | None = None,
    reason: str = "",
) -> Cutoff:
    """Create or change the cutoff of one channel at one facility (local time of the facility)."""
    with transaction.atomic():
        cutoff = Cutoff.objects.select_for_update().filter(brand=brand, facility=facility, platform=platform).first()
        cutoff = cutoff or Cutoff(brand=brand, facility=facility, platform=platform)
        cutoff.cutoff_time = cutoff_time
        cutoff.handling_days = handling_days
        cutoff.hard_deadline = hard_deadline
        cutoff.ship_weekdays = list(ship_weekdays or [])
        _save(cutoff, actor=actor, reason=reason or "cutoff set")
    return cutoff


def contract_reservation_create(
    *,
    brand: Brand,
    customer: str,
    sku: Sku,
    facility: Facility,
    quantity: int,
    actor: Actor,
    contract_ref: str = "",
    ship_date: dt.date | None = None,
) -> ContractReservation:
    """Ring-fence units for a wholesale/retail customer: ordinary orders no longer see them."""
    customer = (customer or "").strip()
    if not customer or quantity <= 0:
        raise InvalidInput(
            "A reservation needs a customer and a positive quantity.",
            reasons=[Reason("reservation_invalid", "Give the customer and a quantity ≥ 1")],
        )
    reservation = ContractReservation(
        brand=brand, customer=customer, sku=sku, facility=facility, quantity=quantity,
        contract_ref=contract_ref, ship_date=ship_date,
    )  # fmt: skip
    _save(reservation, actor=actor, reason="reserved by contract")
    return reservation


def contract_reservation_draw(*, customer: str, sku: Sku, facility: Facility, quantity: int) -> int:
    """A wholesale order of `customer` was allocated: draw its units from the ring-fence (as many as remain).
    Conditional UPDATEs, so two concurrent draws never take more than was reserved. Returns units drawn."""
    left = quantity
    for reservation in ContractReservation.objects.filter(
        customer=customer, sku=sku, facility=facility, drawn__lt=F("quantity")
    ).order_by("ship_date", "pk"):
        take = min(left, reservation.remaining)
        if take and ContractReservation.objects.filter(pk=reservation.pk, drawn__lte=F("quantity") - take).update(
            drawn=F("drawn") + take
        ):
            left -= take
        if not left:
            break
    return quantity - left


def scheduled_inbound_create(
    *,
    brand: Brand,
    sku: Sku,
    facility: Facility,
    quantity: int,
    expected_on: dt.date,
    actor: Actor,
    preorder_limit: int = 0,
) -> ScheduledInbound:
    if quantity <= 0 or not 0 <= preorder_limit <= quantity:
        raise InvalidInput(
            "Inbound needs a positive quantity and a pre-order limit within it.",
            reasons=[Reason("inbound_invalid", "0 ≤ pre-order limit ≤ quantity, quantity ≥ 1")],
        )
    inbound = ScheduledInbound(
        brand=brand, sku=sku, facility=facility, quantity=quantity, expected_on=expected_on,
        preorder_limit=preorder_limit,
    )  # fmt: skip
    _save(inbound, actor=actor, reason="inbound scheduled")
    return inbound


def preorder_claim(*, sku: Sku, quantity: int) -> ScheduledInbound:
    """Promise `quantity` units of the earliest open inbound to a pre-order (virtual stock); refused when none is
    left to pre-sell. One conditional UPDATE: concurrent pre-orders never over-promise."""
    for inbound in ScheduledInbound.objects.filter(sku=sku, received=False).order_by("expected_on", "pk"):
        if ScheduledInbound.objects.filter(
            pk=inbound.pk, received=False, preordered__lte=F("preorder_limit") - quantity
        ).update(preordered=F("preordered") + quantity):
            inbound.refresh_from_db()
            return inbound
    message = f"{sku.code}: no scheduled inbound left to pre-sell {quantity}"
    raise Conflict(message, reasons=[Reason("preorder_sold_out", message)])


def scheduled_inbound_receive(*, inbound: ScheduledInbound, quantity: int, event_id: str, actor: Actor) -> StockResult:
    """The inbound arrived: receive it into stock and mark it received, so its pre-orders may now be allocated."""
    with transaction.atomic():
        locked = ScheduledInbound.objects.select_for_update().get(pk=inbound.pk)
        result = stock_receive(
            sku=locked.sku, facility=locked.facility, quantity=quantity, event_id=event_id, actor=actor,
            reason=f"scheduled inbound {locked.pk}",
        )  # fmt: skip
        if not locked.received:
            locked.received = True
            _save(locked, actor=actor, reason="received")
    inbound.received = True
    return result
