"""Write use-cases of allocation: the brand edits its policy and cutoffs (kept in history), contract reservations
and scheduled inbound are recorded, and waiting orders are allocated in policy order as stock arrives."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from inventory.models import Sku, StockLevel
from inventory.services import StockResult, stock_receive, stock_reserve, stock_unreserve
from orders.allocation.models import (
    MARKETPLACE_PLATFORMS,
    AllocationPolicy,
    ContractReservation,
    Cutoff,
    OrderRoute,
    PriorityClass,
    ScheduledInbound,
)
from orders.allocation.policy import in_policy_order, priority_of, rank
from orders.allocation.routing import Destination, expand_lines, free_stock, route_order
from orders.allocation.selectors import allocation_policy_for
from orders.models import Order, OrderState, order_skus
from warehouse.errors import Conflict, InvalidInput, Reason
from warehouse.history import save_with_history
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
        save_with_history(policy, actor=actor, reason=(reason or "").strip() or "policy edited")
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
        save_with_history(cutoff, actor=actor, reason=reason or "cutoff set")
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
    needed = {
        row["sku_id"]: int(row["units"])
        for row in ContractReservation.objects.filter(facility=facility, sku_id__in=ids)
        .values("sku_id")
        .annotate(units=Sum(F("quantity") - F("drawn")))
    }
    levels = StockLevel.objects.filter(facility=facility, sku_id__in=ids).with_available()
    stale = [
        level.sku_id
        for level in levels
        if needed.get(level.sku_id, 0) < level.reserved
        or (needed.get(level.sku_id, 0) > level.reserved and level.available > 0)
    ]
    if not stale:
        return  # the common case (no contract on these SKUs): no lock taken
    with transaction.atomic():
        locked = list(
            StockLevel.objects.select_for_update()
            .filter(facility=facility, sku_id__in=stale)
            .select_related("sku")
            .order_by("sku_id")
        )
        for level in locked:
            wanted = (
                ContractReservation.objects.filter(facility=facility, sku_id=level.sku_id).aggregate(
                    units=Sum(F("quantity") - F("drawn"))
                )["units"]
                or 0
            )
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
    save_with_history(inbound, actor=actor, reason="inbound scheduled")
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
            save_with_history(locked, actor=actor, reason="received")
    inbound.received = True
    return result


# ---------------------------------------------------------------------------------------------------------------
# Waiting orders: allocated in policy order as stock arrives
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class WaitingRun:
    """Order ids accepted in this run (in the order they were served) and those still short."""

    accepted: list[int] = field(default_factory=list)
    still_short: list[int] = field(default_factory=list)
    awaiting_inbound: list[int] = field(default_factory=list)


def wholesale_customer(order: Order) -> str:
    """The contract account a wholesale/retail order draws on: `extra["customer"]`, else the delivery name."""
    extra = order.extra if isinstance(order.extra, dict) else {}
    return str(extra.get("customer") or order.delivery_name or "").strip()


def order_priority(*, order: Order, policy: AllocationPolicy) -> PriorityClass:
    return priority_of(
        policy=policy, platform=order.platform, priority_class=order.priority_class,
        paid_at=order.paid_at or order.placed_at, deadline=order.ship_by,
    )  # fmt: skip


WAITING_CODES = ("short", "awaiting_inbound", "split_route")


def _is_short(order: Order) -> bool:
    """Held for stock: short, a pre-order waiting for its scheduled inbound, or an order that would have to split
    (offered again: once one facility holds all of it, it is routed there and accepted)."""
    return any(isinstance(r, dict) and r.get("code") in WAITING_CODES for r in order.hold_reasons or [])


def waiting_orders(*, brand: Brand, facility: Facility, policy: AllocationPolicy) -> list[Order]:
    """Orders of the brand at the facility held "short", in policy order (class, then paid time, then arrival)."""
    held = (
        Order.objects.filter(brand=brand, facility=facility, state=OrderState.ON_HOLD)
        .prefetch_related("lines")
        .order_by("pk")
    )
    ranked = [
        (
            order,
            rank(
                policy=policy,
                pk=order.pk,
                platform=order.platform,
                priority_class=order.priority_class,
                paid_at=order.paid_at or order.placed_at or order.created_at,
                deadline=order.ship_by,
            ),
        )
        for order in held
        if _is_short(order)
    ]
    return list(in_policy_order(policy=policy, items=ranked))


def allocation_run_waiting(*, brand: Brand, facility: Facility, actor: Actor = None) -> WaitingRun:
    """Stock arrived: offer it to the orders held short, in policy order. Each is accepted through
    `orders.services.order_accept` (all or nothing). An order that does not fit does not block smaller ones behind
    it; a pre-order waits for its scheduled inbound to be received; ordinary orders never take units ring-fenced for a
    wholesale contract, and a wholesale order draws its contract's units."""
    from orders.services import order_accept

    policy = allocation_policy_for(brand=brand)
    result = WaitingRun()
    waiting = waiting_orders(brand=brand, facility=facility, policy=policy)
    # Arriving stock fills short contracts first (ordinary orders must not take what a contract still needs).
    contract_reservations_fill(
        facility=facility,
        sku_ids=ContractReservation.objects.filter(facility=facility, drawn__lt=F("quantity")).values_list(
            "sku_id", flat=True
        ),
        actor=actor,
    )
    for order in waiting:
        required = order.required_stock()
        if not required:
            continue
        priority = order_priority(order=order, policy=policy)
        sku_ids = [sku_id for sku_id, _ in required]
        if (
            priority == PriorityClass.PREORDER
            and ScheduledInbound.objects.filter(sku_id__in=sku_ids, facility=facility, received=False).exists()
        ):
            result.awaiting_inbound.append(order.pk)
            continue
        customer = wholesale_customer(order) if priority == PriorityClass.WHOLESALE else ""
        skus = Sku.objects.in_bulk(sku_ids)
        need, _ = expand_lines([(skus[sku_id], qty) for sku_id, qty in required])
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


