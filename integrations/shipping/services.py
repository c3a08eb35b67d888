"""Shipping a packed order: the rules choose the service (a person may override it with a reason), the label is
bought from the carrier while the person waits, the labels close on the day's manifest, and the hand-off is recorded
only on the carrier's own confirmation (its pickup scan), never on a dock scan of ours.

Order of work in `order_ship`: permission, then every check of the input (nothing written), then the carrier call
(outside any transaction: a slow carrier holds no row lock), then one transaction that records the shipment through
`orders.services.shipment_create`, the labels and the parcels. If that transaction fails, the labels just bought
are voided at the carrier, so nothing is paid for that the hub does not know.

A split order ships one leg at a time (`integrations.shipping.legs`): the leg's facility's rules and carrier
account, the leg's parcels and customs lines, one shipment per leg (its fulfilment carries the leg's lines).

Holding a packed order: orders' `order_hold` takes only orders before pick, so a packed order that cannot ship goes on
the floor hold (`order_hold_on_floor`: reasons named, its exception in the queue); `shipping_gate` is the one place
that decides, and the next ship call that passes every check resumes it to packed (`packed_order_resume`)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from integrations.carriers.accounts import carrier_client_for
from integrations.carriers.errors import CarrierRejected
from integrations.carriers.labels import label_store
from integrations.carriers.models import CarrierAccount
from integrations.carriers.protocol import PDF, ZPL, Address, ShipmentRequest, ShipmentResult
from integrations.carriers.protocol import Parcel as KitParcel
from integrations.carriers.registry import connector_for, is_registered
from integrations.http import HttpError
from integrations.shipping.customs import customs_lines, customs_missing
from integrations.shipping.errors import CarrierRefused, CarrierUnavailable, ShippingHeld
from integrations.shipping.legs import ShipLeg, leg_to_ship, leg_waiting_parcels
from integrations.shipping.models import Label, LabelFile, Manifest, ShippingRule
from integrations.shipping.rules import service_choose
from orders.models import HOLDABLE_STATES, Order, OrderState, Parcel, Shipment, ShipmentState
from orders.services import (
    order_hold,
    order_hold_on_floor,
    order_resume_from_floor_hold,
    shipment_create,
    shipment_hand_to_carrier,
)
from warehouse.errors import InvalidInput, NotPermitted, Reason, TransitionNotAllowed
from warehouse.history import save_with_history
from warehouse.limits import text_within
from warehouse.models import ExceptionKind, Facility
from warehouse.services import exception_open
from warehouse.transitions import Actor

logger = logging.getLogger(__name__)

OPERATE_SHIPMENT = "orders.operate_shipment"


def require_operate(actor: Actor) -> None:
    if actor is not None and not actor.has_perm(OPERATE_SHIPMENT):
        raise NotPermitted("You may not ship orders.", reasons=[Reason("not_permitted", OPERATE_SHIPMENT)])


def _order_label(order: Order, leg: ShipLeg | None = None) -> str:
    part = f" ({leg.facility.code} leg)" if leg is not None and leg.split else ""
    return (order.platform_order_id or f"#{order.pk}") + part


# --- holds ----------------------------------------------------------------------------------------------------------


# What shipping holds an order for (its rule outcome): only a hold of these is lifted by buying labels again.
SHIPPING_HOLD_CODES = frozenset({"no_shipping_rule", "customs_data_missing"})


def held_for_shipping(order: Order) -> bool:
    """A packed order on the floor hold for shipping's own reasons only (a floor reason, e.g. a damaged carton, is not
    shipping's to lift)."""
    codes = {reason.get("code") for reason in order.hold_reasons or []}
    return (
        order.state == OrderState.FLOOR_HOLD
        and order.held_from == OrderState.PACKED
        and bool(codes)
        and codes <= SHIPPING_HOLD_CODES
    )


