"""Validation of an order's mandatory fields: each line's SKU code is resolved, then the one rule set
(`orders.models.mandatory`, which the `validate` guards read too) names every fault, not just the first.

Values arrive as the platform sent them: a quantity may be 0, -1, 2**63, "1e309", NaN or 1.5. Only a positive whole
number of sellable units, given as an int or as digits, is a quantity."""

from __future__ import annotations

import re
from typing import Any

from inventory.services import sku_resolve
from orders.models import Order, OrderLine
from orders.models.mandatory import MAX_LINE_QUANTITY, line_faults, mandatory_faults
from warehouse.errors import InvalidInput, Reason

_DIGITS = re.compile(r"\+?[0-9]{1,9}")


def quantity_parse(raw: Any) -> int | None:
    """The quantity as a positive integer, or None when `raw` is not one (bools, floats, NaN, text like "1e309")."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _DIGITS.fullmatch(raw.strip()):
        value = int(raw.strip())
    else:
        return None
    return value if 0 < value <= MAX_LINE_QUANTITY else None


def quantity_text(raw: Any) -> str:
    """The quantity as received, whole, for the record (never raises, whatever arrived); the orders service checks
    that it fits its column."""
    if raw is None:
        return ""
    try:
        return raw if isinstance(raw, str) else repr(raw)
    except Exception:  # a hostile __repr__ (or a 5,000-digit int) must not break ingestion
        return "<unreadable>"


def line_resolve(*, order: Order, line: OrderLine) -> list[Reason]:
    """Resolve the line's SKU code (aliases inside their window count) and set `line.sku`; returns why it did not
    resolve (empty when it did, or when there is no code: the rules name that)."""
    line.sku = None
    if not line.sku_code.strip():
        return []
    try:
        line.sku = sku_resolve(brand=order.brand, code=line.sku_code).sku
    except InvalidInput as exc:
        return list(exc.reasons or [Reason("unknown_sku", exc.message)])
    return []


def line_reasons(*, order: Order, line: OrderLine) -> list[Reason]:
    """One line's faults after resolving its SKU code (the order page shows them beside the line)."""
    return line_faults(line, unresolved=line_resolve(order=order, line=line))


def order_reasons(*, order: Order, lines: list[OrderLine]) -> list[Reason]:
    """Every mandatory field that is missing or invalid, each named (`orders.models.mandatory`), after resolving
    each line's SKU code."""
    unresolved = {line.line_number: line_resolve(order=order, line=line) for line in lines}
    return mandatory_faults(order, lines, unresolved=unresolved)
