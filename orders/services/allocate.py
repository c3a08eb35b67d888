"""The one allocation entry point, `allocation_apply`: it decides the plan (the facility, or one leg per facility of a
split; a pre-order goes where its scheduled inbound arrives and waits for it), draws a wholesale order's contract
units, claims a pre-order's inbound, allocates the stock all or nothing, and writes the order's allocation rows
(`AllocationRow`: line, facility, SKU, quantity, source and the ledger event). Every later stock step walks those rows.

Event ids are derived from the order (`order:<pk>:allocate:<round>` and `…:allocate_reserved:<round>`, `:<facility>`
per leg of a split), so a replayed allocation never moves stock twice."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from inventory.kits import expand_lines
from inventory.models import Sku, StockLevel
from inventory.services import stock_allocate, stock_allocate_reserved
from orders.allocation.contracts import contract_reservation_draw, contract_reservations_fill, wholesale_customer
from orders.allocation.cutoffs import ship_by_compute
from orders.allocation.models import ContractReservation, PriorityClass
from orders.allocation.preorders import preorder_facility, preorder_hold_reason
from orders.allocation.routing import RoutePlan
from orders.allocation.services import order_priority, order_route_decide
from orders.models import (
    AllocationRow,
    AllocationSource,
    Order,
    OrderEventKind,
    allocation_rows,
    allocation_rows_remember,
    order_lines,
    order_skus,
)
from orders.services.common import order_label, reasons_text
from orders.services.legs import leg_suffix
from orders.services.stock import allocation_release
from orders.services.timeline import timeline_add
from warehouse.errors import InsufficientStock, Reason
from warehouse.models import ExceptionKind, Facility
from warehouse.transitions import Actor


@dataclass(frozen=True)
class Shortfall:
    """Why the order cannot be allocated now, and which exception holds it."""

    reason: Reason
    kind: ExceptionKind


@dataclass(frozen=True)
class Draw:
    """What one facility's allocation took: units per stocked SKU from the order's own contract, and the events."""

    facility: Facility
    lines: list[list[int]]  # [[line sku_id, quantity], ...] allocated here
    own: dict[int, int]  # stocked sku_id → units drawn from the contract
    stock_event: str  # "" when nothing came from free stock
    reserved_event: str  # "" when nothing came from the contract


def allocation_apply(order: Order, *, actor: Actor, reroute: bool) -> Shortfall | None:
    """Allocate every line of a validated, locked order, all or nothing. `reroute`: choose the facility (and a split)
    again first (a new order, or one held because it would split). Returns None once the order holds its allocation
    rows (nothing moves when it already held exactly its lines), else why it waits (the caller holds it)."""
    split = _route(order) if reroute else None
    required = order.required_stock()
    if not required:
        reason = Reason("not_allocatable", "every line needs a resolved SKU and a positive quantity to be allocated")
        return Shortfall(reason, ExceptionKind.ORDER_ON_HOLD)
    if order.facility is None:
        reason = Reason("facility_missing", "no facility is set to ship this order from")
        return Shortfall(reason, ExceptionKind.ORDER_ON_HOLD)
    if order.allocated_stock() == required:
        return None
    allocation_release(order, actor=actor, why="the lines changed")
    priority = order_priority(order=order)
    if priority == PriorityClass.PREORDER:  # claims its inbound (once); waits for it, or is sold out
        waiting = preorder_hold_reason(order=order, required=required, actor=actor)
        if waiting is not None:
            return Shortfall(waiting, ExceptionKind.ORDER_SHORT)
    try:
        if split is None:
            draws = [_allocate_at(order, required, priority=priority, actor=actor, facility=order.facility)]
        else:
            draws = _allocate_legs(order, split, priority=priority, actor=actor)
    except InsufficientStock as exc:
        why = reasons_text(exc.reasons) or exc.message
        if split is not None:  # held for stock like any short order, and routed again when retried
            return Shortfall(
                Reason("split_route", f"short of stock for its split ({_split_words(split)}): {why}"),
                ExceptionKind.ORDER_SHORT,
            )
        short = Reason("short", f"short of stock at {order.facility.code}: {why}")
        return Shortfall(short, ExceptionKind.ORDER_SHORT)
    _rows_write(order, draws, priority=priority)
    order.stock_round += 1  # saved with the acceptance (or the hold) that follows
    source = " from its contract reservation" if priority == PriorityClass.WHOLESALE else ""
    if split is None:
        message = f"Allocated {sum(qty for _, qty in required)} unit(s) at {order.facility.code}{source}"
    else:
        parts = [f"{sum(qty for _, qty in draw.lines)} unit(s) at {draw.facility.code}" for draw in draws]
        message = f"{_split_words(split)}: allocated {', '.join(parts)}{source}"
    timeline_add(order, OrderEventKind.ALLOCATED, message, actor=actor)
    return None


def _route(order: Order) -> RoutePlan | None:
    """Before the first allocation: choose the facility (the nearest holding all the stock that can meet the cutoff,
    per orders.allocation.routing; a pre-order goes where its scheduled inbound arrives) and compute ship-by there.
    No routable facility: the brand's default facility stays. A split (only when the brand's policy allows it and no
    single facility can) is returned, recorded with its estimated fee, to be allocated per leg; `Order.facility` is
    its first leg. Not saved here: the acceptance or the hold that follows saves the order whole."""
    required = order.required_stock()
    if not required or allocation_rows(order):
        return None  # nothing to route, or already allocated where it is
    priority = order_priority(order=order)
    facility: Facility | None = None
    split: RoutePlan | None = None
    if priority == PriorityClass.PREORDER:
        facility = preorder_facility(order=order, required=required)
    if facility is None:
        _, plan = order_route_decide(order=order)
        if plan.legs:
            facility = plan.legs[0].facility
        if plan.is_split:
            split = plan
    if facility is not None and facility.pk != order.facility_id:
        order.facility = facility
    paid_at = order.paid_at or order.placed_at
    # A ship-by a person or a DTC channel gave is the promise already made; a marketplace's is a hard deadline that
    # only an earlier cutoff plan can beat; without one the cutoff plan at the chosen facility sets it.
    plan_ship_by = order.ship_by is None or order.is_marketplace
    if order.facility is not None and paid_at is not None and plan_ship_by:
        planned = ship_by_compute(
            brand=order.brand,
            facility=order.facility,
            paid_at=paid_at,
            platform=order.platform_code,
            marketplace=order.is_marketplace,
            promised_ship_by=order.ship_by,
        )
        order.ship_by = planned.at
    return split


def _split_words(split: RoutePlan) -> str:
    codes = [leg.facility.code for leg in split.legs]
    return f"Split across {', '.join(codes[:-1])} and {codes[-1]} (estimated fee {split.split_fee})"


def _allocate_legs(order: Order, split: RoutePlan, *, priority: str, actor: Actor) -> list[Draw]:
    """A split: each leg of the plan routing just made allocated at its own facility, every leg or none (one
    savepoint). Facilities are taken in id order, so concurrent splits lock stock rows in one global order and cannot
    deadlock. Draws in leg order (the first leg is `Order.facility`)."""
    draws: dict[int, Draw] = {}
    with transaction.atomic():
        for leg in sorted(split.legs, key=lambda leg: leg.facility.pk):
            lines = [[sku.pk, n] for sku, n in leg.lines]
            draws[leg.facility.pk] = _allocate_at(
                order, lines, priority=priority, actor=actor, facility=leg.facility, suffix=leg_suffix(leg.facility)
            )
    return [draws[leg.facility.pk] for leg in split.legs]


def _allocate_at(
    order: Order, required: list[list[int]], *, priority: str, actor: Actor, facility: Facility, suffix: str = ""
) -> Draw:
    """Allocate `required` at `facility`, all or nothing (`InsufficientStock` otherwise). Contract units are kept back
    first; a wholesale order takes its own contract's units (reserved → allocated, drawn from the contract) and only
    the rest, if any, from free stock; ordinary orders never see reserved units."""
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
    own = {sku_id: n for sku_id, n in own.items() if n}
    round_ = order.stock_round + 1
    reference = f"order {order_label(order)}"
    stock_event = f"order:{order.pk}:allocate:{round_}{suffix}"
    if not own:
        stock_allocate(facility=facility, lines=lines, event_id=stock_event, actor=actor, reference=reference)
        return Draw(facility, required, {}, stock_event, "")
    reserved_event = f"order:{order.pk}:allocate_reserved:{round_}{suffix}"
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
            facility=facility,
            lines=[(parts[sku_id], n) for sku_id, n in sorted(own.items())],
            event_id=reserved_event,
            actor=actor,
            reference=f"{reference} (contract {customer})",
        )
        for sku_id, n in sorted(own.items()):
            if contract_reservation_draw(customer=customer, sku=parts[sku_id], facility=facility, quantity=n) < n:
                message = f"{parts[sku_id].code}: the contract of {customer} no longer covers {n}"
                raise InsufficientStock(message, reasons=[Reason("insufficient_reserved", message)])
        rest = [(parts[sku_id], units - own.get(sku_id, 0)) for sku_id, units in sorted(need.items())]
        rest = [(sku, n) for sku, n in rest if n > 0]
        if rest:
            stock_allocate(facility=facility, lines=rest, event_id=stock_event, actor=actor, reference=reference)
    return Draw(facility, required, own, stock_event if rest else "", reserved_event)


def _rows_write(order: Order, draws: list[Draw], *, priority: str) -> None:
    """One row per order line, facility and source: each facility's units go to the lines of that SKU in line order;
    a plain SKU's contract units first. (A kit line's row names the stock event; its components' contract draw, if
    any, is in the ledger under the reserved event.)"""
    skus = order_skus(order)
    preorder = priority == PriorityClass.PREORDER  # its units are those its claimed inbound brought
    stock_source = AllocationSource.PREORDER_CLAIM if preorder else AllocationSource.STOCK
    left = {line.pk: line.quantity or 0 for line in order_lines(order) if line.sku_id is not None}
    rows: list[AllocationRow] = []
    for draw in draws:
        own = dict(draw.own)
        for sku_id, quantity in draw.lines:
            want = int(quantity)
            for line in order_lines(order):
                if line.sku_id != int(sku_id) or not left.get(line.pk) or not want:
                    continue
                take = min(left[line.pk], want)
                left[line.pk] -= take
                want -= take
                sku = skus[int(sku_id)]
                fenced = 0 if sku.is_kit else min(take, own.get(sku.pk, 0))
                if fenced:
                    own[sku.pk] -= fenced
                    rows.append(_row(order, line.pk, draw, sku, fenced, AllocationSource.CONTRACT, draw.reserved_event))
                if take - fenced:
                    event = draw.stock_event or draw.reserved_event
                    rows.append(_row(order, line.pk, draw, sku, take - fenced, stock_source, event))
    AllocationRow.objects.bulk_create(rows)
    allocation_rows_remember(order, rows)


def _row(order: Order, line_id: int, draw: Draw, sku: Sku, quantity: int, source: str, event_id: str) -> AllocationRow:
    return AllocationRow(
        order=order,
        line_id=line_id,
        facility=draw.facility,
        sku=sku,
        quantity=quantity,
        source=source,
        event_id=event_id,
    )
