"""An order's allocation per facility (a leg): one leg at its facility, or one per facility of a split order. Every
stock step after allocation walks these, each leg at its own facility, ledgered per order round and leg."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from inventory.models import Sku
from orders.models import (
    Order,
    allocation_legs,
    is_split,
)
from warehouse.models import Facility
from warehouse.selectors import facility_by_pk
from warehouse.transitions import Actor


@dataclass(frozen=True)
class Leg:
    """One facility's part of an order's allocation. `suffix` keeps each leg's stock event ids apart: "" for an
    order at one facility (`order:<pk>:<step>:<round>`, as always), ":<facility code>" per leg of a split."""

    facility: Facility
    lines: list[tuple[Sku, int]]
    suffix: str = ""


def stock_lines(order: Order) -> list[tuple[Sku, int]]:
    pairs = order.allocated_stock()
    skus = Sku.objects.in_bulk([sku_id for sku_id, _ in pairs])
    return [(skus[sku_id], qty) for sku_id, qty in pairs]


def leg_suffix(facility: Facility) -> str:
    return f":{facility.code}"


def order_legs(order: Order) -> list[Leg]:
    """The order's allocation per facility (`orders.models.allocation_legs`): every stock step after allocation
    (release, start pick, unpick, ship) walks these, each leg at its own facility."""
    if not is_split(order):
        assert order.facility is not None
        return [Leg(order.facility, stock_lines(order))]
    legs = allocation_legs(order)
    skus = Sku.objects.in_bulk({sku_id for _, lines in legs for sku_id, _ in lines})
    found = []
    for facility_id, lines in legs:
        facility = facility_by_pk(facility_id) if facility_id is not None else None
        assert facility is not None
        found.append(Leg(facility, [(skus[sku_id], qty) for sku_id, qty in lines], leg_suffix(facility)))
    return found


def stock_event_id(order: Order, step: str, leg: Leg) -> str:
    return f"order:{order.pk}:{step}:{order.stock_round}{leg.suffix}"


def legs_move(
    order: Order, legs: Sequence[Leg], move: Callable[..., Any], step: str, *, actor: Actor, reference: str
) -> None:
    """One stock step (release, start pick, unpick) at every leg's facility, ledgered per order round and leg."""
    for leg in legs:
        move(facility=leg.facility, lines=leg.lines, event_id=stock_event_id(order, step, leg), actor=actor,
             reference=reference)  # fmt: skip


def legs_where(legs: Sequence[Leg]) -> str:
    return " and ".join(leg.facility.code for leg in legs)
