"""Write use-cases of orders and shipments.

Every state change goes through `transition_apply`; stock moves through the inventory services in the same
transaction, with event ids derived from the order (`order:<pk>:<step>:<round>`), so a replayed call never moves stock
twice. Every step appends an `OrderEvent` in plain words. A refusal that must reach a person (an edit after release to
pick, a cancellation after packing) opens its exception and commits it before the error is raised."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from inventory.models import Movement, Sku, StockLevel
from inventory.services import (
    sku_resolve,
    stock_allocate,
    stock_allocate_reserved,
    stock_release,
    stock_ship,
    stock_start_pick,
    stock_unpick,
)
from orders.allocation.cutoffs import ship_by_compute
from orders.allocation.models import (
    ContractReservation,
    OrderRoute,
    PriorityClass,
)
from orders.allocation.routing import expand_lines
from orders.allocation.services import (
    contract_reservation_draw,
    contract_reservation_undraw,
    contract_reservations_fill,
    order_priority,
    order_route_decide,
    preorder_claims_release,
    preorder_facility,
    preorder_hold_reason,
    wholesale_customer,
)
from orders.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
from orders.models import (
    CANCELLABLE_STATES,
    EDITABLE_STATES,
    HOLDABLE_STATES,
    OPERATE_ORDER,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderSource,
    OrderState,
    Shipment,
    ShipmentEvent,
    ShipmentState,
    allocation_legs,
    created_now,
    forget_lines,
    has_carrier_proof,
    held_for_split,
    is_split,
    order_lines,
    order_skus,
    remember_lines,
)
from orders.selectors import facility_default_for
from orders.signals import shipment_handed_to_carrier
from orders.validation import MAX_LINE_QUANTITY, order_reasons, quantity_parse, quantity_text
from warehouse.errors import Conflict, InsufficientStock, InvalidInput, NotPermitted, Reason, TransitionNotAllowed
from warehouse.history import save_with_history
from warehouse.limits import as_text, refuse_too_long, text_within, too_long
from warehouse.memo import memo_scope
from warehouse.models import Brand, ExceptionKind, Facility, SalesChannel
from warehouse.selectors import facility_by_pk
from warehouse.services import exception_open, exceptions_resolve_if_cleared
from warehouse.transitions import Actor, transition_apply

CHANGE_ORDER = "orders.change_order"
FORCE_ORDER = "orders.force_order_transition"
CLOSE_SHIPMENT = "orders.close_shipment"
OPERATE_SHIPMENT = "orders.operate_shipment"
# Transitions a manager may force through `order_force`. Those that move stock (release to pick, cancel, dispatch)
# and acceptance (a short order is never accepted) go through their own services only.
FORCEABLE = ("validate", "confirm_picked", "pack", "mark_in_transit", "deliver")
ADDRESS_FIELDS = ("name", "street1", "street2", "postal_code", "city", "region", "country")
RELEASED_STATES = (
    OrderState.PICKING,
    OrderState.PICKED,
    OrderState.PACKED,
    OrderState.DISPATCHED,
    OrderState.IN_TRANSIT,
    OrderState.DELIVERED,
)
SCAN_STATUSES = ("in_transit", "delivered", "info")
M = TypeVar("M", Order, Shipment)


@dataclass(frozen=True)
class IngestResult:
    order: Order
    created: bool
    applied: bool
    reason: str = ""


# --- small helpers ------------------------------------------------------------------------------------------------


# Fields of one channel ingestion whose value did not fit (see `_text`); None outside one, where a person is refused.
_overflow: ContextVar[list[Reason] | None] = ContextVar("orders_overflow", default=None)


def _text(value: Any, limit: int, field: str) -> str:
    """A received value as whole text, never a prefix (`warehouse.limits`). Over `limit`: a person's input is refused
    (`TooLong`, 400 naming `field`); inside a channel's ingestion the field is recorded, so validation holds the order
    naming it, and stored empty (the whole value stays in the delivery's payload)."""
    text = as_text(value)
    reason = too_long(field, text, limit)
    if reason is None:
        return text
    pending = _overflow.get()
    if pending is None:
        refuse_too_long([reason])
    elif reason not in pending:
        pending.append(reason)
    return ""


@contextmanager
def _overflow_collected(system: bool) -> Iterator[None]:
    """A channel's (or file's) ingestion: values that do not fit hold the order instead of refusing it."""
    token = _overflow.set([] if system else None)
    try:
        yield
    finally:
        _overflow.reset(token)


# Timeline lines of one ingestion, written in one INSERT at its end (same transaction, same order of lines).
_timeline: ContextVar[list[OrderEvent] | None] = ContextVar("orders_timeline_batch", default=None)


@contextmanager
def _timeline_batch() -> Iterator[None]:
    if _timeline.get() is not None:
        yield
        return
    token = _timeline.set([])
    try:
        yield
        OrderEvent.objects.bulk_create(_timeline.get() or [])
    finally:
        _timeline.reset(token)


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update(of=("self",)).select_related("brand", "facility", "channel").get(pk=order.pk)


def _event(order: Order, kind: str, message: str, *, actor: Actor, data: dict[str, Any] | None = None) -> OrderEvent:
    """Append one line to the timeline; it is also the order's latest activity. `last_activity_at` feeds the
    stalled-picking alarm, so while picking it is written at once; in other states it is saved with the order's next
    save (an ingestion saves the order at each transition anyway, and an extra UPDATE per line costs throughput)."""
    at = timezone.now()
    event = OrderEvent(order=order, kind=kind, message=message[:500], at=at, actor=actor, data=data or {})
    batch = _timeline.get()
    if batch is None:
        event.save()
    else:
        batch.append(event)
    order.last_activity_at = at
    if order.state == OrderState.PICKING:
        Order.objects.filter(pk=order.pk).update(last_activity_at=at)
    return event


def _resolve_cleared(order: Order, kind: ExceptionKind, note: str) -> None:
    """Close the order's open exceptions of `kind`; an order created in this transaction has none to look for."""
    if not created_now(order):
        exceptions_resolve_if_cleared(subject=order, kind=kind, note=note)


def _label(order: Order) -> str:
    return order.platform_order_id or f"#{order.pk}"


def _messages(reasons: Sequence[Reason]) -> str:
    return "; ".join(r.message for r in reasons)


def _stock_lines(order: Order) -> list[tuple[Sku, int]]:
    pairs = order.allocated_stock()
    skus = Sku.objects.in_bulk([sku_id for sku_id, _ in pairs])
    return [(skus[sku_id], qty) for sku_id, qty in pairs]


@dataclass(frozen=True)
class Leg:
    """One facility's part of an order's allocation. `suffix` keeps each leg's stock event ids apart: "" for an
    order at one facility (`order:<pk>:<step>:<round>`, as always), ":<facility code>" per leg of a split."""

    facility: Facility
    lines: list[tuple[Sku, int]]
    suffix: str = ""


def _leg_suffix(facility: Facility) -> str:
    return f":{facility.code}"


def _legs(order: Order) -> list[Leg]:
    """The order's allocation per facility (`orders.models.allocation_legs`): every stock step after allocation
    (release, start pick, unpick, ship) walks these, each leg at its own facility."""
    if not is_split(order):
        assert order.facility is not None
        return [Leg(order.facility, _stock_lines(order))]
    legs = allocation_legs(order)
    skus = Sku.objects.in_bulk({sku_id for _, lines in legs for sku_id, _ in lines})
    found = []
    for facility_id, lines in legs:
        facility = facility_by_pk(facility_id) if facility_id is not None else None
        assert facility is not None
        found.append(Leg(facility, [(skus[sku_id], qty) for sku_id, qty in lines], _leg_suffix(facility)))
    return found


def _stock_event(order: Order, step: str, leg: Leg) -> str:
    return f"order:{order.pk}:{step}:{order.stock_round}{leg.suffix}"


def _move_legs(
    order: Order, legs: Sequence[Leg], move: Callable[..., Any], step: str, *, actor: Actor, reference: str
) -> None:
    """One stock step (release, start pick, unpick) at every leg's facility, ledgered per order round and leg."""
    for leg in legs:
        move(facility=leg.facility, lines=leg.lines, event_id=_stock_event(order, step, leg), actor=actor,
             reference=reference)  # fmt: skip


def _where(legs: Sequence[Leg]) -> str:
    return " and ".join(leg.facility.code for leg in legs)


def _return_contract_units(order: Order, legs: Sequence[Leg]) -> None:
    """A wholesale order gives back what it drew from its contract (read from its own `allocate_reserved` events), so
    the contract's units are ring-fenced again on the next fill instead of becoming free for everyone for good."""
    if order.facility is None:
        return
    at = {leg.facility.pk: leg.facility for leg in legs}
    drawn = Movement.objects.filter(
        event_id__in=[_stock_event(order, "allocate_reserved", leg) for leg in legs]
    ).select_related("sku")
    customer = wholesale_customer(order)
    for movement in drawn:
        contract_reservation_undraw(
            customer=customer, sku=movement.sku, facility=at[movement.facility_id], quantity=movement.quantity
        )


def _release_allocation(order: Order, *, actor: Actor, why: str) -> None:
    """Give an accepted (not yet picked) order's allocation back to available, at every facility it is held."""
    if not order.allocated_lines:
        return
    legs = _legs(order)
    _move_legs(order, legs, stock_release, "release", actor=actor, reference=f"order {_label(order)}")
    _forget_allocation(order, legs, actor=actor, reason=why, message=f"Allocated stock released: {why}")


def _forget_allocation(order: Order, legs: Sequence[Leg], *, actor: Actor, reason: str, message: str) -> None:
    """After the stock went back: contract units return to their reservation and the order holds nothing."""
    _return_contract_units(order, legs)
    order.allocated_lines = []
    save_with_history(order, actor=actor, reason=reason, fields=["allocated_lines", "updated_at"])
    _event(order, OrderEventKind.ALLOCATION_RELEASED, message, actor=actor)


def _open_order_exception(
    order: Order, *, kind: ExceptionKind, summary: str, reasons: list[Reason], detail: dict[str, Any] | None = None
) -> None:
    exception_open(
        kind=kind,
        summary=f"Order {_label(order)}: {summary}",
        reasons=reasons,
        subject=order,
        brand=order.brand,
        facility=order.facility,
        detail=detail,
    )


# --- lines --------------------------------------------------------------------------------------------------------


def _as_lines(lines: Sequence[CanonicalLine | tuple[str, Any]]) -> list[CanonicalLine]:
    return [
        line if isinstance(line, CanonicalLine) else CanonicalLine(sku_code=line[0], quantity=line[1]) for line in lines
    ]


def _line_signature(lines: Sequence[CanonicalLine]) -> list[tuple[str, str, str]]:
    return [
        (_text(x.sku_code, 100, f"line {n} sku_code"), _text(quantity_text(x.quantity), 60, f"line {n} quantity"),
         _text(x.external_line_id, 100, f"line {n} external_line_id"))
        for n, x in enumerate(lines, start=1)
    ]  # fmt: skip


def _stored_signature(order: Order) -> list[tuple[str, str, str]]:
    return [(x.sku_code, x.quantity_received, x.external_line_id) for x in order.lines.all()]


def _set_lines(order: Order, lines: Sequence[CanonicalLine], *, actor: Actor) -> None:
    if not created_now(order):
        OrderLine.objects.filter(order=order).delete()
    forget_lines(order)
    rows = []
    for number, line in enumerate(lines, start=1):
        code = _text(line.sku_code, 100, f"line {number} sku_code")
        row = OrderLine(
            order=order,
            line_number=number,
            sku_code=code,
            sku=_resolved_sku(order.brand, code),  # validation resolves it again (memoised) and names any problem
            quantity_received=_text(quantity_text(line.quantity), 60, f"line {number} quantity"),
            quantity=quantity_parse(line.quantity),
            external_line_id=_text(line.external_line_id, 100, f"line {number} external_line_id"),
            title=_text(line.title, 300, f"line {number} title"),
        )
        row._history_user = actor  # type: ignore[attr-defined]
        row.save()
        rows.append(row)
    remember_lines(order, rows)


def _resolved_sku(brand: Brand, code: str) -> Sku | None:
    try:
        return sku_resolve(brand=brand, code=code).sku if code else None
    except InvalidInput:
        return None


def _address_fields(address: CanonicalAddress | Mapping[str, Any]) -> dict[str, str]:
    get = address.get if isinstance(address, Mapping) else (lambda key, default="": getattr(address, key, default))
    limits = {"name": 200, "street1": 200, "street2": 200, "postal_code": 20, "city": 100, "region": 100}
    fields = {f"delivery_{key}": _text(get(key, ""), limit, key) for key, limit in limits.items()}
    fields["delivery_country"] = _text(get("country", ""), 60, "country").upper()
    return fields


def _canonical_fields(canonical: CanonicalOrder) -> dict[str, Any]:
    return {
        **_address_fields(canonical.address),
        "placed_at": canonical.placed_at,
        "paid_at": canonical.paid_at,
        "ship_by": canonical.ship_by,
        "priority_class": _text(canonical.priority_class, 20, "priority_class") or "standard",
        "contact_phone": _text(canonical.phone, 40, "phone"),
        "email": _text(canonical.email, 254, "email"),
        "special_handling": _text(canonical.special_handling, 2000, "special_handling"),
        "extra": json.loads(json.dumps(dict(canonical.extra or {}), default=str)),  # dates etc. kept as text
    }


MATERIAL_FIELDS = (
    "delivery_name",
    "delivery_street1",
    "delivery_street2",
    "delivery_postal_code",
    "delivery_city",
    "delivery_region",
    "delivery_country",
    "contact_phone",
    "special_handling",
)


# --- validation, hold, acceptance (inside a transaction, on a locked order) --------------------------------------


def _hold(order: Order, *, reasons: list[Reason], kind: ExceptionKind, actor: Actor) -> Order:
    """Hold with every reason named, and put the same reasons in the exception queue. Nothing stays allocated."""
    _release_allocation(order, actor=actor, why="the order is on hold")
    body = [r.as_dict() for r in reasons]
    if order.state == OrderState.ON_HOLD:
        order.hold_reasons = body
        save_with_history(
            order, actor=actor, reason="hold reasons updated", fields=["hold_reasons", "forced_past", "updated_at"]
        )
    else:
        order = transition_apply(
            obj=order, name="hold", actor=actor, reason=_messages(reasons)[:300], changes={"hold_reasons": body},
            lock=False,
        )  # fmt: skip
    _event(order, OrderEventKind.HELD, f"On hold: {_messages(reasons)}", actor=actor, data={"reasons": body})
    summary = "short of stock" if kind == ExceptionKind.ORDER_SHORT else "on hold"
    _open_order_exception(order, kind=kind, summary=f"{summary}: {_messages(reasons)}", reasons=reasons)
    return order


def _keep_resolved(lines: Sequence[OrderLine], stored: Sequence[int | None], *, actor: Actor) -> None:
    """Each line keeps the SKU its code resolved to in validation (or that it found none)."""
    for line, sku_id in zip(lines, stored, strict=True):
        if line.sku_id != sku_id:
            line._history_user = actor  # type: ignore[attr-defined]
            line.save(update_fields=["sku"])


def _validate(order: Order, *, actor: Actor) -> Order:
    lines = order_lines(order)
    stored = [line.sku_id for line in lines]
    reasons = order_reasons(order=order, lines=lines) + (_overflow.get() or [])
    _keep_resolved(lines, stored, actor=actor)
    reasons = _without_overridden(order, reasons)
    if reasons:
        return _hold(order, reasons=reasons, kind=ExceptionKind.ORDER_ON_HOLD, actor=actor)
    order = transition_apply(
        obj=order, name="validate", actor=actor, reason="every mandatory field is valid", lock=False
    )
    _event(order, OrderEventKind.VALIDATED, "Validated: order id, SKUs, quantities, address and phone", actor=actor)
    _resolve_cleared(order, ExceptionKind.ORDER_ON_HOLD, "The order now validates.")
    return order


def _without_overridden(order: Order, reasons: list[Reason]) -> list[Reason]:
    """A manager forced validation past some reasons (`order_force`): skip exactly those while they read the same.
    An override whose reason is gone (the data changed) is dropped, so a later problem holds the order again."""
    forced = order.forced_past or []
    if not forced:
        return reasons
    order.forced_past = [r.as_dict() for r in reasons if r.as_dict() in forced]  # saved with the hold or validation
    return [r for r in reasons if r.as_dict() not in forced]


def _allocate(
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
        for row in (
            ContractReservation.objects.filter(
                customer=customer, facility=facility, sku_id__in=list(need), drawn__lt=F("quantity")
            )
            .values("sku_id")
            .annotate(units=Sum(F("quantity") - F("drawn")))
        ):
            own[row["sku_id"]] = min(need[row["sku_id"]], int(row["units"]))
    round_ = order.stock_round + 1
    reference = f"order {_label(order)}"
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


def _allocate_legs(order: Order, split: OrderRoute, *, priority: str, actor: Actor) -> list[list[int]]:
    """A split: each leg allocated at its own facility, every leg or none (one savepoint). Facilities are taken in
    id order, so concurrent splits lock stock rows in one global order and cannot deadlock. Returns the
    `allocated_lines` entries, `[sku_id, quantity, facility_id]`, in leg order (the first leg is `Order.facility`)."""
    with transaction.atomic():
        for leg in sorted(split.legs, key=lambda leg: int(leg["facility_id"])):
            facility = facility_by_pk(int(leg["facility_id"]))
            if facility is None:
                raise InsufficientStock(f"{leg['facility']} no longer exists", reasons=[])
            _allocate(order, leg["lines"], priority=priority, actor=actor, facility=facility,
                      suffix=_leg_suffix(facility))  # fmt: skip
    return [[int(sku_id), int(qty), int(leg["facility_id"])] for leg in split.legs for sku_id, qty in leg["lines"]]


def _split_words(split: OrderRoute) -> str:
    codes = [leg["facility"] for leg in split.legs]
    return f"Split across {', '.join(codes[:-1])} and {codes[-1]} (estimated fee {split.split_fee})"


def _accept(order: Order, *, actor: Actor, split: OrderRoute | None = None) -> Order:
    """Allocate every line (all or nothing), then accept; short → on hold, never half-accepted. The source of the
    stock follows the allocation class: wholesale from its contract, pre-orders only once their inbound arrived.
    A `split` route (no single facility can take the order) is allocated per leg, every leg or none."""
    required = order.required_stock()
    if not required:
        reason = Reason("not_allocatable", "every line needs a resolved SKU and a positive quantity to be allocated")
        return _hold(order, reasons=[reason], kind=ExceptionKind.ORDER_ON_HOLD, actor=actor)
    if order.facility is None:
        reason = Reason("facility_missing", "no facility is set to ship this order from")
        return _hold(order, reasons=[reason], kind=ExceptionKind.ORDER_ON_HOLD, actor=actor)
    if order.allocated_stock() != required:
        _release_allocation(order, actor=actor, why="the lines changed")
        priority = order_priority(order=order)
        waiting = None
        if priority == PriorityClass.PREORDER:  # claims its inbound (once); waits for it, or is sold out
            waiting = preorder_hold_reason(order=order, required=required, actor=actor)
        if waiting is not None:
            return _hold(order, reasons=[waiting], kind=ExceptionKind.ORDER_SHORT, actor=actor)
        allocated = required
        try:
            if split is None:
                _allocate(order, required, priority=priority, actor=actor)
            else:
                allocated = _allocate_legs(order, split, priority=priority, actor=actor)
        except InsufficientStock as exc:
            why = _messages(exc.reasons) or exc.message
            if split is not None:  # held for stock like any short order, and routed again when retried
                words = _split_words(split)
                short = Reason("split_route", f"short of stock for its split ({words}): {why}")
            else:
                short = Reason("short", f"short of stock at {order.facility.code}: {why}")
            return _hold(order, reasons=[short], kind=ExceptionKind.ORDER_SHORT, actor=actor)
        # Saved with the acceptance below (the order is locked; the guard reads the allocation from the instance).
        order.allocated_lines = allocated
        order.stock_round += 1
        source = " from its contract reservation" if priority == PriorityClass.WHOLESALE else ""
        if split is None:
            units = sum(qty for _, qty in required)
            message = f"Allocated {units} unit(s) at {order.facility.code}{source}"
        else:
            parts = [f"{sum(qty for _, qty in leg['lines'])} unit(s) at {leg['facility']}" for leg in split.legs]
            message = f"{_split_words(split)}: allocated {', '.join(parts)}{source}"
        _event(order, OrderEventKind.ALLOCATED, message, actor=actor)
    order = transition_apply(obj=order, name="accept", actor=actor, reason="complete allocation", lock=False)
    _event(order, OrderEventKind.ACCEPTED, "Accepted: stock is allocated; ready to release to pick", actor=actor)
    _resolve_cleared(order, ExceptionKind.ORDER_SHORT, "Stock is now allocated.")
    return order


def _route(order: Order, *, actor: Actor) -> OrderRoute | None:
    """Before the first allocation: choose the facility (the nearest holding all the stock that can meet the cutoff,
    per orders.allocation.routing; a pre-order goes where its scheduled inbound arrives) and compute ship-by there.
    No routable facility: the brand's default facility stays, as before. A split (only when the brand's policy
    allows it and no single facility can) is returned, recorded with its estimated fee, for `_accept` to allocate
    per leg; `Order.facility` is its first leg."""
    required = order.required_stock()
    if not required or order.allocated_lines:
        return None  # nothing to route, or already allocated where it is
    priority = order_priority(order=order)
    facility: Facility | None = None
    split: OrderRoute | None = None
    if priority == PriorityClass.PREORDER:
        facility = preorder_facility(order=order, required=required)
    if facility is None:
        route = order_route_decide(order=order)
        if route.legs:
            facility = facility_by_pk(route.legs[0]["facility_id"])
        if route.is_split:
            split = route
    if facility is not None and facility.pk != order.facility_id:
        order.facility = facility
    paid_at = order.paid_at or order.placed_at
    # A ship-by a person or a DTC channel gave is the promise already made; a marketplace's is a hard deadline that
    # only an earlier cutoff plan can beat; without one the cutoff plan at the chosen facility sets it.
    plan_ship_by = order.ship_by is None or order.is_marketplace
    if order.facility is not None and paid_at is not None and plan_ship_by:
        planned = ship_by_compute(
            brand=order.brand, facility=order.facility, paid_at=paid_at, platform=order.platform_code,
            marketplace=order.is_marketplace, promised_ship_by=order.ship_by,
        )  # fmt: skip
        order.ship_by = planned.at
    # Not saved here: routing runs on a validated, locked order, and the next step saves it whole (the acceptance, or
    # the hold), so the route costs no history row of its own; `OrderRoute` records the decision.
    return split


def _process(order: Order, *, actor: Actor) -> Order:
    """Take a received (or on-hold) order as far as it can go: validate, then allocate and accept."""
    if order.state not in (OrderState.RECEIVED, OrderState.ON_HOLD):
        return order
    # New, revised or held for a split: (re)route. A retry of an order held short keeps its facility.
    fresh = order.state == OrderState.RECEIVED or held_for_split(order)
    order = _validate(order, actor=actor)
    if order.state == OrderState.VALIDATED:
        order = _route_and_accept(order, actor=actor, route=fresh)
    return order


def _route_and_accept(order: Order, *, actor: Actor, route: bool) -> Order:
    split = _route(order, actor=actor) if route else None
    return _accept(order, actor=actor, split=split)


def _revise(order: Order, *, actor: Actor, why: str) -> Order:
    """An edit before release to pick sends the order back through validation and allocation."""
    if order.state == OrderState.RECEIVED:
        return _process(order, actor=actor)
    order = transition_apply(obj=order, name="revise", actor=actor, reason=why, lock=False)
    return _process(order, actor=actor)


def _cancel(order: Order, *, actor: Actor, reason: str) -> tuple[Order, bool]:
    """Cancel before packing (allocation released); after packing refuse and escalate. Returns (order, refused)."""
    if order.state == OrderState.CANCELLED:
        return order, False
    if order.state not in CANCELLABLE_STATES:
        why = Reason("cancel_after_pack", f"the order is already {order.get_state_display().lower()}: {reason}")
        _open_order_exception(
            order, kind=ExceptionKind.CANCEL_AFTER_PACK, summary="cancellation requested after packing", reasons=[why]
        )
        _event(order, OrderEventKind.CANCEL_REFUSED, f"Cancellation refused and escalated: {why.message}", actor=actor)
        return order, True
    was = order.state
    order = transition_apply(
        obj=order, name="cancel", actor=actor, reason=reason, changes={"cancel_reason": reason}, lock=False
    )
    if was in (OrderState.PICKING, OrderState.PICKED) and order.allocated_lines:
        # The units are in pick: they go back to the shelf (in pick → available), ledgered once per order round and
        # facility.
        units = sum(qty for _, qty in order.allocated_stock())
        legs = _legs(order)
        _move_legs(order, legs, stock_unpick, "unpick", actor=actor,
                   reference=f"order {_label(order)} cancelled while {was}")  # fmt: skip
        _forget_allocation(
            order, legs, actor=actor, reason="picked units put back",
            message=f"Cancelled while {was}: {units} picked unit(s) put back to available at {_where(legs)}",
        )  # fmt: skip
    else:
        _release_allocation(order, actor=actor, why="the order was cancelled")
    preorder_claims_release(order=order, actor=actor, why="the order was cancelled")
    _event(order, OrderEventKind.CANCELLED, f"Cancelled: {reason}", actor=actor)
    for kind in (ExceptionKind.ORDER_ON_HOLD, ExceptionKind.ORDER_SHORT):
        exceptions_resolve_if_cleared(subject=order, kind=kind, note="The order was cancelled.")
    return order, False


# --- ingestion ----------------------------------------------------------------------------------------------------


def _order_key(*, brand: Brand, channel: SalesChannel | None, source: str, platform_order_id: str) -> dict[str, Any]:
    """A channel's order is (channel, platform order id); a manual or file order (brand, source, order id)."""
    if channel is not None:
        return {"channel": channel, "platform_order_id": platform_order_id}
    return {"brand": brand, "source": source, "channel__isnull": True, "platform_order_id": platform_order_id}


def _ingest_update(order: Order, canonical: CanonicalOrder, *, actor: Actor) -> IngestResult:
    incoming, applied_version = canonical.updated_at, order.source_updated_at
    if incoming is not None and applied_version is not None and incoming <= applied_version:
        return IngestResult(order, False, False, f"stale: {incoming.isoformat()} is not newer than the applied version")
    if order.state == OrderState.CANCELLED:
        return IngestResult(order, False, False, "the order is cancelled")
    if str(canonical.status).lower() == "cancelled":
        order, refused = _cancel(order, actor=actor, reason="cancelled on the platform")
        if refused:
            return IngestResult(order, False, False, "cancellation after packing: escalated")
        order.source_updated_at = incoming or applied_version
        save_with_history(
            order, actor=actor, reason="platform cancellation", fields=["source_updated_at", "updated_at"]
        )
        return IngestResult(order, False, True, "cancelled")
    fields = _canonical_fields(canonical)
    kept, conflicts = _keep_person_fixes(order, fields, _as_lines(canonical.lines))
    if conflicts:
        _record_conflicts(order, conflicts, actor=actor)
    lines = kept or []
    lines_changed = kept is not None and _line_signature(lines) != _stored_signature(order)
    changed = [name for name in MATERIAL_FIELDS if getattr(order, name) != fields[name]]
    if order.state in RELEASED_STATES and (changed or lines_changed):
        what = ", ".join([*(c.replace("delivery_", "") for c in changed), *(["lines"] if lines_changed else [])])
        reason = Reason("edit_after_release", f"the platform changed {what} after the order was released to pick")
        _open_order_exception(
            order, kind=ExceptionKind.ORDER_EDIT_AFTER_RELEASE, summary="edited after release to pick", reasons=[reason]
        )
        _event(order, OrderEventKind.EDIT_REFUSED, f"Update refused and escalated: {reason.message}", actor=actor)
        if conflicts:
            save_with_history(order, actor=actor, reason="update conflict", fields=["platform_conflicts", "updated_at"])
        return IngestResult(order, False, False, "edit after release to pick: escalated")
    for name, value in fields.items():
        setattr(order, name, value)
    order.source_updated_at = incoming or applied_version
    save_with_history(order, actor=actor, reason="updated from the platform")
    if lines_changed:
        _release_allocation(order, actor=actor, why="the platform changed the lines")
        _set_lines(order, lines, actor=actor)
    if changed or lines_changed:
        what = ", ".join([*(c.replace("delivery_", "") for c in changed), *(["lines"] if lines_changed else [])])
        _event(order, OrderEventKind.UPDATED, f"Updated from the platform: {what}", actor=actor)
        order = _revise(order, actor=actor, why="updated from the platform")
    else:
        order = _process(order, actor=actor)  # e.g. a short order retried by a newer payload
    return IngestResult(order, False, True, "updated")


def order_ingest(
    *,
    canonical: CanonicalOrder,
    brand: Brand,
    channel: SalesChannel | None = None,
    source: str = OrderSource.CHANNEL,
    found_by_reconciler: bool = False,
    actor: Actor = None,
) -> IngestResult:
    """Create or update the order a channel (or a file, or a person) sent; idempotent on its key.

    Concurrent deliveries of one order serialise on the row: the first inserts it (the unique constraint makes every
    other insert fail in its savepoint), the others lock the row and apply only a newer `updated_at`."""
    pid = as_text(canonical.platform_order_id)
    id_too_long = too_long("platform_order_id", pid, 100)  # no order can be held without its key: always refused
    refuse_too_long([id_too_long] if id_too_long else [])
    if not pid:
        message = "An order without an order id cannot be stored idempotently."
        raise InvalidInput(message, reasons=[Reason("order_id_missing", "the order has no order id")])
    if channel is not None:
        if channel.brand_id != brand.pk:
            raise InvalidInput("The channel belongs to another brand.", reasons=[Reason("other_brand", pid)])
        source = OrderSource.CHANNEL
    key = _order_key(brand=brand, channel=channel, source=source, platform_order_id=pid)
    system = actor is None or channel is not None  # a channel, file or task: over-long values hold the order
    if not system:  # a person's over-long value is refused (400 naming it) before anything is written
        _canonical_fields(canonical), _line_signature(_as_lines(canonical.lines))
    # No savepoint: a refusal is raised before this block; inside it only a database error (which dooms the caller's
    # transaction anyway) escapes, and a concurrent insert of the same order is caught by the inner savepoint.
    with transaction.atomic(savepoint=False), memo_scope(), _timeline_batch(), _overflow_collected(system):
        order = Order.objects.select_for_update().filter(**key).first()
        if order is None:
            try:
                with transaction.atomic():
                    order = Order(
                        brand=brand,
                        source=source,
                        channel=channel,
                        platform_order_id=pid,
                        source_updated_at=canonical.updated_at,
                        is_manual_entry=source == OrderSource.MANUAL,
                        facility=facility_default_for(brand=brand),
                        **_canonical_fields(canonical),
                    )
                    save_with_history(order, actor=actor, reason="received")
                    order.__dict__["created_now"] = True  # see orders.models.created_now
                    _set_lines(order, _as_lines(canonical.lines), actor=actor)
            except IntegrityError:
                order = Order.objects.select_for_update().filter(**key).first()
                if order is None:
                    raise
                return _ingest_update(order, canonical, actor=actor)
            where = {
                OrderSource.CHANNEL: f"{channel or 'the channel'}",
                OrderSource.MANUAL: "manual entry",
                OrderSource.FILE: "a file import",
            }.get(OrderSource(source), source)
            found = " (found by the reconciler)" if found_by_reconciler else ""
            _event(order, OrderEventKind.RECEIVED, f"Received from {where}{found}", actor=actor)
            if str(canonical.status).lower() == "cancelled":
                order, _ = _cancel(order, actor=actor, reason="cancelled on the platform")
            else:
                order = _process(order, actor=actor)
            order.__dict__.pop("created_now", None)
            return IngestResult(order, True, True, "created")
        return _ingest_update(order, canonical, actor=actor)


def order_create_manual(
    *, brand: Brand, canonical: CanonicalOrder, actor: Actor, source: str = OrderSource.MANUAL
) -> Order:
    """An order keyed in by a person (an email order while the channel is down): flagged as manual entry."""
    return order_ingest(canonical=canonical, brand=brand, source=source, actor=actor).order


# --- the pipeline, step by step -----------------------------------------------------------------------------------


def order_validate(*, order: Order, actor: Actor) -> Order:
    """Check every mandatory field; invalid → on hold with every reason named (and an exception)."""
    _require(actor, OPERATE_ORDER, "You may not validate orders.")  # a re-check of a held order writes its reasons
    with transaction.atomic():
        order = _lock(order)
        if order.state not in (OrderState.RECEIVED, OrderState.ON_HOLD):
            return transition_apply(obj=order, name="validate", actor=actor)  # raises: wrong state
        return _validate(order, actor=actor)


def order_accept(*, order: Order, actor: Actor) -> Order:
    """Allocate every line (all or nothing) and accept; short → on hold with reason "short". An on-hold order is
    re-validated first (the retry after stock arrived)."""
    _require(actor, OPERATE_ORDER, "You may not accept orders.")  # the re-validation of a held order writes
    with transaction.atomic():
        order = _lock(order)
        reroute = held_for_split(order)  # held because it would split: stock may now be whole somewhere
        if order.state == OrderState.ON_HOLD:
            order = _validate(order, actor=actor)
        if order.state != OrderState.VALIDATED:
            if order.state == OrderState.ON_HOLD:
                return order
            return transition_apply(obj=order, name="accept", actor=actor)  # raises: wrong state
        return _route_and_accept(order, actor=actor, route=reroute)


def order_hold(*, order: Order, reasons: list[Reason], actor: Actor) -> Order:
    """A person holds an order before pick, naming why; its allocation is released."""
    if not reasons:
        raise InvalidInput("Name why the order is held.", reasons=[Reason("reason_required", "Give a reason")])
    _require(actor, OPERATE_ORDER, "You may not hold orders.")  # holding a held order again writes its reasons
    with transaction.atomic():
        order = _lock(order)
        if order.state not in (*HOLDABLE_STATES, OrderState.ON_HOLD):
            return transition_apply(obj=order, name="hold", actor=actor)  # raises: wrong state
        return _hold(order, reasons=reasons, kind=ExceptionKind.ORDER_ON_HOLD, actor=actor)


def order_release_to_pick(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """Accepted → picking: the allocation moves to in pick. From here the warehouse owns the order."""
    with transaction.atomic():
        order = transition_apply(obj=order, name="release_to_pick", actor=actor, reason=reason or "released to pick")
        legs = _legs(order)
        _move_legs(order, legs, stock_start_pick, "start_pick", actor=actor, reference=f"order {_label(order)}")
        where = f" at {_where(legs)}" if len(legs) > 1 else ""
        _event(order, OrderEventKind.RELEASED_TO_PICK, f"Released to pick{where}: allocated stock is now in pick",
               actor=actor)  # fmt: skip
        return order


def order_record_pick_activity(*, order: Order, actor: Actor, note: str = "") -> Order:
    """A pick scan or note while picking; it keeps the 4-hour stall alarm quiet."""
    _require(actor, OPERATE_ORDER, "You may not record pick activity.")
    note = text_within(note, field="note", limit=500)
    with transaction.atomic():
        order = _lock(order)
        if order.state != OrderState.PICKING:
            raise TransitionNotAllowed(
                f"Order {_label(order)} is {order.state}, not picking.",
                reasons=[Reason("wrong_state", f"pick activity needs state picking, not {order.state}")],
            )
        _event(order, OrderEventKind.PICK_ACTIVITY, note or "Pick activity", actor=actor)
        exceptions_resolve_if_cleared(subject=order, kind=ExceptionKind.PICKING_STALLED, note="Picking resumed.")
        return order


def order_confirm_picked(*, order: Order, actor: Actor, reason: str = "") -> Order:
    with transaction.atomic():
        order = transition_apply(obj=order, name="confirm_picked", actor=actor, reason=reason or "last line picked")
        _event(order, OrderEventKind.PICKED, "Picked: every line confirmed; goods go to packing", actor=actor)
        exceptions_resolve_if_cleared(subject=order, kind=ExceptionKind.PICKING_STALLED, note="Picking finished.")
        return order


def order_pack(*, order: Order, actor: Actor, reason: str = "") -> Order:
    with transaction.atomic():
        order = transition_apply(obj=order, name="pack", actor=actor, reason=reason or "packed")
        _event(order, OrderEventKind.PACKED, "Packed: staged for the carrier", actor=actor)
        return order


def order_cancel(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """Before packing: cancelled, allocation released. After packing: refused (`TransitionNotAllowed`) and escalated
    as a `CANCEL_AFTER_PACK` exception, which is committed before the error is raised."""
    _require(actor, OPERATE_ORDER, "You may not cancel orders.")  # before the escalation below writes anything
    reason = text_within(reason, field="reason", limit=300) or "cancelled"
    with transaction.atomic():
        order, refused = _cancel(_lock(order), actor=actor, reason=reason)
    if refused:
        raise TransitionNotAllowed(
            f"Order {_label(order)} is {order.get_state_display().lower()}: it can no longer be cancelled; "
            "a manager has been asked to decide.",
            reasons=[Reason("cancel_after_pack", "cancellation is allowed before packing only")],
        )
    return order


def order_edit(
    *,
    order: Order,
    actor: Actor,
    address: CanonicalAddress | Mapping[str, Any] | None = None,
    lines: Sequence[CanonicalLine | tuple[str, Any]] | None = None,
    phone: str | None = None,
    special_handling: str | None = None,
) -> Order:
    """Fix or change an order until it is released to pick; it is re-validated and moves on (its exception closes
    when the cause is gone). After release: refused (`Conflict`) and escalated as `ORDER_EDIT_AFTER_RELEASE`."""
    if actor is not None and not actor.has_perm(CHANGE_ORDER):
        raise NotPermitted("You may not edit orders.")
    with transaction.atomic():
        order = _lock(order)
        if order.state == OrderState.CANCELLED:
            raise TransitionNotAllowed(
                f"Order {_label(order)} is cancelled.", reasons=[Reason("wrong_state", "a cancelled order is final")]
            )
        if order.state not in EDITABLE_STATES:
            reason = Reason("edit_after_release", f"an edit was requested while the order is {order.state}")
            _open_order_exception(
                order, kind=ExceptionKind.ORDER_EDIT_AFTER_RELEASE, summary="edit after release", reasons=[reason]
            )
            _event(order, OrderEventKind.EDIT_REFUSED, f"Edit refused and escalated: {reason.message}", actor=actor)
            refused = True
        else:
            refused = False
            changed: list[str] = []
            values: dict[str, Any] = {}
            if address is not None:
                given = _address_fields(address)
                keys = address.keys() if isinstance(address, Mapping) else ADDRESS_FIELDS
                values.update({f"delivery_{k}": given[f"delivery_{k}"] for k in keys if f"delivery_{k}" in given})
            if phone is not None:
                values["contact_phone"] = _text(phone, 40, "phone")
            if special_handling is not None:
                values["special_handling"] = _text(special_handling, 2000, "special_handling")
            for name, value in values.items():
                if getattr(order, name) != value:
                    _remember_fix(order, name, getattr(order, name), actor=actor)
                    setattr(order, name, value)
                    changed.append(name.replace("delivery_", ""))
            new_lines = _as_lines(lines) if lines is not None else None
            lines_changed = new_lines is not None and _line_signature(new_lines) != _stored_signature(order)
            if lines_changed:
                _remember_fix(order, "lines", _signature_json(_stored_signature(order)), actor=actor)
            save_with_history(order, actor=actor, reason="edited")
            if new_lines is not None and lines_changed:
                _release_allocation(order, actor=actor, why="the lines were edited")
                _set_lines(order, new_lines, actor=actor)
                changed.append("lines")
            if changed:
                _event(order, OrderEventKind.EDITED, f"Edited: {', '.join(changed)}", actor=actor)
                order = _revise(order, actor=actor, why=f"edited: {', '.join(changed)}")
    if refused:
        raise Conflict(
            f"Order {_label(order)} was released to pick: edits are refused; a manager has been asked to decide.",
            reasons=[Reason("edit_after_release", "edits apply until release to pick")],
        )
    return order


def order_force(*, order: Order, name: str, actor: Actor, reason: str) -> Order:
    """A manager overrides a guard (needs `orders.force_order_transition` and a reason). A forced validation is the
    manager's explicit decision on a held order: it then allocates as usual (see `_force_validate`)."""
    if actor is None or not actor.has_perm(FORCE_ORDER):
        raise NotPermitted("You may not force an order transition.")
    if name not in FORCEABLE:
        raise InvalidInput(
            f"{name} cannot be forced; use its own step.",
            reasons=[Reason("not_forceable", f"forceable: {', '.join(FORCEABLE)}")],
        )
    with transaction.atomic():
        order = _lock(order)
        was = order.state
        if name == "validate" and was in (OrderState.RECEIVED, OrderState.ON_HOLD):
            return _force_validate(order, actor=actor, reason=reason)
        order = transition_apply(obj=order, name=name, actor=actor, reason=reason, force=True)
        _event(order, OrderEventKind.FORCED, f"Forced {name.replace('_', ' ')} ({was} → {order.state}): {reason}",
               actor=actor, data={"from": was, "to": order.state})  # fmt: skip
        return order


# Reasons a forced validation cannot override: a line without a known SKU or a positive quantity cannot be
# allocated, picked or shipped. The manager fixes the line (or cancels it) on the order page instead.
LINE_REASONS = ("lines_missing", "sku_missing", "unknown_sku", "alias_expired", "quantity_invalid")


def _force_validate(order: Order, *, actor: Actor, reason: str) -> Order:
    """The manager overrides the data reasons the order is held for: they are recorded on the order (`forced_past`)
    so no later validation holds it for those same reasons until the data changes, and the one on-hold exception
    is resolved with the manager's reason. Stock is not overridden: short, it waits in the one `short` exception."""
    lines = order_lines(order)
    stored = [line.sku_id for line in lines]
    reasons = order_reasons(order=order, lines=lines)
    blocking = [r for r in reasons if r.code in LINE_REASONS]
    if blocking:
        raise TransitionNotAllowed(
            f"Cannot force validation of order {_label(order)}: {_messages(blocking)}. Fix the line or cancel it "
            "on the order page.",
            reasons=blocking,
        )
    _keep_resolved(lines, stored, actor=actor)  # e.g. through an alias made since the hold
    was = order.state
    overridden = [r.as_dict() for r in reasons]
    order = transition_apply(
        obj=order, name="validate", actor=actor, reason=reason, force=True, changes={"forced_past": overridden},
        lock=False,
    )  # fmt: skip
    _event(order, OrderEventKind.FORCED, f"Forced validate ({was} → {order.state}): {reason}", actor=actor,
           data={"from": was, "to": order.state, "overridden": [r["code"] for r in overridden]})  # fmt: skip
    exceptions_resolve_if_cleared(subject=order, kind=ExceptionKind.ORDER_ON_HOLD, note=f"Forced: {reason}")
    return _route_and_accept(order, actor=actor, route=True)


# --- a person's fixes on the order page ---------------------------------------------------------------------------

FIELD_WORDS = {
    "delivery_name": "name",
    "delivery_street1": "street",
    "delivery_street2": "street (second line)",
    "delivery_postal_code": "ZIP",
    "delivery_city": "city",
    "delivery_region": "region",
    "delivery_country": "country",
    "contact_phone": "phone",
    "special_handling": "special handling",
    "lines": "lines",
}
DECISIONS = ("ours", "platform")


def _signature_json(signature: Sequence[tuple[str, ...]]) -> list[list[str]]:
    return [list(entry) for entry in signature]


def _remember_fix(order: Order, name: str, platform_value: Any, *, actor: Actor) -> None:
    """A person changed `name`: a later platform update keeps the person's value (`_keep_person_fixes`). The value
    the platform had sent is kept, so the platform sending it again is no conflict."""
    if actor is not None and name not in (order.person_fixes or {}):
        order.person_fixes = {**(order.person_fixes or {}), name: platform_value}


def _keep_person_fixes(
    order: Order, fields: dict[str, Any], lines: list[CanonicalLine]
) -> tuple[list[CanonicalLine] | None, dict[str, Any]]:
    """A platform update never overwrites what a person fixed: those fields keep the person's value (in `fields`;
    lines: None). A platform value that differs from both what it sent before the fix and ours is a conflict,
    returned for a person to decide; one already waiting is not raised again."""
    fixes, waiting = order.person_fixes or {}, order.platform_conflicts or {}
    new: dict[str, Any] = {}
    for name in MATERIAL_FIELDS:
        if name in fixes:
            incoming, ours = fields[name], getattr(order, name)
            fields[name] = ours
            if incoming not in (fixes[name], ours) and waiting.get(name) != incoming:
                new[name] = incoming
    if "lines" not in fixes:
        return lines, new
    incoming_lines = _signature_json(_line_signature(lines))
    if incoming_lines not in (fixes["lines"], _signature_json(_stored_signature(order))):
        theirs = [[*entry, _text(x.title, 300, "line title")] for entry, x in zip(incoming_lines, lines, strict=True)]
        if waiting.get("lines") != theirs:
            new["lines"] = theirs
    return None, new


def _record_conflicts(order: Order, new: dict[str, Any], *, actor: Actor) -> None:
    """Keep the platform's values for a person's decision, on the order page and in one exception per order."""
    order.platform_conflicts = {**(order.platform_conflicts or {}), **new}
    words = ", ".join(FIELD_WORDS[name] for name in new)
    _event(order, OrderEventKind.UPDATE_CONFLICT,
           f"The platform changed {words}, which a person had fixed: ours is kept until someone decides", actor=actor,
           data={"fields": list(new)})  # fmt: skip
    waiting = ", ".join(FIELD_WORDS[name] for name in order.platform_conflicts)
    reasons = [
        Reason("update_conflict", f"the platform sent a different {FIELD_WORDS[name]} after a person fixed it")
        for name in order.platform_conflicts
    ]
    _open_order_exception(
        order, kind=ExceptionKind.ORDER_UPDATE_CONFLICT, summary=f"platform update conflicts with a fix: {waiting}",
        reasons=reasons,
    )  # fmt: skip


def _require_editable(order: Order) -> None:
    if order.state == OrderState.CANCELLED:
        raise TransitionNotAllowed(
            f"Order {_label(order)} is cancelled.", reasons=[Reason("wrong_state", "a cancelled order is final")]
        )
    if order.state not in EDITABLE_STATES:
        raise Conflict(
            f"Order {_label(order)} was released to pick: its lines can no longer be changed.",
            reasons=[Reason("edit_after_release", "edits apply until release to pick")],
        )


def _active_line(order: Order, line_number: int) -> OrderLine:
    line = next((x for x in order_lines(order) if x.line_number == line_number), None)
    if line is None:
        raise InvalidInput(
            f"Order {_label(order)} has no open line {line_number}.",
            reasons=[Reason("line_unknown", f"line {line_number} does not exist or is cancelled")],
        )
    return line


def order_line_edit(
    *, order: Order, line_number: int, actor: Actor, sku_code: str | None = None, quantity: Any = None
) -> Order:
    """A person corrects one line's SKU code (it must resolve: a catalog code or an alias inside its window) and/or
    its quantity (a whole number from 1 to MAX_LINE_QUANTITY) until release to pick; the order is re-checked
    (validated, allocated and accepted if it can be). Bad input is refused and nothing is saved."""
    _require(actor, CHANGE_ORDER, "You may not edit orders.")
    code = None if sku_code is None else str(sku_code).strip()
    if code is not None and not code:
        raise InvalidInput("Give the line's SKU code.", reasons=[Reason("sku_code", "the SKU code is blank")])
    if code is not None and len(code) > 100:
        raise InvalidInput("The SKU code is over 100 characters.", reasons=[Reason("sku_code", "at most 100")])
    units = None if quantity is None else quantity_parse(quantity)
    if quantity is not None and units is None:
        message = f"The quantity must be a whole number from 1 to {MAX_LINE_QUANTITY:,}."
        raise InvalidInput(message, reasons=[Reason("quantity", message)])
    with transaction.atomic():
        order = _lock(order)
        _require_editable(order)
        line = _active_line(order, line_number)
        signature = _signature_json(_stored_signature(order))
        changed = []
        if code is not None and code != line.sku_code:
            try:
                line.sku = sku_resolve(brand=order.brand, code=code).sku
            except InvalidInput as exc:
                raise InvalidInput(
                    f"{exc.message}: choose an offered SKU or create an alias first.", reasons=exc.reasons
                ) from exc
            changed.append(f"SKU {line.sku_code or '(none)'} → {code}")
            line.sku_code = code
        if units is not None and (units != line.quantity or str(units) != line.quantity_received):
            changed.append(f"quantity {line.quantity_received or '(none)'} → {units}")
            line.quantity, line.quantity_received = units, str(units)
        if changed:
            _remember_fix(order, "lines", signature, actor=actor)
            line._history_user = actor  # type: ignore[attr-defined]
            line.save()
            forget_lines(order)
            _release_allocation(order, actor=actor, why="a line was edited")
            _event(order, OrderEventKind.EDITED, f"Line {line_number} edited: {', '.join(changed)}", actor=actor)
        elif order.state not in (OrderState.RECEIVED, OrderState.ON_HOLD):
            return order  # nothing changed on an order that is not waiting for a re-check
        return _recheck(order, actor=actor, why=f"line {line_number} edited" if changed else "re-checked")


def order_line_cancel(*, order: Order, line_number: int, actor: Actor, reason: str) -> Order:
    """A person cancels one line with a reason until release to pick: the line stays on the order, marked cancelled
    (never deleted, never allocated or shipped), and the order is re-checked without it."""
    _require(actor, CHANGE_ORDER, "You may not edit orders.")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the line is cancelled.", reasons=[Reason("reason", "the reason is blank")])
    if len(reason) > 300:
        message = f"The reason is {len(reason)} characters; at most 300."
        raise InvalidInput(message, reasons=[Reason("reason", message)])
    with transaction.atomic():
        order = _lock(order)
        _require_editable(order)
        line = _active_line(order, line_number)
        if len(order_lines(order)) == 1:
            raise Conflict(
                f"Line {line_number} is the order's last line: cancel the order instead.",
                reasons=[Reason("last_line", "an order keeps at least one line")],
            )
        _remember_fix(order, "lines", _signature_json(_stored_signature(order)), actor=actor)
        line.cancelled_at, line.cancel_reason = timezone.now(), reason
        line._history_user = actor  # type: ignore[attr-defined]
        line.save(update_fields=["cancelled_at", "cancel_reason"])
        forget_lines(order)
        _release_allocation(order, actor=actor, why="a line was cancelled")
        what = f"{line.quantity_received or '?'} × {line.sku_code or 'no SKU'}"
        _event(order, OrderEventKind.EDITED, f"Line {line_number} ({what}) cancelled: {reason}", actor=actor)
        return _recheck(order, actor=actor, why=f"line {line_number} cancelled")


def order_recheck(*, order: Order, actor: Actor) -> Order:
    """A person asks to check a held order again (e.g. after creating an alias its line now resolves): validated,
    routed, allocated and accepted if it can be, else held with every reason named."""
    _require(actor, CHANGE_ORDER, "You may not edit orders.")
    with transaction.atomic():
        order = _lock(order)
        if order.state not in (OrderState.RECEIVED, OrderState.ON_HOLD):
            raise TransitionNotAllowed(
                f"Order {_label(order)} is {order.get_state_display().lower()}: only a held order is re-checked.",
                reasons=[Reason("wrong_state", "re-check applies to an order on hold")],
            )
        return _recheck(order, actor=actor, why="re-checked")


def _recheck(order: Order, *, actor: Actor, why: str) -> Order:
    with memo_scope():  # SKU resolution read once per code
        return _revise(order, actor=actor, why=why)


def order_conflict_decide(*, order: Order, field: str, decision: str, actor: Actor) -> Order:
    """A person decides a platform update that conflicts with a fix: keep ours (the platform sending the same value
    again is then no conflict) or take the platform's (until release to pick; the order is re-checked)."""
    _require(actor, CHANGE_ORDER, "You may not edit orders.")
    if decision not in DECISIONS:
        raise InvalidInput("Choose ours or the platform's.", reasons=[Reason("decision", "ours or platform")])
    with transaction.atomic():
        order = _lock(order)
        conflicts = dict(order.platform_conflicts or {})
        if field not in conflicts:
            raise InvalidInput(
                "No platform update is waiting on that field.", reasons=[Reason("no_conflict", str(field)[:100])]
            )
        theirs = conflicts.pop(field)
        fixes = dict(order.person_fixes or {})
        words = FIELD_WORDS.get(field, field)
        if decision == "platform":
            _require_editable(order)
            fixes.pop(field, None)
            if field != "lines":
                setattr(order, field, theirs)
        else:
            fixes[field] = [entry[:3] for entry in theirs] if field == "lines" else theirs
        order.platform_conflicts, order.person_fixes = conflicts, fixes
        save_with_history(order, actor=actor, reason=f"platform update on {words}: {decision}")
        if decision == "platform" and field == "lines":
            _release_allocation(order, actor=actor, why="the platform's lines were taken")
            _set_lines(order, [CanonicalLine(*entry) for entry in theirs], actor=actor)
        took = "took the platform's" if decision == "platform" else "kept ours"
        _event(order, OrderEventKind.EDITED, f"Platform update on {words}: {took}", actor=actor)
        if not conflicts:
            _resolve_cleared(order, ExceptionKind.ORDER_UPDATE_CONFLICT, f"Decided: {took} ({words}).")
        if decision == "platform":
            order = _recheck(order, actor=actor, why=f"took the platform's {words}")
        return order


# --- shipments ----------------------------------------------------------------------------------------------------


def _require(actor: Actor, perm: str, message: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise NotPermitted(message)


def _shipment_leg(order: Order, facility: Facility | None) -> Leg:
    """Which part of the order a new shipment carries: the whole order at its facility, or for a split the leg at
    `facility` (by default the first leg without a shipment yet)."""
    legs = _legs(order)
    if facility is None:
        shipped = set(order.shipments.values_list("facility_id", flat=True))
        facility = next((leg.facility for leg in legs if leg.facility.pk not in shipped), legs[0].facility)
    leg = next((leg for leg in legs if leg.facility == facility), None)
    if leg is None:
        where = _where(legs)
        raise InvalidInput(
            f"Order {_label(order)} ships from {where}, not {facility.code}.",
            reasons=[Reason("facility_not_in_order", f"the order ships from {where}")],
        )
    return leg


def shipment_create(
    *,
    order: Order,
    carrier: str,
    actor: Actor,
    service: str = "",
    tracking_number: str = "",
    facility: Facility | None = None,
) -> Shipment:
    """A packed order gets a shipment (staged) and its label. An order split across facilities gets one per leg,
    each with its facility and lines."""
    _require(actor, OPERATE_SHIPMENT, "You may not create shipments.")
    carrier = _text(carrier, 60, "carrier")
    if not carrier:
        raise InvalidInput("A shipment needs a carrier.", reasons=[Reason("carrier_required", "Name the carrier")])
    with transaction.atomic():
        order = _lock(order)
        if order.state != OrderState.PACKED:
            raise TransitionNotAllowed(
                f"Order {_label(order)} is {order.state}: a shipment is created once it is packed.",
                reasons=[Reason("order_not_packed", f"the order is {order.state}, not packed")],
            )
        now = timezone.now()
        # An order at one facility ships whole from it (no read needed); a split order ships one leg per shipment.
        leg = _shipment_leg(order, facility) if facility is not None or is_split(order) else None
        shipment = Shipment(
            order=order,
            facility=leg.facility if leg is not None else order.facility,
            lines=[[sku.pk, qty] for sku, qty in leg.lines] if leg is not None and leg.suffix else [],
            carrier=carrier,
            service=_text(service, 60, "service"),
            tracking_number=_text(tracking_number, 100, "tracking_number"),
            label_created_at=now,
        )
        shipment._history_user = actor  # type: ignore[attr-defined]
        shipment.save()
        tracking = f", tracking {shipment.tracking_number}" if shipment.tracking_number else ""
        part = f" for the {leg.facility.code} leg" if leg is not None and leg.suffix else ""
        _event(order, OrderEventKind.LABEL_CREATED,
               f"Label created{part}: {carrier} {shipment.service}{tracking}".strip(), actor=actor,
               data={"shipment": shipment.pk})  # fmt: skip
        return shipment


def shipment_hand_to_carrier(
    *,
    shipment: Shipment,
    carrier_receipt: str,
    handed_at: dt.datetime | None,
    actor: Actor,
    tracking_number: str | None = None,
) -> Shipment:
    """The carrier took custody, with proof (receipt, tracking number, time): the order is dispatched and its units
    leave the building (in pick → shipped) now, not before. A split order's leg ships its own units at its own
    facility; the order is dispatched when the last leg is handed over. Listeners of `shipment_handed_to_carrier`
    run inside this transaction (integrations writes the fulfilment's outbox row there): if one fails, nothing of the
    hand-off is kept, and if the hand-off is rolled back, neither is the row."""
    with transaction.atomic():
        changes: dict[str, Any] = {
            "carrier_receipt": _text(carrier_receipt, 200, "carrier_receipt"),
            "handed_at": handed_at,
        }
        if tracking_number is not None:
            changes["tracking_number"] = _text(tracking_number, 100, "tracking_number")
        shipment = transition_apply(
            obj=shipment, name="hand_to_carrier", actor=actor, reason="carrier took custody", changes=changes
        )
        order = _lock(shipment.order)
        part = ""
        if order.state == OrderState.PACKED and is_split(order):
            leg = next(leg for leg in _legs(order) if leg.facility.pk == shipment.facility_id)
            part = f" ({leg.facility.code} leg)"
            stock_ship(  # a second parcel of the same leg replays this event: its units left once
                facility=leg.facility, lines=leg.lines, event_id=_stock_event(order, "ship", leg), actor=actor,
                reference=f"order {_label(order)} shipment {shipment.pk}",
            )  # fmt: skip
            if has_carrier_proof(order):  # every leg is with a carrier now
                order = transition_apply(obj=order, name="dispatch", actor=actor, reason="last leg handed to carrier")
        elif order.state == OrderState.PACKED:
            order = transition_apply(obj=order, name="dispatch", actor=actor, reason="handed to carrier")
            stock_ship(
                facility=order.facility,  # type: ignore[arg-type]
                lines=_stock_lines(order),
                event_id=f"order:{order.pk}:ship:{order.stock_round}",
                actor=actor,
                reference=f"order {_label(order)} shipment {shipment.pk}",
            )
        _event(
            order,
            OrderEventKind.HANDED_TO_CARRIER,
            f"Handed to {shipment.carrier}{part}: tracking {shipment.tracking_number}, receipt "
            f"{shipment.carrier_receipt}",
            actor=actor,
            data={"shipment": shipment.pk, "handed_at": handed_at.isoformat() if handed_at else None},
        )
        # Inside the atomic block, never on commit: a crash between commit and callback would lose the write.
        shipment_handed_to_carrier.send(sender=Shipment, shipment=shipment)
        return shipment


def _scan_id(status: str, occurred_at: dt.datetime, description: str, location: str) -> str:
    raw = f"{status}|{occurred_at.isoformat()}|{description}|{location}"
    return "h:" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def _deliver_order_if_complete(order: Order, *, actor: Actor, message: str) -> Order:
    if order.state not in (OrderState.DISPATCHED, OrderState.IN_TRANSIT):
        return order
    if order.shipments.exclude(state=ShipmentState.DELIVERED).exists():
        return order
    order = transition_apply(obj=order, name="deliver", actor=actor, reason="carrier confirmed delivery")
    _event(order, OrderEventKind.DELIVERED, message, actor=actor)
    return order


def shipment_record_scan(
    *,
    shipment: Shipment,
    status: str,
    occurred_at: dt.datetime,
    actor: Actor = None,
    event_id: str = "",
    description: str = "",
    location: str = "",
    raw: dict[str, Any] | None = None,
) -> Shipment:
    """One carrier scan, recorded once per event id. The first acknowledges custody; `in_transit` and `delivered`
    move the shipment (and the order) on; delivery of the last shipment closes the order."""
    status = (status or "").strip().lower()
    if status not in SCAN_STATUSES:
        raise InvalidInput(
            f"Unknown scan status {status!r}.", reasons=[Reason("scan_status", f"one of {', '.join(SCAN_STATUSES)}")]
        )
    description, location = _text(description, 300, "description"), _text(location, 200, "location")
    event_id = _text(event_id, 200, "event_id") or _scan_id(status, occurred_at, description, location)
    with transaction.atomic():
        shipment = Shipment.objects.select_for_update(of=("self",)).select_related("order").get(pk=shipment.pk)
        if shipment.state == ShipmentState.STAGED:
            raise TransitionNotAllowed(
                "A scan arrived for a shipment not yet handed to the carrier; record the hand-off first.",
                reasons=[Reason("not_handed_to_carrier", "the shipment is still staged")],
            )
        try:
            with transaction.atomic():
                ShipmentEvent.objects.create(
                    shipment=shipment,
                    event_id=event_id,
                    status=status,
                    description=description,
                    location=location,
                    occurred_at=occurred_at,
                    raw=raw or {},
                )
        except IntegrityError:
            return shipment  # the same scan again
        order = _lock(shipment.order)
        where = f" at {location}" if location else ""
        scan = {"shipment": shipment.pk, "status": status, "occurred_at": occurred_at.isoformat()}
        message = f"{shipment.carrier} scan: {description or status}{where}"
        _event(order, OrderEventKind.CARRIER_SCAN, message, actor=actor, data=scan)
        if shipment.acknowledged_at is None:
            shipment.acknowledged_at = occurred_at
            shipment.save(update_fields=["acknowledged_at"])
            exceptions_resolve_if_cleared(
                subject=shipment, kind=ExceptionKind.CARRIER_ACK_MISSING, note="The carrier acknowledged custody."
            )
        if status == "in_transit" and shipment.state == ShipmentState.HANDED_TO_CARRIER:
            shipment = transition_apply(obj=shipment, name="mark_in_transit", actor=actor, reason="carrier scan")
            if order.state == OrderState.DISPATCHED:
                order = transition_apply(obj=order, name="mark_in_transit", actor=actor, reason="carrier scan")
                _event(order, OrderEventKind.IN_TRANSIT, f"In transit with {shipment.carrier}", actor=actor)
        if status == "delivered" and shipment.state in (ShipmentState.HANDED_TO_CARRIER, ShipmentState.IN_TRANSIT):
            shipment = transition_apply(
                obj=shipment, name="deliver", actor=actor, reason="carrier confirmed delivery",
                changes={"delivered_at": occurred_at},
            )  # fmt: skip
            _deliver_order_if_complete(order, actor=actor, message=f"Delivered: {shipment.carrier} confirmed")
        return shipment


def shipment_close_manually(*, shipment: Shipment, actor: Actor, reason: str) -> Shipment:
    """A manager closes a handed-over shipment as delivered (e.g. proof arrived by email): forced, with a reason."""
    _require(actor, CLOSE_SHIPMENT, "You may not close shipments manually.")
    reason = text_within(reason, field="reason", limit=300)
    with transaction.atomic():
        shipment = transition_apply(
            obj=shipment,
            name="deliver",
            actor=actor,
            reason=reason,
            force=True,
            changes={"closed_manually_reason": reason, "delivered_at": timezone.now()},
        )
        order = _lock(shipment.order)
        if (
            order.state in (OrderState.DISPATCHED, OrderState.IN_TRANSIT)
            and not order.shipments.exclude(state=ShipmentState.DELIVERED).exists()
        ):
            order = transition_apply(obj=order, name="deliver", actor=actor, reason=reason, force=True)
        who = actor.get_username() if actor is not None else "the system"
        _event(order, OrderEventKind.DELIVERED, f"Shipment closed manually by {who}: {reason}", actor=actor,
               data={"shipment": shipment.pk})  # fmt: skip
        exceptions_resolve_if_cleared(subject=shipment, kind=ExceptionKind.CARRIER_ACK_MISSING, note=reason)
        return shipment