def packed_order_hold(*, order: Order, reasons: list[Reason], actor: Actor) -> Order:
    """A packed order that cannot ship leaves `packed` for the floor hold with every reason named (its exception in
    the queue names them too); `packed_order_resume` takes it back once a rule covers it."""
    return order_hold_on_floor(order=order, reasons=reasons, actor=actor)


def packed_order_resume(*, order: Order, actor: Actor, note: str) -> Order:
    """Back to packed an order held for shipping, once every check before buying passed (its rule or customs data
    was fixed); the hold's exception closes with `note`."""
    if not held_for_shipping(order):
        return order
    return order_resume_from_floor_hold(order=order, actor=actor, note=note)


def shipping_hold(*, order: Order, reasons: list[Reason], actor: Actor, leg: ShipLeg | None = None) -> None:
    """Hold an order that cannot ship, with every reason named. Before pick it is orders' own hold; a packed order
    (or one already held for shipping) goes on the floor hold, whose exception names the reasons."""
    if order.state in HOLDABLE_STATES:
        order_hold(order=order, reasons=reasons, actor=actor)
        return
    if order.state == OrderState.PACKED or held_for_shipping(order):
        packed_order_hold(order=order, reasons=reasons, actor=actor)
        return
    where = f":{leg.facility.code}" if leg is not None and leg.split else ""
    exception_open(
        kind=ExceptionKind.ORDER_ON_HOLD,
        summary=f"Order {_order_label(order, leg)} held for shipping: " + "; ".join(r.message for r in reasons),
        reasons=reasons,
        subject=order,
        brand=order.brand,
        facility=leg.facility if leg is not None else order.facility,
        dedupe_key=f"shipping:{order.pk}{where}:" + ",".join(sorted(r.code for r in reasons)),
    )


def shipping_gate(
    *, order: Order, reasons: list[Reason], actor: Actor, hold: bool = True, leg: ShipLeg | None = None
) -> None:
    """The rule outcome decides: nothing stops the order (`reasons` empty), so it proceeds; or it is held with every
    reason named (`no_shipping_rule`, `customs_data_missing`) and `ShippingHeld` says so, nothing bought."""
    if not reasons:
        return
    if hold:
        shipping_hold(order=order, reasons=reasons, actor=actor, leg=leg)
    raise ShippingHeld(
        f"Order {_order_label(order, leg)} is held: " + "; ".join(r.message for r in reasons), reasons=reasons
    )


# --- choosing the service -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What would be bought: carrier, service, account, parcels; `rule` None when a person overrode the rules."""

    order: Order
    leg: ShipLeg
    parcels: list[Parcel]
    carrier: str
    service: str
    account: CarrierAccount
    rule: ShippingRule | None
    override_reason: str = ""


def _parcels(order: Order, leg: ShipLeg, weights: dict[int, Any] | None) -> list[Parcel]:
    parcels = leg_waiting_parcels(order, leg)
    if not parcels:
        raise InvalidInput(
            f"Order {_order_label(order, leg)} has no parcel waiting for a label: weigh and measure its cartons at "
            "the pack station first.",
            reasons=[Reason("no_parcels", "no parcel without a label")],
        )
    problems = []
    by_number = {p.number: p for p in parcels}
    for number, grams in (weights or {}).items():
        parcel = by_number.get(int(number))
        if parcel is None:
            problems.append(Reason("unknown_parcel", f"parcel {number} is not a parcel of this order awaiting a label"))
            continue
        try:
            value = int(str(grams).strip())
        except ValueError:
            value = 0
        if value <= 0:
            problems.append(Reason("bad_weight", f"parcel {number}: weight must be a positive number of grams"))
            continue
        parcel.weight_grams = value
    for parcel in parcels:
        if parcel.weight_grams <= 0 or min(parcel.length_mm, parcel.width_mm, parcel.height_mm) <= 0:
            problems.append(Reason("bad_weight", f"parcel {parcel.number}: weight and dimensions must be positive"))
    if problems:
        raise InvalidInput("; ".join(r.message for r in problems), reasons=problems)
    return parcels


