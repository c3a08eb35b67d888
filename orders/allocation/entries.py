"""What a person enters (issue 16 §5): a wholesale reservation or a scheduled inbound for pre-orders, from the
managers' forms or from a brand's (or its ERP's) API call. One place for who may enter them and for the checks on the
values typed, each refusal naming its field (400, nothing changed); the entry then goes through the allocation
services (`contracts.contract_reservation_create`, `preorders.scheduled_inbound_create`) as every other caller does.

Who: managers (`allocation.add_contractreservation`, `allocation.add_scheduledinbound`) for any brand; a brand's own
users (and its ERP, with the brand's token) for that brand only. Finance and operations are refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from inventory.catalog import is_brand_member
from inventory.models import Sku, StockLevel
from orders.allocation.contracts import contract_reservation_create
from orders.allocation.models import ContractReservation, ScheduledInbound
from orders.allocation.preorders import scheduled_inbound_create
from warehouse.errors import InvalidInput, NotPermitted, Reason
from warehouse.models import Brand, Facility
from warehouse.roles import brands_visible_to, sees_all_brands
from warehouse.transitions import Actor

ADD_RESERVATION = "allocation.add_contractreservation"
ADD_SCHEDULE = "allocation.add_scheduledinbound"
QUANTITY_LIMIT = 1_000_000


class FieldInvalid(InvalidInput):
    """A value typed breaks its field's rule (400): every such field is named in `reasons`, nothing was changed."""

    http_status = 400


def may_enter(actor: Actor, brand: Brand | None, permission: str) -> bool:
    """A manager for any brand; a brand user for their own brand (None: may they enter for some brand)."""
    if actor is None:
        return True
    if actor.has_perm(permission):
        return True
    if brand is None:
        return not sees_all_brands(actor) and brands_visible_to(actor).exists()
    return is_brand_member(actor, brand.pk)


def _refuse_unless(actor: Actor, brand: Brand, permission: str, what: str) -> None:
    if not may_enter(actor, brand, permission):
        raise NotPermitted(f"You may not enter {what} for {brand.name}.")


class _Problems:
    def __init__(self) -> None:
        self.reasons: list[Reason] = []

    def add(self, field: str, code: str, words: str) -> None:
        self.reasons.append(Reason(code, f"{field}: {words}"))

    def raise_if_any(self, what: str) -> None:
        if self.reasons:
            raise FieldInvalid(
                f"The {what} was not saved: " + "; ".join(r.message for r in self.reasons), reasons=self.reasons
            )


def _whole(problems: _Problems, field: str, value: Any, *, minimum: int = 1) -> int | None:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(field, f"{field}_invalid", f"{value!r} is not a whole number")
        return None
    if value < minimum:
        words = "at least 1" if minimum == 1 else f"at least {minimum}"
        problems.add(field, f"{field}_not_positive" if minimum == 1 else f"{field}_negative", f"must be {words}")
        return None
    if value > QUANTITY_LIMIT:
        problems.add(field, f"{field}_too_large", f"must be at most {QUANTITY_LIMIT:,}")
        return None
    return value


def _date(problems: _Problems, field: str, value: Any, *, required: bool) -> dt.date | None:
    if value in (None, ""):
        if required:
            problems.add(field, f"{field}_required", "give a date (YYYY-MM-DD)")
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            problems.add(field, f"{field}_invalid", f"{value!r} is not a date (YYYY-MM-DD)")
            return None
    if not isinstance(value, dt.date):
        problems.add(field, f"{field}_invalid", "not a date (YYYY-MM-DD)")
        return None
    if value < timezone.localdate():
        problems.add(field, f"{field}_in_past", f"{value.isoformat()} is in the past")
        return None
    return value


def _sku(problems: _Problems, brand: Brand, code: Any) -> Sku | None:
    if isinstance(code, Sku):
        return code if code.brand_id == brand.pk else None
    text = str(code or "").strip()
    sku = Sku.objects.filter(brand=brand, code=text).first() if text else None
    if sku is None:
        problems.add("sku", "unknown_sku", f"{text!r} is not a SKU of {brand.name}" if text else "give the SKU code")
    elif sku.is_kit:
        problems.add("sku", "kit_has_no_stock", f"{sku.code} is a kit: reserve or schedule its components")
        return None
    return sku


