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
    AllocationPolicy,
    ContractReservation,
    Cutoff,
    OrderRoute,
    PreorderClaim,
    PriorityClass,
    ScheduledInbound,
)
from orders.allocation.policy import PREORDER_WORDS, Ranked, in_policy_order, priority_of, rank
from orders.allocation.routing import Destination, expand_lines, free_stock, route_order, stock_facts
from orders.allocation.selectors import allocation_policy_for
from orders.models import Order, OrderState, created_now, held_for_split, order_skus
from warehouse.errors import Conflict, DomainError, InvalidInput, Reason
from warehouse.history import save_with_history
from warehouse.memo import memo_clear
from warehouse.models import Brand, Facility
from warehouse.transitions import Actor

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


def preorder_claim(*, sku: Sku, quantity: int, facility: Facility | None = None) -> ScheduledInbound:
    """Promise `quantity` units of the earliest open inbound (at `facility`, if given) that still has room to a
    pre-order (virtual stock); refused with `preorder_sold_out` when none has. One conditional UPDATE per inbound:
    concurrent pre-orders never over-promise. Orders claim through `preorder_hold_reason`, which records the claim."""
    inbounds = ScheduledInbound.objects.filter(sku=sku, received=False, preordered__lte=F("preorder_limit") - quantity)
    if facility is not None:
        inbounds = inbounds.filter(facility=facility)
    for inbound in inbounds.order_by("expected_on", "pk"):
        if ScheduledInbound.objects.filter(
            pk=inbound.pk, received=False, preordered__lte=F("preorder_limit") - quantity
        ).update(preordered=F("preordered") + quantity):
            inbound.refresh_from_db()
            return inbound
    where = f" at {facility.code}" if facility is not None else ""
    message = (
        f"{sku.code}: no scheduled inbound{where} can still pre-sell {quantity} unit(s); the pre-order is not "
        "promised current stock. Schedule more inbound or raise its pre-order limit, then retry, or cancel the order"
    )
    raise Conflict(message, reasons=[Reason("preorder_sold_out", message)])


def is_preorder(order: Order) -> bool:
    """Read from the order alone (no query): the pre-order class does not depend on the brand's policy."""
    return (order.priority_class or "").strip().lower() in PREORDER_WORDS


def preorder_facility(*, order: Order, required: list[list[int]]) -> Facility | None:
    """Where a pre-order ships from: where its claims are, else the facility of the earliest open inbound that can
    still pre-sell one of its SKUs in full (None: routing decides, and the claim will be refused)."""
    held = (
        PreorderClaim.objects.filter(order=order, released_at__isnull=True).select_related("inbound__facility").first()
    )
    if held is not None:
        return held.inbound.facility
    wanted = {int(sku_id): int(qty) for sku_id, qty in required}
    for inbound in (
        ScheduledInbound.objects.filter(sku_id__in=list(wanted), received=False, preordered__lt=F("preorder_limit"))
        .select_related("facility")
        .order_by("expected_on", "pk")
    ):
        if inbound.preorder_limit - inbound.preordered >= wanted[inbound.sku_id]:
            return inbound.facility
    return None


def _claims_sync(*, order: Order, required: list[list[int]], actor: Actor) -> list[PreorderClaim]:
    """Make the order's active claims match its lines at its facility: a SKU whose claim still fits is left alone
    (retries, redeliveries and revisions that keep the lines claim nothing again); a changed or removed one is given
    back; a new or changed one claims the earliest open inbound with room (raises `Conflict` when none has)."""
    want = {int(sku_id): int(qty) for sku_id, qty in required}
    active = list(PreorderClaim.objects.filter(order=order, released_at__isnull=True).select_related("inbound"))
    keep: list[PreorderClaim] = []
    for claim in active:
        fits = (
            want.get(claim.sku_id) == claim.quantity
            and claim.inbound.facility_id == order.facility_id
            and not any(k.sku_id == claim.sku_id for k in keep)
        )
        if fits:
            keep.append(claim)
        else:
            _claim_release(claim, actor=actor, why="the pre-order's lines or facility changed")
    skus = order_skus(order)
    for sku_id, qty in sorted(want.items()):
        if any(k.sku_id == sku_id for k in keep):
            continue
        inbound = preorder_claim(sku=skus[sku_id], quantity=qty, facility=order.facility)
        claim = PreorderClaim.objects.filter(order=order, inbound=inbound, sku_id=sku_id).first() or PreorderClaim(
            order=order, inbound=inbound, sku_id=sku_id
        )
        claim.quantity, claim.claimed_at, claim.released_at = qty, timezone.now(), None
        save_with_history(claim, actor=actor, reason=f"pre-order {order.platform_order_id or order.pk} claimed")
        keep.append(claim)
    return keep