def account_for(*, carrier: str, order: Order, facility: Facility | None = None) -> CarrierAccount | None:
    """The brand's own contract at the facility (the leg's, else the order's) when it has one, else the facility's
    account."""
    facility_id = facility.pk if facility is not None else order.facility_id
    if facility_id is None:
        return None
    accounts = CarrierAccount.objects.filter(carrier=carrier, facility_id=facility_id, active=True).filter(
        Q(brand__isnull=True) | Q(brand_id=order.brand_id)
    )
    return sorted(accounts, key=lambda a: a.brand_id is None)[0] if accounts else None


def shipment_plan(
    *,
    order: Order,
    actor: Actor,
    carrier: str = "",
    service: str = "",
    override_reason: str = "",
    weights: dict[int, Any] | None = None,
    hold: bool = True,
    facility: str | int | Facility | None = None,
) -> Plan:
    """Every check before anything is bought or written (a hold excepted: it is the answer to "no rule", "no
    customs data"). Raises `InvalidInput` (nothing written), `TransitionNotAllowed` (not packed) or `ShippingHeld`.
    `facility` names the leg of a split order (default: the first leg with parcels waiting)."""
    require_operate(actor)
    override_reason = text_within(override_reason, field="override_reason", limit=300).strip()
    if order.state != OrderState.PACKED and not (hold and held_for_shipping(order)):
        raise TransitionNotAllowed(
            f"Order {_order_label(order)} is {order.get_state_display().lower()}: labels are bought once it is packed.",
            reasons=[Reason("order_not_packed", f"the order is {order.state}, not packed")],
        )
    leg = leg_to_ship(order, facility)
    parcels = _parcels(order, leg, weights)
    rule: ShippingRule | None = None
    if carrier or service:
        if not is_registered(carrier):
            raise InvalidInput(
                f"{carrier!r} is not a carrier this hub ships with.", reasons=[Reason("unknown_carrier", carrier)]
            )
        offered = connector_for(carrier).services
        if service not in offered:
            raise InvalidInput(
                f"{service!r} is not a {connector_for(carrier).name} service; on offer: "
                + ", ".join(f"{k} ({v})" for k, v in offered.items()),
                reasons=[Reason("unknown_service", service)],
            )
        if not override_reason:
            raise InvalidInput(
                "Say why the rules' service is overridden.",
                reasons=[Reason("override_reason_required", "an override needs a reason")],
            )
    reasons: list[Reason] = []
    if not (carrier or service):
        choice = service_choose(order=order, parcels=parcels, facility=leg.facility)
        if choice.rule is None:
            reasons.append(Reason("no_shipping_rule", choice.reason))
        else:
            rule, carrier, service = choice.rule, choice.rule.carrier, choice.rule.service
    reasons += [Reason("customs_data_missing", problem) for problem in customs_missing(order, leg)]
    shipping_gate(order=order, reasons=reasons, actor=actor, hold=hold, leg=leg)
    account = account_for(carrier=carrier, order=order, facility=leg.facility)
    if account is None:
        raise InvalidInput(
            f"No active {connector_for(carrier).name} account at this facility: an administrator adds one.",
            reasons=[Reason("no_carrier_account", carrier)],
        )
    if hold and held_for_shipping(order):  # every check passed: the shipping hold is over
        order = packed_order_resume(order=order, actor=actor, note=f"ships by {carrier} {service}: its hold is over")
    return Plan(order, leg, parcels, carrier, service, account, rule, override_reason)


# --- buying ---------------------------------------------------------------------------------------------------------


def _request(plan: Plan, label_format: str) -> ShipmentRequest:
    order, facility = plan.order, plan.leg.facility
    return ShipmentRequest(
        reference=f"Order {_order_label(order, plan.leg)}",
        service=plan.service,
        shipper=Address(
            name=order.brand.name,
            company=facility.name,
            street=facility.street,
            postal_code=facility.postal_code,
            city=facility.city,
            country=facility.country.upper(),
        ),
        recipient=Address(
            name=order.delivery_name,
            street=order.delivery_street1,
            line2=order.delivery_street2,
            postal_code=order.delivery_postal_code,
            city=order.delivery_city,
            state=order.delivery_region,
            country=(order.delivery_country or "").upper(),
            email=order.email,
            phone=order.contact_phone,
        ),
        parcels=tuple(KitParcel(str(p.pk), p.weight_grams, p.length_mm, p.width_mm, p.height_mm) for p in plan.parcels),
        label_format=label_format,
        ship_date=timezone.localdate(),
        customs=tuple(customs_lines(order, plan.leg)),
    )


