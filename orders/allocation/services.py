"""Write use-cases of allocation: the brand edits its policy and cutoffs (kept in history), and an order's route is
decided and recorded. Contract reservations live in `contracts`, pre-orders in `preorders` (re-exported here); the
waiting orders are run from `orders.services.waiting`, above acceptance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from orders.allocation.contracts import (
    contract_reservation_create,
    contract_reservation_draw,
    contract_reservation_undraw,
    contract_reservations_fill,
    wholesale_customer,
)
from orders.allocation.models import (
    AllocationPolicy,
    Cutoff,
    OrderRoute,
    PriorityClass,
)
from orders.allocation.policy import priority_of
from orders.allocation.preorders import (
    is_preorder,
    preorder_claim,
    preorder_claims_release,
    preorder_facility,
    preorder_hold_reason,
    preorder_schedule_create,
    scheduled_inbound_create,
)
from orders.allocation.routing import Destination, RoutePlan, route_order
from orders.allocation.selectors import allocation_policy_for
from orders.models import Order, created_now, order_skus
from warehouse.errors import InvalidInput, Reason
from warehouse.history import save_with_history
from warehouse.models import Brand, Facility
from warehouse.transitions import Actor

__all__ = [
    "POLICY_FIELDS",
    "allocation_policy_update",
    "contract_reservation_create",
    "contract_reservation_draw",
    "contract_reservation_undraw",
    "contract_reservations_fill",
    "cutoff_set",
    "is_preorder",
    "order_destination",
    "order_priority",
    "order_route_decide",
    "preorder_claim",
    "preorder_claims_release",
    "preorder_facility",
    "preorder_hold_reason",
    "preorder_schedule_create",
    "scheduled_inbound_create",
    "wholesale_customer",
]

POLICY_FIELDS = {"class_order", "split_allowed", "split_fee"}


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


def order_priority(*, order: Order) -> PriorityClass:
    return priority_of(
        channel=order.channel, priority_class=order.priority_class, paid_at=order.paid_at or order.placed_at,
        deadline=order.ship_by,
    )  # fmt: skip


def order_destination(order: Order) -> Destination:
    return Destination(country=order.delivery_country or "", postal_code=order.delivery_postal_code or "")


def order_route_decide(*, order: Order, now: dt.datetime | None = None) -> tuple[OrderRoute, RoutePlan]:
    """Route the order (nearest facility holding all of it that can meet the cutoff; a split only when no single
    one can) and record the decision with its estimated split fee. Orders call it at ingestion to pick the facility;
    re-running it re-decides (the old decision stays in history). Returns the route as recorded (its legs name the
    facilities in order, never the lines: the allocation rows hold those) and the plan with each leg's lines, which
    the allocation that follows draws."""
    now = now or timezone.now()
    required = order.required_stock()
    skus = order_skus(order)
    policy = allocation_policy_for(brand=order.brand)
    priority = order_priority(order=order)
    plan = route_order(
        brand=order.brand,
        lines=[(skus[sku_id], qty) for sku_id, qty in required if sku_id in skus],
        destination=order_destination(order),
        platform=order.platform_code,
        paid_at=order.paid_at or order.placed_at or now,
        deadline=order.ship_by if order.is_marketplace else None,
        customer=wholesale_customer(order) if priority == PriorityClass.WHOLESALE else "",
        policy=policy,
        now=now,
    )
    # No savepoint: nothing here is caught and retried, and a database error dooms the caller's transaction anyway.
    with transaction.atomic(savepoint=False):
        fresh = created_now(order)  # an order created in this transaction has no route yet
        route = (None if fresh else OrderRoute.objects.select_for_update().filter(order=order).first()) or OrderRoute(
            order=order, brand=order.brand
        )
        route.legs = [{"facility": leg.facility.code, "facility_id": leg.facility.pk} for leg in plan.legs]
        route.split_fee = plan.split_fee
        route.cutoff_met = plan.cutoff_met
        route.short = [r.as_dict() for r in plan.short]
        route.decided_at = now
        save_with_history(route, actor=None, reason="split across facilities" if plan.is_split else "routed")
    return route, plan