def _claim_release(claim: PreorderClaim, *, actor: Actor, why: str) -> None:
    """Give the units back to an inbound still expected (so it can pre-sell them again); on a received inbound the
    count stays as the record of what was pre-sold."""
    ScheduledInbound.objects.filter(pk=claim.inbound_id, received=False, preordered__gte=claim.quantity).update(
        preordered=F("preordered") - claim.quantity
    )
    claim.released_at = timezone.now()
    save_with_history(claim, actor=actor, reason=why)


def preorder_claims_release(*, order: Order, actor: Actor, why: str) -> int:
    """The pre-order was cancelled: every unit it claimed goes back to its inbound. Returns claims released.
    No query for an order that is not a pre-order or was created in this transaction (it has no claims)."""
    if created_now(order) or not is_preorder(order):
        return 0
    claims = list(PreorderClaim.objects.filter(order=order, released_at__isnull=True))
    for claim in claims:
        _claim_release(claim, actor=actor, why=why)
    return len(claims)


def preorder_hold_reason(*, order: Order, required: list[list[int]], actor: Actor) -> Reason | None:
    """At acceptance of a pre-order: claim its units (once) from the earliest open inbound of each SKU at its
    facility. Returns why it must wait — `awaiting_inbound` while a claimed inbound is still expected,
    `preorder_sold_out` when an inbound cannot be claimed (every claim is then given back) — or None once every
    claimed inbound was received: it is then allocated from stock like any order."""
    try:
        with transaction.atomic():  # a sold-out SKU leaves no claim of the others behind
            claims = _claims_sync(order=order, required=required, actor=actor)
    except Conflict as exc:
        preorder_claims_release(order=order, actor=actor, why="pre-order sold out")
        return Reason("preorder_sold_out", f"pre-order sold out: {exc.message}")
    expected = sorted((c for c in claims if not c.inbound.received), key=lambda c: c.inbound.expected_on)
    if not expected:
        return None
    codes = order_skus(order)
    where = order.facility.code if order.facility is not None else "its facility"
    promised = ", ".join(
        f"{c.quantity} × {codes[c.sku_id].code} from the inbound expected on {c.inbound.expected_on.isoformat()}"
        for c in expected
    )
    return Reason(
        "awaiting_inbound",
        f"pre-order: waits for its scheduled inbound at {where} ({promised}); current stock is not promised to "
        "pre-orders",
    )


def _claimers(inbound: ScheduledInbound) -> set[int]:
    return set(
        PreorderClaim.objects.filter(inbound=inbound, released_at__isnull=True, order__state=OrderState.ON_HOLD)
        .values_list("order_id", flat=True)
        .distinct()
    )


def _lock_orders(ids: Iterable[int]) -> None:
    list(Order.objects.select_for_update(of=("self",)).filter(pk__in=list(ids)).order_by("pk").values_list("pk"))


def scheduled_inbound_receive(*, inbound: ScheduledInbound, quantity: int, event_id: str, actor: Actor) -> StockResult:
    """The inbound arrived: receive it into stock, mark it received and, in the same transaction, allocate the
    pre-orders that claimed it (policy order, all or nothing each), so no order arriving meanwhile can take the
    units promised to them. Locks follow intake's order (the order, then the inbound and stock): the claiming
    orders first, then the inbound; claims committed in between are locked after it."""
    with transaction.atomic():
        claimers = _claimers(inbound)
        _lock_orders(claimers)
        # Only the inbound row: locking the joined SKU and facility FOR UPDATE would block every concurrent order's
        # foreign-key checks on them (KEY SHARE) and deadlock with an allocation holding the SKU's dirty mark.
        inbounds = ScheduledInbound.objects.select_for_update(of=("self",)).select_related("sku", "facility")
        locked = inbounds.get(pk=inbound.pk)
        late = _claimers(locked) - claimers
        _lock_orders(late)
        result = stock_receive(
            sku=locked.sku, facility=locked.facility, quantity=quantity, event_id=event_id, actor=actor,
            reason=f"scheduled inbound {locked.pk}",
        )  # fmt: skip
        if not locked.received:
            locked.received = True
            save_with_history(locked, actor=actor, reason="received")
        _accept_claimers(brand=locked.brand, order_ids=claimers | late, actor=actor)
    inbound.received = True
    return result


