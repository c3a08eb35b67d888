"""Waiting orders: as stock arrives, the orders held short are offered it in policy order, and a received inbound
accepts the pre-orders that claimed it. Both go through `order_accept` (all or nothing); acceptance never calls
back here."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F, Q

from inventory.kits import expand_lines
from inventory.models import KitComponent, Sku
from inventory.receiving import Receipt, inbound_receive_line
from orders.allocation.contracts import contract_reservations_fill, wholesale_customer
from orders.allocation.models import (
    AllocationPolicy,
    ContractReservation,
    PreorderClaim,
    PriorityClass,
    ScheduledInbound,
)
from orders.allocation.policy import Ranked, in_policy_order, rank
from orders.allocation.routing import free_stock
from orders.allocation.selectors import allocation_policy_for
from orders.allocation.services import order_priority
from orders.models import Order, OrderLine, OrderState, held_for_split
from orders.services.lifecycle import order_accept
from warehouse.errors import DomainError
from warehouse.history import save_with_history
from warehouse.models import Brand, Facility
from warehouse.transitions import Actor

WAITING_CODES = ("short", "awaiting_inbound", "split_route", "preorder_sold_out")


@dataclass
class WaitingRun:
    """Order ids accepted in this run (in the order they were served), those still short, pre-orders waiting for
    their claimed inbound and pre-orders no open inbound can take (sold out)."""

    accepted: list[int] = field(default_factory=list)
    still_short: list[int] = field(default_factory=list)
    awaiting_inbound: list[int] = field(default_factory=list)
    sold_out: list[int] = field(default_factory=list)


def allocation_run_waiting(
    *, brand: Brand, facility: Facility, actor: Actor = None, sku_ids: Collection[int] | None = None
) -> WaitingRun:
    """Stock arrived: offer it to the orders held short, in policy order. Each is accepted through
    `orders.services.order_accept` (all or nothing). An order that does not fit does not block smaller ones behind
    it; ordinary orders never take units ring-fenced for a wholesale contract, and a wholesale order draws its
    contract's units. Pre-orders whose claimed inbounds all arrived go first (those units were promised to them;
    `scheduled_inbound_receive` normally accepted them already); one whose claimed inbound is still expected waits;
    a sold-out one is retried once an open inbound has room for it. With `sku_ids` (a receipt of those SKUs), only the
    orders that need one of them are offered, and only their contracts filled."""
    policy = allocation_policy_for(brand=brand)
    result = WaitingRun()
    waiting = waiting_orders(brand=brand, facility=facility, policy=policy, sku_ids=sku_ids)
    claims: dict[int, list[bool]] = {}  # order id → received flag of each active claim's inbound
    for order_id, received in PreorderClaim.objects.filter(
        order_id__in=[o.pk for o in waiting], released_at__isnull=True
    ).values_list("order_id", "inbound__received"):
        claims.setdefault(order_id, []).append(received)
    ready = {order_id for order_id, flags in claims.items() if all(flags)}
    waiting.sort(key=lambda o: o.pk not in ready)  # stable: policy order within both groups
    # Arriving stock fills short contracts first (ordinary orders must not take what a contract still needs).
    contract_reservations_fill(
        facility=facility,
        sku_ids=_open_contract_skus(facility=facility, sku_ids=sku_ids),
        actor=actor,
    )
    for order in waiting:
        required = order.required_stock()
        if not required:
            continue
        priority = order_priority(order=order)
        line_skus = [sku_id for sku_id, _ in required]
        if priority == PriorityClass.PREORDER and order.pk not in ready:
            if order.pk in claims:
                result.awaiting_inbound.append(order.pk)
            elif not _preorder_room(facility=facility, required=required):
                result.sold_out.append(order.pk)
            else:  # room again (more inbound scheduled, or claims given back): acceptance claims it
                order = order_accept(order=order, actor=actor)
                held = [r.get("code") for r in order.hold_reasons or [] if isinstance(r, dict)]
                (result.awaiting_inbound if "awaiting_inbound" in held else result.still_short).append(order.pk)
            continue
        customer = wholesale_customer(order) if priority == PriorityClass.WHOLESALE else ""
        skus = Sku.objects.in_bulk(line_skus)
        need, _ = expand_lines([(skus[sku_id], qty) for sku_id, qty in required])
        if held_for_split(order):  # acceptance routes it again across facilities: count stock everywhere
            everywhere = free_stock(sku_ids=list(need), customer=customer).values()
            free = {sku_id: sum(stock.get(sku_id, 0) for stock in everywhere) for sku_id in need}
        else:
            free = free_stock(sku_ids=list(need), facilities=[facility], customer=customer).get(facility.pk, {})
        if any(free.get(sku_id, 0) < units for sku_id, units in need.items()):
            result.still_short.append(order.pk)
            continue
        # Acceptance itself draws a wholesale order's contract units (orders.services._accept).
        order = order_accept(order=order, actor=actor)
        if order.state != OrderState.ACCEPTED:
            result.still_short.append(order.pk)
            continue
        result.accepted.append(order.pk)
    return result


def allocation_run_waiting_everywhere(*, actor: Actor = None) -> int:
    """The scheduled sweep: every (brand, facility) with orders held short. Returns orders accepted."""
    pairs = set(
        Order.objects.filter(state=OrderState.ON_HOLD, facility__isnull=False).values_list("brand_id", "facility_id")
    )
    brands, facilities = Brand.objects.in_bulk({b for b, _ in pairs}), Facility.objects.in_bulk({f for _, f in pairs})
    return sum(
        len(allocation_run_waiting(brand=brands[b], facility=facilities[f], actor=actor).accepted)
        for b, f in sorted(pairs)
    )


def waiting_orders(
    *, brand: Brand, facility: Facility, policy: AllocationPolicy, sku_ids: Collection[int] | None = None
) -> list[Order]:
    """Orders of the brand at the facility held "short", in policy order (class, then paid time, then arrival); with
    `sku_ids`, only those with a line of one of them or of a kit made of one of them."""
    held = Order.objects.filter(brand=brand, facility=facility, state=OrderState.ON_HOLD)
    if sku_ids is not None:
        kits = KitComponent.objects.filter(component_id__in=list(sku_ids)).values_list("kit_id", flat=True)
        held = held.filter(pk__in=OrderLine.objects.filter(Q(sku_id__in=list(sku_ids)) | Q(sku_id__in=kits))
                           .values("order_id"))  # fmt: skip
    held = held.select_related("channel").prefetch_related("lines").order_by("pk")
    ranked = [(order, _rank(order, policy)) for order in held if _is_short(order)]
    return list(in_policy_order(policy=policy, items=ranked))


def _is_short(order: Order) -> bool:
    """Held for stock: short, a pre-order waiting for its scheduled inbound (or for one with room), or an order
    that would have to split (offered again: once one facility holds all of it, it is routed there and accepted)."""
    return any(isinstance(r, dict) and r.get("code") in WAITING_CODES for r in order.hold_reasons or [])


def _rank(order: Order, policy: AllocationPolicy) -> Ranked:
    return rank(
        policy=policy, pk=order.pk, channel=order.channel, priority_class=order.priority_class,
        paid_at=order.paid_at or order.placed_at or order.created_at, deadline=order.ship_by,
    )  # fmt: skip


def _open_contract_skus(*, facility: Facility, sku_ids: Collection[int] | None) -> list[int]:
    open_skus = ContractReservation.objects.filter(facility=facility).open()
    if sku_ids is not None:
        open_skus = open_skus.filter(sku_id__in=list(sku_ids))
    return list(open_skus.values_list("sku_id", flat=True))


def _preorder_room(*, facility: Facility, required: list[list[int]]) -> bool:
    """Every SKU of a pre-order without claims has an open inbound at the facility that can still pre-sell it."""
    return all(
        ScheduledInbound.objects.open()
        .of_skus([sku_id])
        .at(facility)
        .filter(preordered__lte=F("preorder_limit") - qty)
        .exists()
        for sku_id, qty in required
    )


def scheduled_inbound_receive(*, inbound: ScheduledInbound, quantity: int, event_id: str, actor: Actor) -> Receipt:
    """The inbound arrived: receive its expected line (`inventory.receiving`, one path for every receipt), which marks
    the schedule received and, in the same transaction, allocates the pre-orders that claimed it (policy order, all
    or nothing each), so no order arriving meanwhile can take the units promised to them. Locks follow intake's order
    (the order, then the inbound and stock): the claiming orders first, then the schedule, then the line and stock;
    claims committed in between are locked after it."""
    with transaction.atomic():
        locked, claimers = _lock_for_arrival(inbound)
        receipt = inbound_receive_line(line=locked.expected_line, quantity=quantity, actor=actor, event_id=event_id)
        locked.refresh_from_db(fields=["received", "preordered"])  # the receipt's signal marked it and accepted them
        _arrived(locked, claimers=claimers, actor=actor)  # … unless the receipt was a replay: then it is done here
    inbound.received = True
    return receipt


def scheduled_inbound_arrived(*, inbound: ScheduledInbound, actor: Actor) -> list[int]:
    """Its units were received into stock by the receipt of its expected inbound line (inventory.receiving, in the
    caller's transaction): the rest of `scheduled_inbound_receive` — mark it received and allocate its claimers.
    Returns the orders accepted; a replay accepts nobody again."""
    with transaction.atomic():
        locked, claimers = _lock_for_arrival(inbound)
        accepted = _arrived(locked, claimers=claimers, actor=actor)
    inbound.received = True
    return accepted


def _lock_for_arrival(inbound: ScheduledInbound) -> tuple[ScheduledInbound, set[int]]:
    claimers = _claimers(inbound)
    _lock_orders(claimers)
    # Only the inbound row: locking the joined SKU and facility FOR UPDATE would block every concurrent order's
    # foreign-key checks on them (KEY SHARE) and deadlock with an allocation holding the SKU's dirty mark.
    inbounds = ScheduledInbound.objects.select_for_update(of=("self",)).with_line()
    locked = inbounds.get(pk=inbound.pk)
    late = _claimers(locked) - claimers
    _lock_orders(late)
    return locked, claimers | late


def _arrived(locked: ScheduledInbound, *, claimers: set[int], actor: Actor) -> list[int]:
    if not locked.received:
        locked.received = True
        save_with_history(locked, actor=actor, reason="received")
    return _accept_claimers(brand=locked.brand, order_ids=claimers, actor=actor)


def _accept_claimers(*, brand: Brand, order_ids: set[int], actor: Actor) -> list[int]:
    """Accept the waiting pre-orders among `order_ids` whose claimed inbounds have all arrived, in policy order."""
    if not order_ids:
        return []
    policy = allocation_policy_for(brand=brand)
    ready = _ready_claimers(order_ids)
    held = [
        o
        for o in Order.objects.filter(pk__in=ready, state=OrderState.ON_HOLD).select_related("channel")
        if _is_short(o)
    ]
    accepted = []
    for order in in_policy_order(policy=policy, items=[(o, _rank(o, policy)) for o in held]):
        try:
            with transaction.atomic():
                if order_accept(order=order, actor=actor).state == OrderState.ACCEPTED:
                    accepted.append(order.pk)
        except DomainError:  # one pre-order's problem is its own (it stays held); the receipt goes on
            continue
    return accepted


def _ready_claimers(order_ids: Iterable[int]) -> set[int]:
    """Orders among `order_ids` with active claims, none of them on an inbound still expected."""
    claims = PreorderClaim.objects.filter(order_id__in=list(order_ids), released_at__isnull=True)
    waiting = set(claims.filter(inbound__received=False).values_list("order_id", flat=True))
    return set(claims.values_list("order_id", flat=True)) - waiting


def _claimers(inbound: ScheduledInbound) -> set[int]:
    return set(
        PreorderClaim.objects.filter(inbound=inbound, released_at__isnull=True, order__state=OrderState.ON_HOLD)
        .values_list("order_id", flat=True)
        .distinct()
    )


def _lock_orders(ids: Iterable[int]) -> None:
    list(Order.objects.select_for_update(of=("self",)).filter(pk__in=list(ids)).order_by("pk").values_list("pk"))
