"""Pre-orders and scheduled inbound: a pre-order claims units of an inbound still expected (virtual stock), waits for
it, and is allocated from stock once it arrived; a cancelled one gives its claims back."""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.models import ExpectedInboundLine, InboundState, Sku
from inventory.receiving import expected_inbound_create
from orders.allocation.models import (
    PreorderClaim,
    ScheduledInbound,
)
from orders.allocation.policy import PREORDER_WORDS
from orders.models import Order, created_now, order_skus
from warehouse.errors import Conflict, InvalidInput, Reason
from warehouse.history import save_with_history
from warehouse.models import Brand, Facility
from warehouse.transitions import Actor


def scheduled_inbound_create(
    *,
    brand: Brand,
    sku: Sku,
    facility: Facility,
    quantity: int,
    expected_on: dt.date,
    actor: Actor,
    preorder_limit: int = 0,
    reference: str = "",
) -> ScheduledInbound:
    """Announce the inbound (an expected inbound of one line, `inventory.receiving`) and open it to pre-orders."""
    _check_limit(quantity=quantity, preorder_limit=preorder_limit)
    with transaction.atomic():
        inbound = expected_inbound_create(
            brand=brand, facility=facility, reference=reference or f"PRE-{uuid.uuid4().hex[:10].upper()}",
            expected_on=expected_on, lines=[(sku, quantity)], actor=actor,
        )  # fmt: skip
        return preorder_schedule_create(line=inbound.lines.get(), preorder_limit=preorder_limit, actor=actor)


def preorder_schedule_create(*, line: ExpectedInboundLine, preorder_limit: int, actor: Actor) -> ScheduledInbound:
    """Open an announced inbound line to pre-orders: up to `preorder_limit` of its units may be sold ahead."""
    _check_limit(quantity=line.quantity_expected, preorder_limit=preorder_limit)
    if line.quantity_received or line.inbound.state == InboundState.CLOSED:
        message = f"{line.inbound.reference} line {line.number} is already being received: too late to pre-sell it"
        raise Conflict(message, reasons=[Reason("line_already_received", message)])
    if ScheduledInbound.objects.filter(expected_line=line).exists():
        message = f"{line.inbound.reference} line {line.number} is already open to pre-orders"
        raise Conflict(message, reasons=[Reason("line_already_scheduled", message)])
    schedule = ScheduledInbound(expected_line=line, preorder_limit=preorder_limit)
    save_with_history(schedule, actor=actor, reason="inbound scheduled for pre-orders")
    return schedule


def _check_limit(*, quantity: int, preorder_limit: int) -> None:
    if quantity <= 0 or not 0 <= preorder_limit <= quantity:
        raise InvalidInput(
            "Inbound needs a positive quantity and a pre-order limit within it.",
            reasons=[Reason("inbound_invalid", "0 ≤ pre-order limit ≤ quantity, quantity ≥ 1")],
        )


def is_preorder(order: Order) -> bool:
    """Read from the order alone (no query): the pre-order class does not depend on the brand's policy."""
    return (order.priority_class or "").strip().lower() in PREORDER_WORDS


def preorder_facility(*, order: Order, required: list[list[int]]) -> Facility | None:
    """Where a pre-order ships from: where its claims are, else the facility of the earliest open inbound that can
    still pre-sell one of its SKUs in full (None: routing decides, and the claim will be refused)."""
    held = (
        PreorderClaim.objects.filter(order=order, released_at__isnull=True)
        .select_related("inbound__expected_line__inbound__facility")
        .first()
    )
    if held is not None:
        return held.inbound.facility
    wanted = {int(sku_id): int(qty) for sku_id, qty in required}
    for inbound in (
        ScheduledInbound.objects.open()
        .of_skus(wanted)
        .filter(preordered__lt=F("preorder_limit"))
        .with_line()
        .soonest_first()
    ):
        if inbound.preorder_limit - inbound.preordered >= wanted[inbound.sku_id]:
            return inbound.facility
    return None


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


def preorder_claim(*, sku: Sku, quantity: int, facility: Facility | None = None) -> ScheduledInbound:
    """Promise `quantity` units of the earliest open inbound (at `facility`, if given) that still has room to a
    pre-order (virtual stock); refused with `preorder_sold_out` when none has. One conditional UPDATE per inbound:
    concurrent pre-orders never over-promise. Orders claim through `preorder_hold_reason`, which records the claim."""
    inbounds = ScheduledInbound.objects.open().of_skus([sku.pk]).filter(preordered__lte=F("preorder_limit") - quantity)
    if facility is not None:
        inbounds = inbounds.at(facility)
    for inbound in inbounds.with_line().soonest_first():
        if ScheduledInbound.objects.filter(
            pk=inbound.pk, received=False, preordered__lte=F("preorder_limit") - quantity
        ).update(preordered=F("preordered") + quantity):
            inbound.refresh_from_db(fields=["preordered", "received"])
            return inbound
    where = f" at {facility.code}" if facility is not None else ""
    message = (
        f"{sku.code}: no scheduled inbound{where} can still pre-sell {quantity} unit(s); the pre-order is not "
        "promised current stock. Schedule more inbound or raise its pre-order limit, then retry, or cancel the order"
    )
    raise Conflict(message, reasons=[Reason("preorder_sold_out", message)])


def _claims_sync(*, order: Order, required: list[list[int]], actor: Actor) -> list[PreorderClaim]:
    """Make the order's active claims match its lines at its facility: a SKU whose claim still fits is left alone
    (retries, redeliveries and revisions that keep the lines claim nothing again); a changed or removed one is given
    back; a new or changed one claims the earliest open inbound with room (raises `Conflict` when none has)."""
    want = {int(sku_id): int(qty) for sku_id, qty in required}
    active = list(
        PreorderClaim.objects.filter(order=order, released_at__isnull=True).select_related(
            "inbound__expected_line__inbound"
        )
    )
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
