"""Contract reservations: units ring-fenced for a wholesale or retail customer, filled from available stock as far
as it allows, drawn by that customer's orders and given back when such an order lets its allocation go."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F

from inventory.models import Sku, StockLevel
from inventory.services import stock_reserve, stock_unreserve
from orders.allocation.models import (
    ContractReservation,
)
from orders.allocation.routing import stock_facts
from orders.models import Order
from warehouse.errors import InvalidInput, Reason
from warehouse.history import save_with_history
from warehouse.memo import memo_clear
from warehouse.models import Brand, Facility
from warehouse.transitions import Actor


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
    with transaction.atomic():
        save_with_history(reservation, actor=actor, reason="reserved by contract")
        contract_reservations_fill(facility=facility, sku_ids=[sku.pk], actor=actor)
    return reservation


def contract_reservations_fill(*, facility: Facility, sku_ids: Iterable[int], actor: Actor = None) -> None:
    """Keep each SKU's `reserved` bucket at this facility equal to what its contracts still need (Σ quantity − drawn),
    as far as available stock allows: short contracts take arriving stock before ordinary orders can, and units no
    contract needs any more go back to available. Each change is a ledgered `reserve` / `unreserve` movement; the
    stock rows are locked in SKU order, so concurrent fills neither deadlock nor reserve twice."""
    ids = sorted(set(sku_ids))
    if not ids:
        return
    facts = stock_facts(sku_ids=tuple(ids))  # memoised with routing's read; the locked path below reads afresh
    needed: dict[int, int] = {}
    for facility_id, sku_id, _, units in facts.contracts:
        if facility_id == facility.pk:
            needed[sku_id] = needed.get(sku_id, 0) + units
    stale = [
        sku_id
        for sku_id, facility_id, available, reserved in facts.levels
        if facility_id == facility.pk
        and (needed.get(sku_id, 0) < reserved or (needed.get(sku_id, 0) > reserved and available > 0))
    ]
    if not stale:
        return  # the common case (no contract on these SKUs): no lock taken
    memo_clear()  # the fill changes `reserved`: later reads in this unit of work must see it
    with transaction.atomic():
        locked = list(
            StockLevel.objects.select_for_update()
            .filter(facility=facility, sku_id__in=stale)
            .select_related("sku")
            .order_by("sku_id")
        )
        for level in locked:
            owed = ContractReservation.objects.filter(facility=facility, sku_id=level.sku_id).owed()
            wanted = sum(int(row["units"]) for row in owed)
            gap = int(wanted) - level.reserved
            event_id = f"contract-fill:{facility.pk}:{level.sku_id}:{uuid.uuid4().hex}"
            if gap > 0 and level.available > 0:
                stock_reserve(
                    sku=level.sku, facility=facility, quantity=min(gap, level.available), event_id=event_id,
                    actor=actor, reason="units ring-fenced for contract reservations",
                )  # fmt: skip
            elif gap < 0:
                stock_unreserve(
                    sku=level.sku, facility=facility, quantity=-gap, event_id=event_id, actor=actor,
                    reason="no contract needs these units any more",
                )  # fmt: skip


def contract_reservation_draw(*, customer: str, sku: Sku, facility: Facility, quantity: int) -> int:
    """A wholesale order of `customer` was allocated: draw its units from the ring-fence (as many as remain).
    Conditional UPDATEs, so two concurrent draws never take more than was reserved. Returns units drawn."""
    left = quantity
    reservations = ContractReservation.objects.filter(customer=customer, sku=sku, facility=facility).open()
    for reservation in reservations.order_by("ship_date", "pk"):
        take = min(left, reservation.remaining)
        if take and ContractReservation.objects.filter(pk=reservation.pk, drawn__lte=F("quantity") - take).update(
            drawn=F("drawn") + take
        ):
            left -= take
        if not left:
            break
    return quantity - left


def contract_reservation_undraw(*, customer: str, sku: Sku, facility: Facility, quantity: int) -> int:
    """A wholesale order gave its units back (cancelled, edited, held): they return to its contract, latest drawn
    first. Returns units returned; the next fill ring-fences them again."""
    left = quantity
    for reservation in ContractReservation.objects.filter(
        customer=customer, sku=sku, facility=facility, drawn__gt=0
    ).order_by("-ship_date", "-pk"):
        give = min(left, reservation.drawn)
        if give and ContractReservation.objects.filter(pk=reservation.pk, drawn__gte=give).update(
            drawn=F("drawn") - give
        ):
            left -= give
        if not left:
            break
    return quantity - left


def wholesale_customer(order: Order) -> str:
    """The contract account a wholesale/retail order draws on: `extra["customer"]`, else the delivery name."""
    extra = order.extra if isinstance(order.extra, dict) else {}
    return str(extra.get("customer") or order.delivery_name or "").strip()
