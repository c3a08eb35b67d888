"""Customs data for a parcel that crosses a customs border (from its facility's country to another, unless both are
in the EU customs union): every line's SKU needs its HS code, customs value and origin. What is missing is named per
SKU, so the hold says exactly what to fill in. A split order's leg is judged from its own facility, for its own
SKUs."""

from __future__ import annotations

from decimal import Decimal

from integrations.carriers.base import CUSTOMS_UNION
from integrations.carriers.protocol import CustomsLine
from integrations.shipping.legs import ShipLeg
from inventory.models import Sku
from orders.models import Order, OrderLine
from warehouse.models import Facility

CURRENCY = "EUR"


def needs_customs(order: Order, facility: Facility | None = None) -> bool:
    """Whether the parcel crosses a customs border: from `facility` (a leg's; default the order's) to the delivery
    country, unless both are in the EU customs union. Without a facility country: whenever it leaves the union."""
    destination = (order.delivery_country or "").upper()
    facility = facility or order.facility
    origin = (facility.country if facility is not None else "").upper()
    if not origin:
        return destination not in CUSTOMS_UNION
    return destination != origin and not (destination in CUSTOMS_UNION and origin in CUSTOMS_UNION)


def _lines(order: Order, sku_ids: set[int] | None = None) -> list[OrderLine]:
    """The order's lines, or those of the SKUs one leg of a split order carries (`sku_ids`)."""
    lines = OrderLine.objects.filter(order=order, cancelled_at__isnull=True, sku__isnull=False)
    if sku_ids is not None:
        lines = lines.filter(sku_id__in=sku_ids)
    return list(lines.select_related("sku").order_by("line_number"))


def customs_missing(order: Order, leg: ShipLeg | None = None) -> list[str]:
    """One sentence per SKU whose customs data is incomplete (empty: complete, or not needed); `leg`: one leg's."""
    if not needs_customs(order, leg.facility if leg is not None else None):
        return []
    problems = []
    for line in _lines(order, leg.sku_ids if leg is not None else None):
        sku = line.sku
        assert sku is not None
        missing = [
            name
            for name, value in (
                ("HS code", sku.hs_code),
                ("customs value", sku.customs_value),
                ("country of origin", sku.country_of_origin),
            )
            if value in (None, "")
        ]
        if missing:
            problems.append(f"SKU {sku.code}: {', '.join(missing)} missing")
    return problems


def customs_lines(order: Order, leg: ShipLeg | None = None) -> list[CustomsLine]:
    """The customs declaration of the order, or of one leg of a split order (its SKUs and quantities)."""
    if not needs_customs(order, leg.facility if leg is not None else None):
        return []
    if leg is not None and leg.split:
        return [_declared(sku, quantity, sku.code) for sku, quantity in leg.lines]
    return [
        _declared(line.sku, int(line.quantity or 0), line.title or line.sku.code)  # type: ignore[arg-type,union-attr]
        for line in _lines(order)
    ]


def _declared(sku: Sku, quantity: int, description: str) -> CustomsLine:
    return CustomsLine(
        description=description,
        quantity=int(quantity),
        unit_value=Decimal(sku.customs_value or 0),
        currency=CURRENCY,
        unit_weight_grams=int(sku.weight_grams or 1),
        hs_code=sku.hs_code,
        origin_country=sku.country_of_origin,
    )