def _refused(exc: CarrierRejected) -> CarrierRefused:
    return CarrierRefused(
        f"{exc.carrier} refused the label: " + "; ".join(str(p) for p in exc.problems),
        reasons=[Reason("carrier_rejected", str(p)) for p in exc.problems],
    )


def _unavailable(carrier: str, exc: Exception) -> CarrierUnavailable:
    name = connector_for(carrier).name
    return CarrierUnavailable(
        f"{name} did not answer ({type(exc).__name__}); nothing was bought. Try again in a minute.",
        reasons=[Reason("carrier_unavailable", type(exc).__name__)],
    )


def _void_at_carrier(account: CarrierAccount, result: ShipmentResult) -> None:
    """Compensation: labels bought for a shipment the hub did not record are voided (best effort, logged)."""
    numbers = [p.tracking_number for p in result.parcels if p.ok]
    if not numbers:
        return
    try:
        connector_for(account.carrier).cancel(
            carrier_client_for(account), shipment_number=result.shipment_number, tracking_numbers=numbers
        )
    except Exception:
        logger.exception("could not void %d unrecorded label(s) at %s", len(numbers), account.carrier)


def _stored_files(account: CarrierAccount, tracking_number: str, label: Any) -> list[tuple[str, Any]]:
    """The bought document, and the other of PDF/ZPL as a reprint when the carrier offers it (a missing reprint is
    not an error: the person can reprint later)."""
    connector = connector_for(account.carrier)
    files = [(label.format, label_store(carrier=account.carrier, tracking_number=tracking_number, label=label))]
    for wanted in (PDF, ZPL):
        if wanted == label.format or wanted not in connector.reprint_formats:
            continue
        try:
            again = connector.reprint_label(
                carrier_client_for(account), tracking_number=tracking_number, label_format=wanted
            )
        except (CarrierRejected, HttpError):
            logger.warning("no %s reprint of %s from %s", wanted, tracking_number, account.carrier)
            continue
        files.append((wanted, label_store(carrier=account.carrier, tracking_number=tracking_number, label=again)))
    return files


@dataclass(frozen=True)
class Shipped:
    shipment: Shipment
    labels: list[Label]


def order_ship(
    *,
    order: Order,
    actor: Actor,
    carrier: str = "",
    service: str = "",
    override_reason: str = "",
    weights: dict[int, Any] | None = None,
    facility: str | int | Facility | None = None,
) -> Shipped:
    """Create the shipment of a packed order's parcels and buy one label per parcel, while the person waits. A split
    order ships one leg per call (`facility`, default the first leg with parcels waiting): its own shipment."""
    plan = shipment_plan(
        order=order, actor=actor, carrier=carrier, service=service, override_reason=override_reason, weights=weights,
        facility=facility,
    )  # fmt: skip
    connector = connector_for(plan.carrier)
    label_format = PDF if PDF in connector.label_formats else (ZPL if ZPL in connector.label_formats else "")
    label_format = label_format or connector.label_formats[0]
    request = _request(plan, label_format)
    try:
        client = carrier_client_for(plan.account)
        result = connector.create_shipment(client, request)
    except CarrierRejected as exc:
        raise _refused(exc) from None
    except HttpError as exc:
        raise _unavailable(plan.carrier, exc) from None
    if not result.all_ok:
        _void_at_carrier(plan.account, result)
        problems = [f"parcel {p.parcel_reference}: {'; '.join(map(str, p.problems))}" for p in result.failed]
        raise CarrierRefused(
            f"{connector.name} refused part of the shipment, so none of it was bought: " + " | ".join(problems),
            reasons=[Reason("carrier_rejected", p) for p in problems],
        )
    try:
        files = {p.tracking_number: _stored_files(plan.account, p.tracking_number, p.label) for p in result.parcels}
        return _record(plan, result, files, actor=actor)
    except Exception:
        _void_at_carrier(plan.account, result)
        raise


