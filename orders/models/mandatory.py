"""The mandatory fields of an order (seed 001 "Mandatory Fields and Minimum Identifiers"): one rule set with one set of
reason codes. The `validate` transition's guards (one per code, `VALIDATION_GUARDS`) and `orders.validation` (which
first resolves each line's SKU code) both read it, so a refused transition and a held order name the same faults.
Each fault is named, not just the first."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from warehouse.errors import Reason
from warehouse.fsm import GuardFn, guard

if TYPE_CHECKING:
    from orders.models.order import Order, OrderLine

MAX_LINE_QUANTITY = 100_000  # far above any real line; 2**63 and friends are data errors, not orders
_PHONE_CHARS = re.compile(r"[0-9 +()./-]+")
_COUNTRY = re.compile(r"[A-Z]{2}")

# Every code the rules below can give, in the order they are checked (a guard per code, in this order). A line whose
# SKU code was looked up and did not resolve may carry the resolver's own code instead (e.g. `alias_expired`).
CODES: dict[str, str] = {
    "order_id_missing": "the order has no order id",
    "lines_missing": "the order has no lines",
    "sku_missing": "every line has a SKU code",
    "unknown_sku": "every line's SKU maps to a catalog entry",
    "quantity_invalid": "every line's quantity is a positive whole number",
    "street_missing": "the delivery address has a street",
    "postal_code_missing": "the delivery address has a ZIP / postal code",
    "city_missing": "the delivery address has a city",
    "country_missing": "the delivery address has a country",
    "country_invalid": "the country is a two-letter ISO code",
    "phone_missing": "the order has a contact phone for delivery",
    "phone_invalid": "the contact phone is a plausible phone number",
}


def phone_is_plausible(phone: str) -> bool:
    digits = sum(ch.isdigit() for ch in phone)
    return bool(_PHONE_CHARS.fullmatch(phone)) and 6 <= digits <= 15


def _blank(value: str | None) -> bool:
    return not (value or "").strip()


def line_faults(line: OrderLine, *, unresolved: Sequence[Reason] = ()) -> list[Reason]:
    """One line: a SKU code that is present and resolved, and a positive whole quantity. `unresolved`: why its code
    did not resolve, when validation looked it up (else a code without a SKU is `unknown_sku`)."""
    label = f"line {line.line_number}"
    reasons: list[Reason] = []
    if _blank(line.sku_code):
        reasons.append(Reason("sku_missing", f"{label}: no SKU code"))
    elif line.sku_id is None:
        found = list(unresolved) or [Reason("unknown_sku", f"SKU {line.sku_code} is not in the catalog")]
        reasons.extend(Reason(r.code, f"{label}: {r.message}") for r in found)
    if line.quantity is None or line.quantity <= 0:
        shown = line.quantity_received or "nothing"
        reasons.append(
            Reason(
                "quantity_invalid",
                f"{label} ({line.sku_code or 'no SKU'}): quantity {shown} is not a positive whole number "
                f"(1 to {MAX_LINE_QUANTITY})",
            )
        )
    return reasons


def delivery_faults(order: Order) -> list[Reason]:
    """The delivery address and the contact phone."""
    reasons: list[Reason] = []
    if _blank(order.delivery_street1):
        reasons.append(Reason("street_missing", "the delivery address has no street"))
    if _blank(order.delivery_postal_code):
        reasons.append(Reason("postal_code_missing", "the delivery address has no ZIP / postal code"))
    if _blank(order.delivery_city):
        reasons.append(Reason("city_missing", "the delivery address has no city"))
    country = (order.delivery_country or "").strip()
    if not country:
        reasons.append(Reason("country_missing", "the delivery address has no country"))
    elif not _COUNTRY.fullmatch(country):
        reasons.append(Reason("country_invalid", f"country {country!r} is not a two-letter ISO code"))
    phone = (order.contact_phone or "").strip()
    if not phone:
        reasons.append(Reason("phone_missing", "the order has no contact phone for delivery"))
    elif not phone_is_plausible(phone):
        reasons.append(Reason("phone_invalid", f"contact phone {phone!r} is not a valid phone number"))
    return reasons


def mandatory_faults(
    order: Order, lines: Sequence[OrderLine], *, unresolved: dict[int, list[Reason]] | None = None
) -> list[Reason]:
    """Every mandatory field that is missing or invalid, each named, in the order of `CODES`."""
    reasons: list[Reason] = []
    if _blank(order.platform_order_id):
        reasons.append(Reason("order_id_missing", CODES["order_id_missing"]))
    if not lines:
        reasons.append(Reason("lines_missing", CODES["lines_missing"]))
    for line in lines:
        reasons.extend(line_faults(line, unresolved=(unresolved or {}).get(line.line_number, ())))
    return reasons + delivery_faults(order)


def forced_past_codes(order: Order) -> set[str]:
    """Reason codes a manager forced validation past (`orders.services.order_force`), kept until the data changes."""
    return {r.get("code", "") for r in order.forced_past or [] if isinstance(r, dict)}


def mandatory_guards(lines_of: Callable[[Order], Sequence[OrderLine]]) -> list[GuardFn]:
    """One guard of the `validate` transition per code: it passes unless the rules give that code (and a manager did
    not force validation past it). The guards read the SKU each line resolved to; they never look codes up."""

    def make(code: str) -> GuardFn:
        def passes(order: Order) -> bool:
            found = {r.code for r in mandatory_faults(order, lines_of(order))}
            return code not in found - forced_past_codes(order)

        passes.__name__ = f"no_{code}"
        return guard(code, CODES[code])(passes)

    return [make(code) for code in CODES]
