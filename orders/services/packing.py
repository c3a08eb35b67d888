"""The pack station: a picked order is packed into one or more parcels (cartons), each weighed and measured (the
carriers' work buys a label per `Parcel`), then marked packed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max

from orders.models import OPERATE_ORDER, Order, OrderEventKind, OrderState, Parcel
from orders.services.common import order_label, order_lock, require_perm
from orders.services.timeline import timeline_add
from warehouse.errors import InvalidInput, Reason, TransitionNotAllowed
from warehouse.transitions import Actor, transition_apply

# Each measurement a parcel needs, in words, and the most a parcel may weigh or measure (a typo guard: 1 t, 10 m).
MEASURES = {
    "weight_grams": ("weight (g)", 1_000_000),
    "length_mm": ("length (mm)", 10_000),
    "width_mm": ("width (mm)", 10_000),
    "height_mm": ("height (mm)", 10_000),
}
PARCEL_LIMIT = 200


def parcel_measures(values: Mapping[str, Any]) -> dict[str, int]:
    """{field: whole number ≥ 1} for every measurement, or `InvalidInput` naming each bad one at once."""
    found: dict[str, int] = {}
    reasons: list[Reason] = []
    for field, (words, most) in MEASURES.items():
        raw = values.get(field)
        text = str(raw).strip() if raw is not None and not isinstance(raw, bool) else ""
        digits = text[1:] if text.startswith("-") else text
        if not digits.isdigit() or not 1 <= int(text) <= most:
            reasons.append(Reason(field, f"The {words} must be a whole number from 1 to {most:,}, not {raw!r}"))
            continue
        found[field] = int(text)
    if reasons:
        raise InvalidInput("; ".join(r.message for r in reasons), reasons=reasons)
    return found


def _require_picked(order: Order) -> None:
    if order.state != OrderState.PICKED:
        raise TransitionNotAllowed(
            f"Order {order_label(order)} is {order.get_state_display().lower()}: parcels are packed once picked.",
            reasons=[Reason("wrong_state", f"packing needs state picked, not {order.state}")],
        )


def parcel_add(*, order: Order, measures: Mapping[str, Any], actor: Actor) -> Parcel:
    """One more carton for a picked order, weighed and measured; refused (nothing saved) with each bad value named."""
    require_perm(actor, OPERATE_ORDER, "You may not pack orders.")
    values = parcel_measures(measures)
    with transaction.atomic():
        order = order_lock(order)
        _require_picked(order)
        return _add(order, values, actor=actor)


def _add(order: Order, values: dict[str, int], *, actor: Actor) -> Parcel:
    number = (Parcel.objects.filter(order=order).aggregate(n=Max("number"))["n"] or 0) + 1
    if number > PARCEL_LIMIT:
        message = f"An order is packed into at most {PARCEL_LIMIT} parcels"
        raise InvalidInput(message, reasons=[Reason("too_many_parcels", message)])
    parcel = Parcel.objects.create(order=order, number=number, packed_by=actor, **values)
    size = f"{values['length_mm']}×{values['width_mm']}×{values['height_mm']} mm"
    timeline_add(
        order, OrderEventKind.PICK_ACTIVITY, f"Parcel {number} packed: {values['weight_grams']} g, {size}", actor=actor
    )
    return parcel


def parcel_remove(*, order: Order, number: Any, actor: Actor) -> Order:
    """Take a carton off a picked order (re-packed differently) before it is marked packed."""
    require_perm(actor, OPERATE_ORDER, "You may not pack orders.")
    with transaction.atomic():
        order = order_lock(order)
        _require_picked(order)
        deleted, _ = Parcel.objects.filter(
            order=order, number=str(number).strip() if number is not None else 0, shipment__isnull=True
        ).delete()
        if not deleted:
            message = f"Order {order_label(order)} has no parcel {number!r} to take off"
            raise InvalidInput(message, reasons=[Reason("parcel_unknown", message)])
        timeline_add(order, OrderEventKind.PICK_ACTIVITY, f"Parcel {number} taken off", actor=actor)
        return order


def order_pack_parcels(*, order: Order, actor: Actor, parcels: Sequence[Mapping[str, Any]] = ()) -> Order:
    """Picked → packed, with `parcels` added first (all or none): an order is packed into at least one parcel."""
    require_perm(actor, OPERATE_ORDER, "You may not pack orders.")
    if not isinstance(parcels, Sequence) or len(parcels) > PARCEL_LIMIT:
        message = f"Give the parcels as a list of at most {PARCEL_LIMIT}"
        raise InvalidInput(message, reasons=[Reason("parcels", message)])
    measured = [parcel_measures(p if isinstance(p, Mapping) else {}) for p in parcels]
    with transaction.atomic():
        order = order_lock(order)
        _require_picked(order)
        for values in measured:
            _add(order, values, actor=actor)
        count = Parcel.objects.filter(order=order).count()
        if not count:
            message = f"Order {order_label(order)} has no parcel: add each carton with its weight and size first"
            raise TransitionNotAllowed(message, reasons=[Reason("no_parcels", message)])
        order = transition_apply(obj=order, name="pack", actor=actor, reason=f"packed in {count} parcel(s)", lock=False)
        timeline_add(order, OrderEventKind.PACKED, f"Packed in {count} parcel(s): staged for the carrier", actor=actor)
        return order