# ---------------------------------------------------------------------------------------------------------------
# Routing an order, recorded for the order page and the brand's view
# ---------------------------------------------------------------------------------------------------------------


def order_destination(order: Order) -> Destination:
    return Destination(country=order.delivery_country or "", postal_code=order.delivery_postal_code or "")


def order_route_decide(*, order: Order, now: dt.datetime | None = None) -> OrderRoute:
    """Route the order (nearest facility holding all of it that can meet the cutoff; a split only when no single
    one can) and record the decision with its estimated split fee. Orders call it at ingestion to pick the facility;
    re-running it re-decides (the old decision stays in history)."""
    now = now or timezone.now()
    required = order.required_stock()
    skus = order_skus(order)
    policy = allocation_policy_for(brand=order.brand)
    priority = order_priority(order=order, policy=policy)
    marketplace = order.platform in MARKETPLACE_PLATFORMS
    plan = route_order(
        brand=order.brand,
        lines=[(skus[sku_id], qty) for sku_id, qty in required if sku_id in skus],
        destination=order_destination(order),
        platform=order.platform,
        paid_at=order.paid_at or order.placed_at or now,
        deadline=order.ship_by if marketplace else None,
        customer=wholesale_customer(order) if priority == PriorityClass.WHOLESALE else "",
        policy=policy,
        now=now,
    )
    with transaction.atomic():
        route = OrderRoute.objects.select_for_update().filter(order=order).first() or OrderRoute(
            order=order, brand=order.brand
        )
        route.legs = [
            {"facility": leg.facility.code, "facility_id": leg.facility.pk, "lines": [[s.pk, n] for s, n in leg.lines]}
            for leg in plan.legs
        ]
        route.split_fee = plan.split_fee
        route.cutoff_met = plan.cutoff_met
        route.short = [r.as_dict() for r in plan.short]
        route.decided_at = now
        save_with_history(route, actor=None, reason="split across facilities" if plan.is_split else "routed")
    return route