def _facility(problems: _Problems, value: Any) -> Facility | None:
    if isinstance(value, Facility):
        return value
    text = str(value or "").strip()
    facility = Facility.objects.filter(code=text).first() if text else None
    if facility is None:
        problems.add("facility", "unknown_facility", f"no facility {text!r}" if text else "choose the facility")
    return facility


def free_for_contracts(*, sku: Sku, facility: Facility) -> int:
    """Units a new reservation may still ring-fence: available, less what open contracts are owed beyond what they
    already hold in `reserved`."""
    level = StockLevel.objects.filter(sku=sku, facility=facility).first()
    if level is None:
        return 0
    owed = ContractReservation.objects.filter(sku=sku, facility=facility).owed()
    owed_units = sum(int(row["units"]) for row in owed)
    return max(0, level.available - max(0, owed_units - level.reserved))


def reservation_enter(
    *,
    brand: Brand,
    customer: Any,
    sku: Any,
    facility: Any,
    quantity: Any,
    actor: Actor,
    contract_ref: Any = "",
    ship_date: Any = None,
) -> ContractReservation:
    """A wholesale reservation as a person enters it: within the stock available now at that facility."""
    _refuse_unless(actor, brand, ADD_RESERVATION, "a wholesale reservation")
    problems = _Problems()
    customer_text = str(customer or "").strip()
    if not customer_text:
        problems.add("customer", "customer_required", "give the wholesale or retail account, as on its orders")
    elif len(customer_text) > 200:
        problems.add("customer", "customer_too_long", "at most 200 characters")
    reference = str(contract_ref or "").strip()
    if len(reference) > 100:
        problems.add("contract_ref", "contract_ref_too_long", "at most 100 characters")
    found_sku, found_facility = _sku(problems, brand, sku), _facility(problems, facility)
    units = _whole(problems, "quantity", quantity)
    shipping = _date(problems, "ship_date", ship_date, required=False)
    if found_sku is not None and found_facility is not None and units is not None:
        free = free_for_contracts(sku=found_sku, facility=found_facility)
        if units > free:
            problems.add(
                "quantity", "quantity_over_available",
                f"{units} × {found_sku.code} asked, {free} available at {found_facility.code}",
            )  # fmt: skip
    problems.raise_if_any("reservation")
    assert found_sku is not None and found_facility is not None and units is not None
    return contract_reservation_create(
        brand=brand, customer=customer_text, sku=found_sku, facility=found_facility, quantity=units, actor=actor,
        contract_ref=reference, ship_date=shipping,
    )  # fmt: skip


def schedule_enter(
    *,
    brand: Brand,
    sku: Any,
    facility: Any,
    quantity: Any,
    expected_on: Any,
    preorder_limit: Any,
    actor: Actor,
    reference: Any = "",
) -> ScheduledInbound:
    """A scheduled inbound for pre-orders as a person enters it: an expected inbound of one line (the ASN or PO
    `reference`, generated when blank), of which up to `preorder_limit` units may be sold ahead."""
    _refuse_unless(actor, brand, ADD_SCHEDULE, "a scheduled inbound")
    problems = _Problems()
    found_sku, found_facility = _sku(problems, brand, sku), _facility(problems, facility)
    units = _whole(problems, "quantity", quantity)
    limit = _whole(problems, "preorder_limit", preorder_limit, minimum=0)
    on = _date(problems, "expected_on", expected_on, required=True)
    if units is not None and limit is not None and limit > units:
        problems.add("preorder_limit", "preorder_limit_over_quantity", f"{limit} is more than the {units} inbound")
    text = str(reference or "").strip()
    if len(text) > 100:
        problems.add("reference", "reference_too_long", "at most 100 characters")
    problems.raise_if_any("scheduled inbound")
    assert found_sku is not None and found_facility is not None and units is not None and on is not None
    return scheduled_inbound_create(
        brand=brand, sku=found_sku, facility=found_facility, quantity=units, expected_on=on,
        preorder_limit=limit or 0, actor=actor, reference=text,
    )  # fmt: skip
