"""An order's lines and received fields: the canonical order's values as stored, the lines' signature (what a person
or a platform changed) and writing the lines."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import models

from inventory.models import Sku
from inventory.services import (
    sku_resolve,
)
from orders.canonical import ADDRESS_FIELDS, CanonicalAddress, CanonicalLine, CanonicalOrder
from orders.models import (
    Order,
    OrderLine,
    created_now,
    forget_lines,
    order_lines_all,
    remember_lines,
)
from orders.services.common import text_received
from orders.validation import quantity_parse, quantity_text
from warehouse.errors import InvalidInput
from warehouse.models import Brand
from warehouse.transitions import Actor

# The order's columns of the canonical address (`delivery_<field>`), each with its column's length.
DELIVERY_FIELDS = {key: f"delivery_{key}" for key in ADDRESS_FIELDS}
# What the customer gets depends on these: a platform changing one after release to pick is escalated.
MATERIAL_FIELDS = (*DELIVERY_FIELDS.values(), "contact_phone", "special_handling")


def lines_from(lines: Sequence[CanonicalLine | tuple[str, Any]]) -> list[CanonicalLine]:
    return [
        line if isinstance(line, CanonicalLine) else CanonicalLine(sku_code=line[0], quantity=line[1]) for line in lines
    ]


def line_signature(lines: Sequence[CanonicalLine]) -> list[tuple[str, str, str]]:
    return [
        (
            text_received(x.sku_code, 100, f"line {n} sku_code"),
            text_received(quantity_text(x.quantity), 60, f"line {n} quantity"),
            text_received(x.external_line_id, 100, f"line {n} external_line_id"),
        )
        for n, x in enumerate(lines, start=1)
    ]


def stored_signature(order: Order) -> list[tuple[str, str, str]]:
    return [(x.sku_code, x.quantity_received, x.external_line_id) for x in order_lines_all(order)]


def lines_replace(order: Order, lines: Sequence[CanonicalLine], *, actor: Actor) -> None:
    if not created_now(order):
        OrderLine.objects.filter(order=order).delete()
    forget_lines(order)
    rows = []
    for number, line in enumerate(lines, start=1):
        code = text_received(line.sku_code, 100, f"line {number} sku_code")
        row = OrderLine(
            order=order,
            line_number=number,
            sku_code=code,
            sku=_resolved_sku(order.brand, code),  # validation resolves it again (memoised) and names any problem
            quantity_received=text_received(quantity_text(line.quantity), 60, f"line {number} quantity"),
            quantity=quantity_parse(line.quantity),
            external_line_id=text_received(line.external_line_id, 100, f"line {number} external_line_id"),
            title=text_received(line.title, 300, f"line {number} title"),
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


def _max_length(column: str) -> int:
    field = Order._meta.get_field(column)
    assert isinstance(field, models.CharField) and field.max_length is not None
    return field.max_length


def address_fields(address: CanonicalAddress | Mapping[str, Any]) -> dict[str, str]:
    get = address.get if isinstance(address, Mapping) else (lambda key, default="": getattr(address, key, default))
    fields = {column: text_received(get(key, ""), _max_length(column), key) for key, column in DELIVERY_FIELDS.items()}
    fields["delivery_country"] = fields["delivery_country"].upper()
    return fields


def canonical_fields(canonical: CanonicalOrder) -> dict[str, Any]:
    return {
        **address_fields(canonical.address),
        "placed_at": canonical.placed_at,
        "paid_at": canonical.paid_at,
        "ship_by": canonical.ship_by,
        "priority_class": text_received(canonical.priority_class, 20, "priority_class") or "standard",
        "contact_phone": text_received(canonical.phone, 40, "phone"),
        "email": text_received(canonical.email, 254, "email"),
        "special_handling": text_received(canonical.special_handling, 2000, "special_handling"),
        "extra": json.loads(json.dumps(dict(canonical.extra or {}), default=str)),  # dates etc. kept as text
    }