def _record(plan: Plan, result: ShipmentResult, files: dict[str, list[tuple[str, Any]]], *, actor: Actor) -> Shipped:
    by_ref = {str(p.pk): p for p in plan.parcels}
    first = result.parcels[0].tracking_number
    how = f"rule “{plan.rule.name}”" if plan.rule else f"override by a person: {plan.override_reason}"
    try:
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=plan.order.pk)
            if order.state != OrderState.PACKED:
                raise TransitionNotAllowed(
                    f"Order {_order_label(order)} changed while the label was bought ({order.state}).",
                    reasons=[Reason("order_not_packed", order.state)],
                )
            reusable = (
                Shipment.objects.select_for_update()
                .filter(order=order, state=ShipmentState.STAGED, labels__voided_at__isnull=False)
                .filter(Q(facility=plan.leg.facility) if plan.leg.split else Q())
                .exclude(labels__voided_at__isnull=True)
                .first()
            )
            if reusable is not None and not reusable.parcels.exists():
                # every label of this staged shipment was voided: it carries the new labels instead of a second one
                shipment = reusable
                shipment.carrier, shipment.service, shipment.tracking_number = plan.carrier, plan.service, first
                shipment.label_created_at = timezone.now()
                save_with_history(
                    shipment,
                    actor=actor,
                    reason=f"new labels after a void ({how})",
                    fields=["carrier", "service", "tracking_number", "label_created_at"],
                )
            else:
                shipment = shipment_create(
                    order=order, carrier=plan.carrier, service=plan.service, tracking_number=first, actor=actor,
                    facility=plan.leg.facility if plan.leg.split else None,
                )  # fmt: skip
            labels = []
            for parcel_result in result.parcels:
                parcel = by_ref[parcel_result.parcel_reference]
                documents = files[parcel_result.tracking_number]
                fmt, stored = documents[0]
                cost = parcel_result.cost
                if cost is None and result.cost is not None and len(result.parcels) == 1:
                    cost = result.cost
                label = Label(
                    parcel=parcel,
                    shipment=shipment,
                    account=plan.account,
                    carrier=plan.carrier,
                    service=plan.service,
                    tracking_number=parcel_result.tracking_number,
                    carrier_shipment_number=result.shipment_number,
                    format=fmt,
                    path=stored.path,
                    sha256=stored.sha256,
                    size=stored.size,
                    cost=cost.amount if cost else None,
                    currency=cost.currency if cost else "",
                    bought_by=actor,
                )
                save_with_history(label, actor=actor, reason=f"bought: {how}")
                LabelFile.objects.bulk_create(
                    LabelFile(label=label, format=f, path=s.path, sha256=s.sha256, size=s.size) for f, s in documents
                )
                parcel.shipment = shipment
                save_with_history(
                    parcel, actor=actor, reason=f"label {label.tracking_number}", fields=["shipment", "weight_grams"]
                )
                labels.append(label)
            return Shipped(shipment, labels)
    except IntegrityError:
        raise TransitionNotAllowed(
            "Another person bought labels for these parcels at the same moment; nothing of this purchase was kept.",
            reasons=[Reason("already_labelled", "a parcel already has a label")],
        ) from None


# --- void -----------------------------------------------------------------------------------------------------------


