"""The stock steps of an order that give its allocation back: release (allocated → available) at every leg, and
forget the allocation rows; a wholesale order's contract units return to their reservation."""

from __future__ import annotations

from collections.abc import Sequence

from inventory.models import Movement
from inventory.services import stock_release
from orders.allocation.contracts import contract_reservation_undraw, wholesale_customer
from orders.models import AllocationRow, Order, OrderEventKind, allocation_rows, allocation_rows_remember
from orders.services.common import order_label
from orders.services.legs import Leg, legs_move, order_legs, stock_event_id
from orders.services.timeline import timeline_add
from warehouse.history import save_with_history
from warehouse.transitions import Actor


def allocation_release(order: Order, *, actor: Actor, why: str) -> None:
    """Give an accepted (not yet picked) order's allocation back to available, at every facility it is held."""
    if not allocation_rows(order):
        return
    legs = order_legs(order)
    legs_move(order, legs, stock_release, "release", actor=actor, reference=f"order {order_label(order)}")
    allocation_forget(order, legs, actor=actor, reason=why, message=f"Allocated stock released: {why}")


def allocation_forget(order: Order, legs: Sequence[Leg], *, actor: Actor, reason: str, message: str) -> None:
    """After the stock went back: contract units return to their reservation and the order holds nothing."""
    _return_contract_units(order, legs)
    AllocationRow.objects.filter(order=order).delete()
    allocation_rows_remember(order, [])
    save_with_history(order, actor=actor, reason=reason, fields=["updated_at"])
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
