"""Receiving: expected inbound (an ASN or a purchase order) created by a brand, its ERP or a manager; receipt by
line or by scan; over, short and unexpected units held for a person's decision, each an exception naming the
variance. Stock moves only through `stock_receive` (one ledger movement per receipt), never as a silent adjustment.

Who: creating needs `inventory.add_expectedinbound` (managers) or being a user of the brand (brands, and the ERP
through the brand's API token); receiving needs `inventory.operate_expectedinbound` (operations, managers);
deciding a variance needs `warehouse.resolve_exceptionitem` (managers)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from inventory.catalog import is_brand_member, sku_missing_steps
from inventory.models import (
    ExpectedInbound,
    ExpectedInboundLine,
    InboundKind,
    InboundSource,
    InboundState,
    Movement,
    Sku,
    SkuState,
    Variance,
    VarianceState,
)
from inventory.services import sku_resolve, sku_resolve_scan, stock_receive
from inventory.signals import stock_received
from warehouse.errors import Conflict, InvalidInput, NotPermitted, Reason
from warehouse.history import save_with_history
from warehouse.models import Brand, ExceptionItem, ExceptionKind, ExceptionState, Facility
from warehouse.services import exception_dedupe_key, exception_open, exception_resolve, exceptions_resolve_if_cleared
from warehouse.transitions import Actor, transition_apply

ADD_INBOUND = "inventory.add_expectedinbound"
RECEIVE = "inventory.operate_expectedinbound"
DECIDE = "warehouse.resolve_exceptionitem"
LINE_LIMIT = 5000  # lines per inbound: a container's worth; more is a data error, refused whole
QUANTITY_LIMIT = 1_000_000


@dataclass(frozen=True)
class Receipt:
    """What one receipt did: units into stock, units held at the dock for a decision, and any warnings."""

    line: ExpectedInboundLine
    into_stock: int
    held: int
    warnings: list[Reason] = field(default_factory=list)

    def words(self) -> str:
        parts = [f"{self.into_stock} × {self.line.sku.code} received into stock"] if self.into_stock else []
        if self.held:
            what = "unexpected" if self.line.unexpected else "over the expected quantity"
            parts.append(f"{self.held} × {self.line.sku.code} {what}: held for a manager's decision")
        return "; ".join(parts + [w.message for w in self.warnings])


def _quantity(value: Any, *, what: str) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        message = f"{what}: quantity {value!r} is not a whole number of at least 1"
        raise InvalidInput(message, reasons=[Reason("quantity_not_positive", message)])
    if value > QUANTITY_LIMIT:
        message = f"{what}: quantity {value} is above {QUANTITY_LIMIT:,}"
        raise InvalidInput(message, reasons=[Reason("quantity_too_large", message)])
    return value


def _may_create(actor: Actor, brand: Brand) -> bool:
    return actor is None or bool(actor.has_perm(ADD_INBOUND)) or is_brand_member(actor, brand.pk)


def expected_inbound_create(
    *,
    brand: Brand,
    facility: Facility,
    reference: str,
    expected_on: date,
    lines: Sequence[tuple[str | Sku, Any]],
    actor: Actor,
    source: str = "",
    kind: str = InboundKind.ASN,
) -> ExpectedInbound:
    """Announce stock coming to `facility`: each line a SKU (or a code resolved through the brand's aliases) and a
    quantity. All or nothing: any bad line refuses the whole with every problem named."""
    if not _may_create(actor, brand):
        raise NotPermitted("You may not announce inbound for this brand.")
    if not source:
        source = InboundSource.MANAGER if actor is not None and actor.has_perm(ADD_INBOUND) else InboundSource.BRAND
    if source not in InboundSource.values:
        raise InvalidInput(f"Unknown source {source!r}.", reasons=[Reason("source_invalid", "brand, erp or manager")])
    if source == InboundSource.MANAGER and actor is not None and not actor.has_perm(ADD_INBOUND):
        raise NotPermitted("Only a manager creates a manager's inbound.")
    if kind not in InboundKind.values:
        raise InvalidInput(f"Unknown kind {kind!r}.", reasons=[Reason("kind_invalid", "asn or po")])
    reference = (reference or "").strip()
    problems: list[Reason] = []
    if not reference:
        problems.append(Reason("reference_required", "Give the ASN or PO number"))
    elif len(reference) > 100:
        problems.append(Reason("reference_too_long", "The reference is at most 100 characters"))
    if not isinstance(expected_on, date):
        problems.append(Reason("expected_on_required", "Give the expected date"))
    if not lines:
        problems.append(Reason("lines_required", "Give at least one line (SKU and quantity)"))
    if len(lines) > LINE_LIMIT:
        problems.append(Reason("too_many_lines", f"{len(lines)} lines; at most {LINE_LIMIT} per inbound"))
    resolved: list[tuple[Sku, int]] = []
    seen: dict[int, int] = {}
    for number, (code, quantity) in enumerate(lines, start=1):
        try:
            sku = code if isinstance(code, Sku) else sku_resolve(brand=brand, code=str(code)).sku
            if sku.brand_id != brand.pk:
                raise InvalidInput("other brand", reasons=[Reason("other_brand", f"{sku.code} is another brand's")])
            units = _quantity(quantity, what=f"line {number} ({sku.code})")
        except InvalidInput as exc:
            problems.extend(Reason(r.code, f"line {number}: {r.message}") for r in exc.reasons)
            continue
        if sku.is_kit:
            problems.append(Reason("kit_has_no_stock", f"line {number}: {sku.code} is a kit; announce its components"))
            continue
        if sku.pk in seen:
            problems.append(Reason("duplicate_sku", f"line {number}: {sku.code} is already line {seen[sku.pk]}"))
            continue
        seen[sku.pk] = number
        resolved.append((sku, units))
    if not problems and ExpectedInbound.objects.filter(brand=brand, reference=reference).exists():
        message = f"{brand.name} already has an inbound {reference}"
        raise Conflict(message, reasons=[Reason("reference_in_use", message)])
    if problems:
        raise InvalidInput("The inbound was not created: " + "; ".join(r.message for r in problems[:20]),
                           reasons=problems)  # fmt: skip
    with transaction.atomic():
        inbound = ExpectedInbound(
            brand=brand, facility=facility, reference=reference, expected_on=expected_on, source=source, kind=kind,
            created_by=actor,
        )  # fmt: skip
        save_with_history(inbound, actor=actor, reason=f"announced by the {InboundSource(source).label.lower()}")
        ExpectedInboundLine.objects.bulk_create(
            ExpectedInboundLine(inbound=inbound, number=n, sku=sku, quantity_expected=q)
            for n, (sku, q) in enumerate(resolved, start=1)
        )
    return inbound


def _refuse_not_ready(sku: Sku) -> None:
    state = Sku.objects.filter(pk=sku.pk).values_list("state", flat=True).first()
    if state == SkuState.READY_FOR_RECEIVING:
        return
    missing = sku_missing_steps(state or "")
    label = SkuState(state).label.lower() if state in SkuState.values else "unknown"
    message = (
        f"SKU {sku.code} is not ready for receiving (it is {label}); missing step: {missing[0] if missing else '?'}"
    )
    if len(missing) > 1:
        message += f" (then {', '.join(missing[1:])})"
    raise Conflict(message, reasons=[Reason("sku_not_ready_for_receiving", message)])


def _refuse_closed(inbound: ExpectedInbound) -> None:
    if inbound.state == InboundState.CLOSED:
        message = f"{inbound} is closed: nothing more is received on it"
        raise Conflict(message, reasons=[Reason("inbound_closed", message)])


def _variance_exception(line: ExpectedInboundLine, *, kind: str, units: int) -> ExceptionItem:
    inbound, sku = line.inbound, line.sku
    if kind == Variance.SHORT:
        words = f"short: expected {line.quantity_expected}, received {line.quantity_received} ({-units:+d})"
    elif kind == Variance.OVER:
        words = f"over: expected {line.quantity_expected}, received {line.quantity_expected + units} (+{units} held)"
    else:
        words = f"unexpected: not on the inbound, {units} received and held"
    summary = f"{inbound.reference} line {line.number}, {sku.code}: {words}"
    return exception_open(
        kind=ExceptionKind.RECEIVING_VARIANCE,
        summary=summary,
        reasons=[Reason(f"receipt_{kind}", summary)],
        subject=line,
        brand=inbound.brand,
        facility=inbound.facility,
        detail={"variance": kind, "units": units, "inbound": inbound.pk, "line": line.number, "sku": sku.code},
    )


def _receive_into_stock(line: ExpectedInboundLine, units: int, *, actor: Actor, event_id: str, why: str) -> None:
    inbound = line.inbound
    stock_receive(
        sku=line.sku, facility=inbound.facility, quantity=units, event_id=event_id, actor=actor,
        reason=f"{inbound.get_kind_display()} {inbound.reference} line {line.number}: {why}",
    )  # fmt: skip
    stock_received.send(
        sender=ExpectedInbound, brand=inbound.brand, facility=inbound.facility, sku_ids=[line.sku_id], actor=actor,
        inbound=inbound,
    )  # fmt: skip


def inbound_receive_line(
    *, line: ExpectedInboundLine, quantity: Any, actor: Actor, event_id: str = "", warnings: list[Reason] | None = None
) -> Receipt:
    """Receive `quantity` units on one line: up to what is still expected goes into stock now; units beyond it (or
    on an unexpected line) are held and an exception names the variance. `event_id` makes a retry safe."""
    if actor is not None and not actor.has_perm(RECEIVE):
        raise NotPermitted("You may not receive inbound.")
    inbound = line.inbound
    units = _quantity(quantity, what=f"{inbound.reference} line {line.number} ({line.sku.code})")
    _refuse_closed(inbound)
    _refuse_not_ready(line.sku)
    client_event = (event_id or "").strip()
    event_id = f"inbound-{inbound.pk}:{client_event}" if client_event else f"inbound-{inbound.pk}:{uuid.uuid4().hex}"
    if client_event and Movement.objects.filter(event_id=event_id).exists():  # a retry of a recorded receipt
        line.refresh_from_db()
        message = f"Receipt {client_event} was already recorded; nothing received again"
        return Receipt(line=line, into_stock=0, held=0, warnings=[Reason("already_received", message)])
    with transaction.atomic():
        locked = ExpectedInboundLine.objects.select_for_update(of=("self",)).select_related("sku").get(pk=line.pk)
        locked.inbound = (
            ExpectedInbound.objects.select_for_update(of=("self",))
            .select_related("brand", "facility")
            .get(pk=inbound.pk)
        )
        _refuse_closed(locked.inbound)
        if locked.inbound.state == InboundState.EXPECTED:
            locked.inbound = transition_apply(
                obj=locked.inbound, name="start_receiving", actor=actor, reason="first units received", lock=False
            )
        room = 0 if locked.unexpected else max(0, locked.quantity_expected - locked.quantity_received)
        into_stock, held = min(units, room), units - min(units, room)
        if into_stock:
            _receive_into_stock(locked, into_stock, actor=actor, event_id=event_id, why="received")
            locked.quantity_received += into_stock
        if held:
            locked.quantity_held += held
            locked.variance = Variance.UNEXPECTED if locked.unexpected else Variance.OVER
            locked.variance_state = VarianceState.OPEN
            _variance_exception(locked, kind=locked.variance, units=locked.quantity_held)
        elif locked.variance == Variance.SHORT and locked.quantity_received >= locked.quantity_expected:
            locked.variance, locked.variance_state = Variance.NONE, VarianceState.NONE  # the rest arrived after all
            exceptions_resolve_if_cleared(subject=locked, kind=ExceptionKind.RECEIVING_VARIANCE,
                                          note="the missing units arrived")  # fmt: skip
        locked.save(update_fields=["quantity_received", "quantity_held", "variance", "variance_state"])
    return Receipt(line=locked, into_stock=into_stock, held=held, warnings=warnings or [])


def inbound_receive_scan(*, inbound: ExpectedInbound, code: str, actor: Actor, quantity: Any = 1,
                         event_id: str = "") -> Receipt:  # fmt: skip
    """A scanned barcode (or a typed SKU code) received on the inbound: barcodes resolve through their legacy
    window, codes through their aliases' window. A SKU not on the inbound becomes an unexpected line, held."""
    if actor is not None and not actor.has_perm(RECEIVE):
        raise NotPermitted("You may not receive inbound.")
    _quantity(quantity, what=f"scan {code!r}")
    _refuse_closed(inbound)
    resolution = sku_resolve_scan(brand=inbound.brand, code=code)
    sku = resolution.sku
    _refuse_not_ready(sku)
    if sku.is_kit:
        message = f"{sku.code} is a kit: receive its components"
        raise InvalidInput(message, reasons=[Reason("kit_has_no_stock", message)])
    with transaction.atomic():  # an unexpected line exists only with the units received on it
        line = ExpectedInboundLine.objects.select_related("sku", "inbound").filter(inbound=inbound, sku=sku).first()
        if line is None:
            ExpectedInbound.objects.select_for_update().get(pk=inbound.pk)
            line = ExpectedInboundLine.objects.filter(inbound=inbound, sku=sku).first()
            if line is None:
                number = (inbound.lines.aggregate(n=Max("number"))["n"] or 0) + 1
                line = ExpectedInboundLine.objects.create(
                    inbound=inbound, number=number, sku=sku, quantity_expected=0, unexpected=True
                )
            line = ExpectedInboundLine.objects.select_related("sku", "inbound").get(pk=line.pk)
        return inbound_receive_line(
            line=line, quantity=quantity, actor=actor, event_id=event_id, warnings=list(resolution.warnings)
        )


def inbound_finish(*, inbound: ExpectedInbound, actor: Actor) -> ExpectedInbound:
    """Receiving is done: every line still short becomes a short variance (an exception each); with no variance
    left to decide, the inbound closes."""
    if actor is not None and not actor.has_perm(RECEIVE):
        raise NotPermitted("You may not receive inbound.")
    with transaction.atomic():
        locked = (
            ExpectedInbound.objects.select_for_update(of=("self",))
            .select_related("brand", "facility")
            .get(pk=inbound.pk)
        )
        _refuse_closed(locked)
        short = locked.lines.select_related("sku").filter(
            quantity_received__lt=F("quantity_expected"), variance_state=VarianceState.NONE
        )
        for line in short:
            line.inbound = locked
            line.variance, line.variance_state = Variance.SHORT, VarianceState.OPEN
            line.save(update_fields=["variance", "variance_state"])
            _variance_exception(line, kind=Variance.SHORT, units=line.quantity_expected - line.quantity_received)
        locked.finished_at = locked.finished_at or timezone.now()
        save_with_history(locked, actor=actor, reason="receiving finished", fields=["finished_at"])
        return _close_if_decided(locked, actor=actor)


def _close_if_decided(inbound: ExpectedInbound, *, actor: Actor) -> ExpectedInbound:
    if inbound.finished_at is None or inbound.lines.filter(variance_state=VarianceState.OPEN).exists():
        return inbound
    return transition_apply(obj=inbound, name="close", actor=actor, reason="every line received or decided")


def _resolve_exception(line: ExpectedInboundLine, *, actor: Actor, note: str) -> None:
    key = exception_dedupe_key(kind=ExceptionKind.RECEIVING_VARIANCE, subject=line)
    for item in ExceptionItem.objects.filter(dedupe_key=key, state=ExceptionState.OPEN):
        exception_resolve(item=item, actor=actor, note=note)


DECISIONS = ("accept", "reject")


def inbound_variance_decide(*, line: ExpectedInboundLine, decision: str, note: str, actor: Actor,
                            event_id: str = "") -> ExpectedInboundLine:  # fmt: skip
    """A manager decides one variance, with a note. Over or unexpected: `accept` receives the held units into stock,
    `reject` refuses them (sent back; no stock change). Short: `accept` closes the line short, `reject` keeps
    waiting for the rest (the line stays open). The exception is resolved with the note."""
    if actor is not None and not actor.has_perm(DECIDE):
        raise NotPermitted("Only a manager decides receiving variances.")
    note = (note or "").strip()
    if not note:
        raise InvalidInput("Write what was decided.", reasons=[Reason("note_required", "A decision note is required")])
    if decision not in DECISIONS:
        raise InvalidInput(f"Unknown decision {decision!r}.", reasons=[Reason("decision_invalid", "accept or reject")])
    with transaction.atomic():
        locked = ExpectedInboundLine.objects.select_for_update(of=("self",)).select_related("sku").get(pk=line.pk)
        locked.inbound = (
            ExpectedInbound.objects.select_for_update(of=("self",))
            .select_related("brand", "facility")
            .get(pk=line.inbound_id)
        )
        if locked.variance_state != VarianceState.OPEN:
            message = f"{locked.inbound.reference} line {locked.number} has no variance waiting for a decision"
            raise Conflict(message, reasons=[Reason("no_open_variance", message)])
        words = {"accept": "accepted", "reject": "rejected"}[decision]
        if locked.variance in (Variance.OVER, Variance.UNEXPECTED):
            if decision == "accept":
                _refuse_not_ready(locked.sku)
                event_id = f"inbound-{locked.inbound_id}:{(event_id or '').strip() or uuid.uuid4().hex}"
                _receive_into_stock(locked, locked.quantity_held, actor=actor, event_id=event_id,
                                    why=f"{locked.variance} units accepted: {note}")  # fmt: skip
                locked.quantity_received += locked.quantity_held
            else:
                locked.quantity_refused += locked.quantity_held
            locked.quantity_held = 0
            locked.variance_state = VarianceState.ACCEPTED if decision == "accept" else VarianceState.REJECTED
        elif decision == "accept":  # short, closed as received
            locked.variance_state = VarianceState.ACCEPTED
        else:  # short, the rest is still expected: the line waits again
            locked.variance, locked.variance_state = Variance.NONE, VarianceState.NONE
            inbound = locked.inbound
            inbound.finished_at = None
            save_with_history(inbound, actor=actor, reason=f"line {locked.number}: rest still expected",
                              fields=["finished_at"])  # fmt: skip
        locked.decided_by, locked.decision_note = actor, note
        locked.save()
        _resolve_exception(locked, actor=actor, note=f"{locked.get_variance_display() or 'Short'} {words}: {note}")
        _close_if_decided(locked.inbound, actor=actor)
    return locked
