"""An order's allocation per facility (a leg): one leg at its facility, or one per facility of a split order. Every
stock step after allocation walks these, each leg at its own facility, ledgered per order round and leg."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from inventory.models import Sku
from orders.models import Order, allocation_legs, allocation_rows, is_split
from warehouse.models import Facility
from warehouse.transitions import Actor


@dataclass(frozen=True)
class Leg:
    """One facility's part of an order's allocation. `suffix` keeps each leg's stock event ids apart: "" for an
    order at one facility (`order:<pk>:<step>:<round>`, as always), ":<facility code>" per leg of a split."""

    facility: Facility
    lines: list[tuple[Sku, int]]
    suffix: str = ""


def leg_suffix(facility: Facility) -> str:
    return f":{facility.code}"


def order_legs(order: Order) -> list[Leg]:
    """The order's allocation rows per facility (`orders.models.allocation_legs`): every stock step after allocation
    (release, start pick, unpick, ship) walks these, each leg at its own facility."""
    rows = allocation_rows(order)
    skus = {row.sku_id: row.sku for row in rows}
    facilities = {row.facility_id: row.facility for row in rows}
    split = is_split(order)
    return [
        Leg(
            facilities[facility_id],
            [(skus[sku_id], qty) for sku_id, qty in lines],
            leg_suffix(facilities[facility_id]) if split else "",
        )
        for facility_id, lines in allocation_legs(order)
    ]


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
