"""Customs data outside the customs union: every line's SKU needs its HS code, customs value and origin. What is
missing is named per SKU, so the hold says exactly what to fill in."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from integrations.carriers.base import CUSTOMS_UNION
from integrations.carriers.protocol import CustomsLine
from inventory.models import Sku
from orders.models import Order, OrderLine

CURRENCY = "EUR"


def needs_customs(order: Order) -> bool:
    return (order.delivery_country or "").upper() not in CUSTOMS_UNION


def _lines(order: Order, sku_ids: set[int] | None = None) -> list[OrderLine]:
    """The order's lines, or those of the SKUs one leg of a split order carries (`sku_ids`)."""
    lines = OrderLine.objects.filter(order=order, cancelled_at__isnull=True, sku__isnull=False)
    if sku_ids is not None:
        lines = lines.filter(sku_id__in=sku_ids)
    return list(lines.select_related("sku").order_by("line_number"))


def customs_missing(order: Order, sku_ids: set[int] | None = None) -> list[str]:
    """One sentence per SKU whose customs data is incomplete (empty: complete, or not needed); `sku_ids`: one leg's."""
    if not needs_customs(order):
        return []
    problems = []
    for line in _lines(order, sku_ids):
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


def customs_lines(order: Order, leg_lines: Sequence[tuple[Sku, int]] = ()) -> list[CustomsLine]:
    """The customs declaration of the order, or of one leg of a split order (`leg_lines`: its SKUs and quantities)."""
    if not needs_customs(order):
        return []
    if leg_lines:
        return [_declared(sku, quantity, sku.code) for sku, quantity in leg_lines]
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