def _accept_claimers(*, brand: Brand, order_ids: set[int], actor: Actor) -> list[int]:
    """Accept the waiting pre-orders among `order_ids` whose claimed inbounds have all arrived, in policy order."""
    from orders.services import order_accept

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


# ---------------------------------------------------------------------------------------------------------------
# Waiting orders: allocated in policy order as stock arrives
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class WaitingRun:
    """Order ids accepted in this run (in the order they were served), those still short, pre-orders waiting for
    their claimed inbound and pre-orders no open inbound can take (sold out)."""

    accepted: list[int] = field(default_factory=list)
    still_short: list[int] = field(default_factory=list)
    awaiting_inbound: list[int] = field(default_factory=list)
    sold_out: list[int] = field(default_factory=list)


def wholesale_customer(order: Order) -> str:
    """The contract account a wholesale/retail order draws on: `extra["customer"]`, else the delivery name."""
    extra = order.extra if isinstance(order.extra, dict) else {}
    return str(extra.get("customer") or order.delivery_name or "").strip()


def order_priority(*, order: Order) -> PriorityClass:
    return priority_of(
        channel=order.channel, priority_class=order.priority_class, paid_at=order.paid_at or order.placed_at,
        deadline=order.ship_by,
    )  # fmt: skip


WAITING_CODES = ("short", "awaiting_inbound", "split_route", "preorder_sold_out")


def _is_short(order: Order) -> bool:
    """Held for stock: short, a pre-order waiting for its scheduled inbound (or for one with room), or an order
    that would have to split (offered again: once one facility holds all of it, it is routed there and accepted)."""
    return any(isinstance(r, dict) and r.get("code") in WAITING_CODES for r in order.hold_reasons or [])


def _rank(order: Order, policy: AllocationPolicy) -> Ranked:
    return rank(
        policy=policy, pk=order.pk, channel=order.channel, priority_class=order.priority_class,
        paid_at=order.paid_at or order.placed_at or order.created_at, deadline=order.ship_by,
    )  # fmt: skip


def waiting_orders(*, brand: Brand, facility: Facility, policy: AllocationPolicy) -> list[Order]:
    """Orders of the brand at the facility held "short", in policy order (class, then paid time, then arrival)."""
    held = (
        Order.objects.filter(brand=brand, facility=facility, state=OrderState.ON_HOLD)
        .select_related("channel")
        .prefetch_related("lines")
        .order_by("pk")
    )
    ranked = [(order, _rank(order, policy)) for order in held if _is_short(order)]
    return list(in_policy_order(policy=policy, items=ranked))


def _preorder_room(*, facility: Facility, required: list[list[int]]) -> bool:
    """Every SKU of a pre-order without claims has an open inbound at the facility that can still pre-sell it."""
    return all(
        ScheduledInbound.objects.filter(
            sku_id=sku_id, facility=facility, received=False, preordered__lte=F("preorder_limit") - qty
        ).exists()
        for sku_id, qty in required
    )


def allocation_run_waiting(*, brand: Brand, facility: Facility, actor: Actor = None) -> WaitingRun:
    """Stock arrived: offer it to the orders held short, in policy order. Each is accepted through
    `orders.services.order_accept` (all or nothing). An order that does not fit does not block smaller ones behind
    it; ordinary orders never take units ring-fenced for a wholesale contract, and a wholesale order draws its
    contract's units. Pre-orders whose claimed inbounds all arrived go first (those units were promised to them;
    `scheduled_inbound_receive` normally accepted them already); one whose claimed inbound is still expected waits;
    a sold-out one is retried once an open inbound has room for it."""
    from orders.services import order_accept

    policy = allocation_policy_for(brand=brand)
    result = WaitingRun()
    waiting = waiting_orders(brand=brand, facility=facility, policy=policy)
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
        sku_ids=ContractReservation.objects.filter(facility=facility, drawn__lt=F("quantity")).values_list(
            "sku_id", flat=True
        ),
        actor=actor,
    )
    for order in waiting:
        required = order.required_stock()
        if not required:
            continue
        priority = order_priority(order=order)
        sku_ids = [sku_id for sku_id, _ in required]
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
        skus = Sku.objects.in_bulk(sku_ids)
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