def label_void(*, label: Label, actor: Actor, reason: str = "") -> Label:
    """Void a label at the carrier before hand-off; refused once the carrier has the parcel."""
    require_operate(actor)
    reason = text_within(reason, field="reason", limit=300).strip() or "voided"
    label = Label.objects.select_related("shipment", "account", "parcel").get(pk=label.pk)
    if label.voided_at is not None:
        raise TransitionNotAllowed(
            f"Label {label.tracking_number} is already void.", reasons=[Reason("already_void", label.tracking_number)]
        )
    if label.shipment.state != ShipmentState.STAGED or label.picked_up_at is not None:
        raise TransitionNotAllowed(
            f"Label {label.tracking_number} was handed to the carrier: a label is voided before hand-off only.",
            reasons=[Reason("handed_over", "the carrier already has this parcel")],
        )
    connector = connector_for(label.carrier)
    try:
        (answer,) = connector.cancel(
            carrier_client_for(label.account),
            shipment_number=label.carrier_shipment_number,
            tracking_numbers=[label.tracking_number],
        )[:1]
    except CarrierRejected as exc:
        raise _refused(exc) from None
    except HttpError as exc:
        raise _unavailable(label.carrier, exc) from None
    if not answer.cancelled:
        raise CarrierRefused(
            f"{connector.name} would not void {label.tracking_number}: {answer.message or 'no reason given'}",
            reasons=[Reason("carrier_rejected", answer.message)],
        )
    with transaction.atomic():
        label = Label.objects.select_for_update().get(pk=label.pk)
        label.voided_at, label.void_reason, label.manifest = timezone.now(), reason, None
        save_with_history(
            label, actor=actor, reason=f"voided: {reason}", fields=["voided_at", "void_reason", "manifest"]
        )
        parcel = label.parcel
        parcel.shipment = None
        save_with_history(parcel, actor=actor, reason=f"label {label.tracking_number} voided", fields=["shipment"])
        return label


# --- manifest -------------------------------------------------------------------------------------------------------


def manifest_labels_waiting(*, account: CarrierAccount, facility_id: int) -> Any:
    return Label.objects.filter(
        account=account,
        shipment__facility_id=facility_id,
        voided_at__isnull=True,
        manifest__isnull=True,
        shipment__state=ShipmentState.STAGED,
    )


def manifest_close(*, account: CarrierAccount, actor: Actor, day: dt.date | None = None) -> Manifest:
    """Close the day's manifest of one carrier account at its facility: every live label not yet on a manifest. A
    carrier that closes out by API (`close_manifest` on its connector: DHL) is told first, outside the transaction;
    a label it refuses stays off the manifest, named in `carrier_reference`."""
    require_operate(actor)
    waiting = list(manifest_labels_waiting(account=account, facility_id=account.facility_id))
    if not waiting:
        raise InvalidInput(
            f"No label of {account} waits for a manifest.", reasons=[Reason("nothing_to_manifest", str(account))]
        )
    refused: dict[str, str] = {}
    close_out = getattr(connector_for(account.carrier), "close_manifest", None)
    if close_out is not None:
        try:
            refused = close_out(carrier_client_for(account), tracking_numbers=[x.tracking_number for x in waiting])
        except CarrierRejected as exc:
            raise _refused(exc) from None
        except HttpError as exc:
            raise _unavailable(account.carrier, exc) from None
        if len(refused) == len(waiting):
            raise CarrierRefused(
                f"{connector_for(account.carrier).name} closed none of the labels: "
                + "; ".join(f"{k}: {v}" for k, v in refused.items()),
                reasons=[Reason("carrier_rejected", f"{k}: {v}") for k, v in refused.items()],
            )
    closed = [x.pk for x in waiting if x.tracking_number not in refused]
    note = "closed out at the carrier" if close_out is not None else "the carrier closes out at the end of its day"
    if refused:
        note += "; refused: " + "; ".join(f"{k} ({v})" for k, v in refused.items())
    with transaction.atomic():
        manifest = Manifest(
            account=account,
            facility_id=account.facility_id,
            day=day or timezone.localdate(),
            closed_at=timezone.now(),
            closed_by=actor,
            carrier_reference=note if len(note) <= 200 else f"closed out; {len(refused)} label(s) refused",
        )
        save_with_history(manifest, actor=actor, reason=f"closed with {len(closed)} label(s)")
        Label.objects.filter(pk__in=closed, manifest__isnull=True).update(manifest=manifest)
        return manifest


