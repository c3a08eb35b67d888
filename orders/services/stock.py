"""The stock steps of an order: allocate at a facility (all or nothing, contract units first for a wholesale order),
allocate every leg of a split, and release an allocation (contract units go back to their reservation)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from inventory.kits import expand_lines
from inventory.models import Movement, Sku, StockLevel
from inventory.services import (
    stock_allocate,
    stock_allocate_reserved,
    stock_release,
)
from orders.allocation.contracts import (
    contract_reservation_draw,
    contract_reservation_undraw,
    contract_reservations_fill,
    wholesale_customer,
)
from orders.allocation.models import (
    ContractReservation,
    OrderRoute,
    PriorityClass,
)
from orders.models import (
    Order,
    OrderEventKind,
    order_skus,
)
from orders.services.common import order_label
from orders.services.legs import Leg, leg_suffix, legs_move, order_legs, stock_event_id
from orders.services.timeline import timeline_add
from warehouse.errors import InsufficientStock, Reason
from warehouse.history import save_with_history
from warehouse.models import Facility
from warehouse.selectors import facility_by_pk
from warehouse.transitions import Actor


def allocation_release(order: Order, *, actor: Actor, why: str) -> None:
    """Give an accepted (not yet picked) order's allocation back to available, at every facility it is held."""
    if not order.allocated_lines:
        return
    legs = order_legs(order)
    legs_move(order, legs, stock_release, "release", actor=actor, reference=f"order {order_label(order)}")
    allocation_forget(order, legs, actor=actor, reason=why, message=f"Allocated stock released: {why}")


def allocation_forget(order: Order, legs: Sequence[Leg], *, actor: Actor, reason: str, message: str) -> None:
    """After the stock went back: contract units return to their reservation and the order holds nothing."""
    _return_contract_units(order, legs)
    order.allocated_lines = []
    save_with_history(order, actor=actor, reason=reason, fields=["allocated_lines", "updated_at"])
    timeline_add(order, OrderEventKind.ALLOCATION_RELEASED, message, actor=actor)


def _return_contract_units(order: Order, legs: Sequence[Leg]) -> None:
    """A wholesale order gives back what it drew from its contract (read from its own `allocate_reserved` events), so
    the contract's units are ring-fenced again on the next fill instead of becoming free for everyone for good."""
    if order.facility is None:
        return
    at = {leg.facility.pk: leg.facility for leg in legs}
    drawn = Movement.objects.filter(
        event_id__in=[stock_event_id(order, "allocate_reserved", leg) for leg in legs]
    ).select_related("sku")
    customer = wholesale_customer(order)
    for movement in drawn:
        contract_reservation_undraw(
            customer=customer, sku=movement.sku, facility=at[movement.facility_id], quantity=movement.quantity
        )


def allocate_at(
    order: Order,
    required: list[list[int]],
    *,
    priority: str,
    actor: Actor,
    facility: Facility | None = None,
    suffix: str = "",
) -> None:
    """Allocate the order (or one leg of a split: `facility`, `suffix`) at its facility, all or nothing
    (`InsufficientStock` otherwise). Contract units are kept back first; a wholesale order takes its own contract's
    units (reserved → allocated, drawn from the contract) and only the rest, if any, from free stock; ordinary orders
    never see reserved units."""
    facility = facility or order.facility
    assert facility is not None
    skus = order_skus(order)
    lines = [(skus[sku_id], qty) for sku_id, qty in required]
    need, _ = expand_lines(lines)
    contract_reservations_fill(facility=facility, sku_ids=list(need), actor=actor)
    customer = wholesale_customer(order) if priority == PriorityClass.WHOLESALE else ""
    own: dict[int, int] = {}
    if customer:
        for row in ContractReservation.objects.filter(
            customer=customer, facility=facility, sku_id__in=list(need)
        ).owed():
            own[row["sku_id"]] = min(need[row["sku_id"]], int(row["units"]))
    round_ = order.stock_round + 1
    reference = f"order {order_label(order)}"
    if not any(own.values()):
        stock_allocate(
            facility=facility, lines=lines, event_id=f"order:{order.pk}:allocate:{round_}{suffix}", actor=actor,
            reference=reference,
        )  # fmt: skip
        return
    parts = Sku.objects.in_bulk(list(need))
    with transaction.atomic():  # the contract draw and both stock events, or nothing
        # Two stock events touch the rows in two passes: lock them all first, in SKU order, so a concurrent
        # allocation (which updates in SKU order too) can never deadlock with this one.
        list(
            StockLevel.objects.select_for_update()
            .filter(facility=facility, sku_id__in=list(need))
            .order_by("sku_id")
            .values_list("pk", flat=True)
        )
        stock_allocate_reserved(
            facility=facility, lines=[(parts[sku_id], n) for sku_id, n in sorted(own.items()) if n],
            event_id=f"order:{order.pk}:allocate_reserved:{round_}{suffix}", actor=actor,
            reference=f"{reference} (contract {customer})",
        )  # fmt: skip
        for sku_id, n in sorted(own.items()):
            if n and contract_reservation_draw(customer=customer, sku=parts[sku_id], facility=facility, quantity=n) < n:
                message = f"{parts[sku_id].code}: the contract of {customer} no longer covers {n}"
                raise InsufficientStock(message, reasons=[Reason("insufficient_reserved", message)])
        rest = [(parts[sku_id], units - own.get(sku_id, 0)) for sku_id, units in sorted(need.items())]
        rest = [(sku, n) for sku, n in rest if n > 0]
        if rest:
            stock_allocate(
                facility=facility, lines=rest, event_id=f"order:{order.pk}:allocate:{round_}{suffix}", actor=actor,
                reference=reference,
            )  # fmt: skip


def allocate_legs(order: Order, split: OrderRoute, *, priority: str, actor: Actor) -> list[list[int]]:
    """A split: each leg allocated at its own facility, every leg or none (one savepoint). Facilities are taken in
    id order, so concurrent splits lock stock rows in one global order and cannot deadlock. Returns the
    `allocated_lines` entries, `[sku_id, quantity, facility_id]`, in leg order (the first leg is `Order.facility`)."""
    with transaction.atomic():
        for leg in sorted(split.legs, key=lambda leg: int(leg["facility_id"])):
            facility = facility_by_pk(int(leg["facility_id"]))
            if facility is None:
                raise InsufficientStock(f"{leg['facility']} no longer exists", reasons=[])
            allocate_at(order, leg["lines"], priority=priority, actor=actor, facility=facility,
                      suffix=leg_suffix(facility))  # fmt: skip
    return [[int(sku_id), int(qty), int(leg["facility_id"])] for leg in split.legs for sku_id, qty in leg["lines"]]
