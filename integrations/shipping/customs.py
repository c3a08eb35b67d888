"""Customs data outside the customs union: every line's SKU needs its HS code, customs value and origin. What is
missing is named per SKU, so the hold says exactly what to fill in."""

from __future__ import annotations

from decimal import Decimal

from integrations.carriers.base import CUSTOMS_UNION
from integrations.carriers.protocol import CustomsLine
from orders.models import Order, OrderLine

CURRENCY = "EUR"


def needs_customs(order: Order) -> bool:
    return (order.delivery_country or "").upper() not in CUSTOMS_UNION


def _lines(order: Order) -> list[OrderLine]:
    return list(
        OrderLine.objects.filter(order=order, cancelled_at__isnull=True, sku__isnull=False)
        .select_related("sku")
        .order_by("line_number")
    )


def customs_missing(order: Order) -> list[str]:
    """One sentence per SKU whose customs data is incomplete (empty: complete, or not needed)."""
    if not needs_customs(order):
        return []
    problems = []
    for line in _lines(order):
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


def customs_lines(order: Order) -> list[CustomsLine]:
    if not needs_customs(order):
        return []
    return [
        CustomsLine(
            description=line.title or line.sku.code,  # type: ignore[union-attr]
            quantity=int(line.quantity or 0),
            unit_value=Decimal(line.sku.customs_value or 0),  # type: ignore[union-attr]
            currency=CURRENCY,
            unit_weight_grams=int(line.sku.weight_grams or 1),  # type: ignore[union-attr]
            hs_code=line.sku.hs_code,  # type: ignore[union-attr]
            origin_country=line.sku.country_of_origin,  # type: ignore[union-attr]
        )
        for line in _lines(order)
    ]