# --- hand-off -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandOff:
    confirmed: list[Label]  # the carrier confirmed custody now
    waiting: list[Label]  # the carrier has not scanned them yet
    shipments: list[Shipment]  # handed to the carrier by this call


def _carrier_pickup(label: Label) -> tuple[str, dt.datetime] | None:
    """The carrier's own confirmation that it has the parcel: its first physical scan (pickup), from its API."""
    connector = connector_for(label.carrier)
    try:
        events = connector.track(carrier_client_for(label.account), label.tracking_number)
    except CarrierRejected:
        return None
    except HttpError as exc:
        raise _unavailable(label.carrier, exc) from None
    scan = next((e for e in events if e.is_carrier_scan), None)
    if scan is None:
        return None
    receipt = f"{connector.name} scan {scan.code} at {scan.occurred_at.astimezone(dt.UTC):%Y-%m-%d %H:%M}Z"
    if scan.location and len(receipt) + len(scan.location) < 200:  # the place when it fits the receipt's column
        receipt += f" {scan.location}"
    return receipt, scan.occurred_at


def handoff_record(*, actor: Actor, manifest: Manifest | None = None, labels: Sequence[Label] = ()) -> HandOff:
    """Record the hand-off of a manifest's labels (or of single parcels' labels): each label whose carrier confirms
    the pickup gets that receipt; a shipment whose every live label is confirmed is handed to the carrier. Refused
    (nothing written) when the carrier confirmed none: a dock scan of ours is not a receipt."""
    require_operate(actor)
    if manifest is not None:
        if manifest.closed_at is None:
            raise TransitionNotAllowed("Close the manifest first.", reasons=[Reason("manifest_open", str(manifest))])
        labels = list(manifest.labels.filter(voided_at__isnull=True).select_related("account", "shipment"))
    pending = [label for label in labels if label.voided_at is None and label.picked_up_at is None]
    if not pending:
        raise InvalidInput(
            "Every parcel here is already with the carrier.", reasons=[Reason("nothing_to_hand_off", "")]
        )
    confirmations = {label.pk: _carrier_pickup(label) for label in pending}
    confirmed = [label for label in pending if confirmations[label.pk]]
    waiting = [label for label in pending if not confirmations[label.pk]]
    if not confirmed:
        numbers = ", ".join(label.tracking_number for label in waiting)
        raise TransitionNotAllowed(
            f"The carrier has not confirmed the pickup of {numbers} yet: the hand-off is recorded on the carrier's own "
            "scan, not on ours.",
            reasons=[Reason("no_carrier_confirmation", label.tracking_number) for label in waiting],
        )
    handed: list[Shipment] = []
    with transaction.atomic():
        for label in confirmed:
            receipt, at = confirmations[label.pk]  # type: ignore[misc]
            locked = Label.objects.select_for_update().get(pk=label.pk)
            locked.carrier_receipt, locked.picked_up_at = receipt, at
            save_with_history(
                locked, actor=actor, reason="carrier confirmed pickup", fields=["carrier_receipt", "picked_up_at"]
            )
        for shipment_id in sorted({label.shipment_id for label in confirmed}):
            shipment = Shipment.objects.get(pk=shipment_id)
            live = list(Label.objects.filter(shipment=shipment, voided_at__isnull=True))
            if shipment.state != ShipmentState.STAGED or any(x.picked_up_at is None for x in live):
                continue
            first = min(live, key=lambda x: x.picked_up_at)  # type: ignore[arg-type,return-value]
            handed.append(
                shipment_hand_to_carrier(
                    shipment=shipment,
                    carrier_receipt=first.carrier_receipt,
                    handed_at=first.picked_up_at,
                    tracking_number=shipment.tracking_number or first.tracking_number,
                    actor=actor,
                )
            )
    return HandOff(confirmed=confirmed, waiting=waiting, shipments=handed)
