"""The mandatory fields of an order (seed 001 "Mandatory Fields and Minimum Identifiers"), checked one by one so that
a held order names every reason, not just the first.

Values arrive as the platform sent them: a quantity may be 0, -1, 2**63, "1e309", NaN or 1.5. Only a positive whole
number of sellable units, given as an int or as digits, is a quantity."""

from __future__ import annotations

import re
from typing import Any

from inventory.services import sku_resolve
from orders.models import Order, OrderLine
from warehouse.errors import InvalidInput, Reason

MAX_LINE_QUANTITY = 100_000  # far above any real line; 2**63 and friends are data errors, not orders
_DIGITS = re.compile(r"\+?[0-9]{1,9}")
_PHONE_CHARS = re.compile(r"[0-9 +()./-]+")
_COUNTRY = re.compile(r"[A-Z]{2}")


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


def phone_is_plausible(phone: str) -> bool:
    digits = sum(ch.isdigit() for ch in phone)
    return bool(_PHONE_CHARS.fullmatch(phone)) and 6 <= digits <= 15


def line_reasons(*, order: Order, line: OrderLine) -> list[Reason]:
    """Resolve the line's SKU (aliases inside their window count) and check its quantity; updates `line.sku`."""
    reasons: list[Reason] = []
    label = f"line {line.line_number}"
    if not line.sku_code.strip():
        reasons.append(Reason("sku_missing", f"{label}: no SKU code"))
        line.sku = None
    else:
        try:
            line.sku = sku_resolve(brand=order.brand, code=line.sku_code).sku
        except InvalidInput as exc:
            line.sku = None
            for reason in exc.reasons or [Reason("unknown_sku", exc.message)]:
                reasons.append(Reason(reason.code, f"{label}: {reason.message}"))
    if line.quantity is None:
        shown = line.quantity_received or "nothing"
        reasons.append(
            Reason(
                "quantity_invalid",
                f"{label} ({line.sku_code or 'no SKU'}): quantity {shown} is not a positive whole number "
                f"(1 to {MAX_LINE_QUANTITY})",
            )
        )
    return reasons


def order_reasons(*, order: Order, lines: list[OrderLine]) -> list[Reason]:
    """Every mandatory field that is missing or invalid, each named."""
    reasons: list[Reason] = []
    if not order.platform_order_id.strip():
        reasons.append(Reason("order_id_missing", "the order has no order id"))
    if not lines:
        reasons.append(Reason("lines_missing", "the order has no lines"))
    for line in lines:
        reasons.extend(line_reasons(order=order, line=line))
    if not order.delivery_street1.strip():
        reasons.append(Reason("street_missing", "the delivery address has no street"))
    if not order.delivery_postal_code.strip():
        reasons.append(Reason("postal_code_missing", "the delivery address has no ZIP / postal code"))
    if not order.delivery_city.strip():
        reasons.append(Reason("city_missing", "the delivery address has no city"))
    country = order.delivery_country.strip()
    if not country:
        reasons.append(Reason("country_missing", "the delivery address has no country"))
    elif not _COUNTRY.fullmatch(country):
        reasons.append(Reason("country_invalid", f"country {country!r} is not a two-letter ISO code"))
    phone = order.contact_phone.strip()
    if not phone:
        reasons.append(Reason("phone_missing", "the order has no contact phone for delivery"))
    elif not phone_is_plausible(phone):
        reasons.append(Reason("phone_invalid", f"contact phone {phone!r} is not a valid phone number"))
    return reasons
