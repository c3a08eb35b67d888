"""The SKU catalogue's rules for people: who may edit which fields, the reason every change needs, the per-brand
"catalog owned by ERP" switch, and the lifecycle step a SKU still lacks. Pages and the API both call these.

Staff with `inventory.change_sku` edit every master field (the code only through `catalog_change_code`, which keeps
the old code as an alias for its window). A brand user fixes the drift fields of their own SKUs (weight, dimensions,
HS code), never codes. While a brand's ERP owns its catalog, the console (`via="console"`) edits no master field: the
ERP writes them through the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from inventory import services
from inventory.models import ALIAS_WINDOW, Barcode, CatalogOwnership, Sku, SkuAlias, SkuState
from warehouse.errors import Conflict, InvalidInput, NotPermitted, Reason
from warehouse.history import save_with_history
from warehouse.models import Brand
from warehouse.roles import brands_visible_to, sees_all_brands
from warehouse.transitions import Actor

CHANGE_SKU = "inventory.change_sku"
ADD_SKU = "inventory.add_sku"
CHANGE_OWNERSHIP = "inventory.change_catalogownership"

# Fields a person edits on the SKU page (the code has its own form; the state moves only by lifecycle steps).
MASTER_FIELDS = (
    "title", "parent_code", "variant_attributes", "weight_grams", "length_mm", "width_mm", "height_mm", "hs_code",
    "unit_cost", "customs_value", "country_of_origin", "is_kit",
)  # fmt: skip
# Catalog drift (inventory.selectors.catalog_drift): what a brand user may fix on their own SKUs.
DRIFT_FIELDS = ("weight_grams", "length_mm", "width_mm", "height_mm", "hs_code")
# Fixed once the pack configuration is locked (the next steps and the carriers rely on them).
PACK_FIELDS = ("weight_grams", "length_mm", "width_mm", "height_mm", "is_kit")
INT_FIELDS = ("weight_grams", "length_mm", "width_mm", "height_mm")
DECIMAL_FIELDS = ("unit_cost", "customs_value")
LIFECYCLE = [
    (SkuState.DEFINED, "assign_variants", "Assign variants"),
    (SkuState.VARIANTS_ASSIGNED, "lock_pack_configuration", "Lock pack configuration"),
    (SkuState.PACK_CONFIGURATION_LOCKED, "assign_barcode", "Assign barcode"),
    (SkuState.BARCODE_ASSIGNED, "mark_ready_for_receiving", "Mark ready for receiving"),
]
_PACK_LOCKED_STATES = (SkuState.PACK_CONFIGURATION_LOCKED, SkuState.BARCODE_ASSIGNED, SkuState.READY_FOR_RECEIVING)


def _reason_required(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why.", reasons=[Reason("reason_required", "Say why this SKU changes")])
    return reason


def catalog_owned_by_erp(brand: Brand) -> CatalogOwnership | None:
    """The brand's ownership row when its ERP owns the catalog, else None."""
    found = CatalogOwnership.objects.filter(brand=brand, owned_by_erp=True).first()
    return found


def catalog_refuse_if_erp_owned(*, brand: Brand) -> None:
    owner = catalog_owned_by_erp(brand)
    if owner is not None:
        erp = owner.erp_name or "its ERP"
        message = f"{brand.name}'s catalog is owned by {erp}: master fields are read-only here; change them in {erp}"
        raise Conflict(message, reasons=[Reason("catalog_owned_by_erp", message)])


def catalog_ownership_set(*, brand: Brand, owned_by_erp: bool, erp_name: str, actor: Actor, reason: str) -> Any:
    """Switch who owns the brand's catalog master (administrators)."""
    if actor is not None and not actor.has_perm(CHANGE_OWNERSHIP):
        raise NotPermitted("You may not change who owns a catalog.")
    reason = _reason_required(reason)
    with transaction.atomic():
        row, _ = CatalogOwnership.objects.select_for_update().get_or_create(brand=brand)
        row.owned_by_erp, row.erp_name = bool(owned_by_erp), (erp_name or "").strip()[:100]
        save_with_history(row, actor=actor, reason=reason)
    return row


def is_brand_member(user: Any, brand_id: int) -> bool:
    """A brand user of this brand (not staff)."""
    if user is None or sees_all_brands(user):
        return False
    return brands_visible_to(user).filter(pk=brand_id).exists()


def editable_fields(*, user: Any, sku: Sku, via: str = "console") -> tuple[str, ...]:
    """The fields `user` may change on `sku` here: all master fields for staff who may change SKUs, the drift fields
    for the brand's own users, none while the brand's ERP owns the catalog (in the console)."""
    if via == "console" and catalog_owned_by_erp(sku.brand) is not None:
        return ()
    fields: tuple[str, ...]
    if user is None or user.has_perm(CHANGE_SKU):
        fields = MASTER_FIELDS
    elif is_brand_member(user, sku.brand_id):
        fields = DRIFT_FIELDS
    else:
        return ()
    if sku.state in _PACK_LOCKED_STATES:
        fields = tuple(f for f in fields if f not in PACK_FIELDS or getattr(sku, f) in (None, ""))
    return fields


def sku_check_values(sku: Sku) -> None:
    """The model's own validation of the values, as one InvalidInput naming each field (nothing saved)."""
    try:
        sku.full_clean(exclude=["brand", "state"], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        reasons = [
            Reason(f"{name}_invalid", f"{name.replace('_', ' ')}: {' '.join(messages)}")
            for name, messages in exc.message_dict.items()
        ]
        raise InvalidInput("; ".join(r.message for r in reasons), reasons=reasons) from exc
    if sku.country_of_origin and not (len(sku.country_of_origin) == 2 and sku.country_of_origin.isalpha()):
        message = f"country of origin {sku.country_of_origin!r} is not a two-letter ISO code (e.g. ES)"
        raise InvalidInput(message, reasons=[Reason("country_of_origin_invalid", message)])


def _coerce(name: str, value: Any) -> Any:
    """A form's or a JSON body's value as the field holds it; blank means "not known"."""
    if name in INT_FIELDS:
        if value in (None, ""):
            return None
        if isinstance(value, bool) or not str(value).strip().isdigit() or int(str(value).strip()) <= 0:
            message = f"{name.replace('_', ' ')} must be a whole number above 0 (got {value!r})"
            raise InvalidInput(message, reasons=[Reason(f"{name}_invalid", message)])
        return int(str(value).strip())
    if name in DECIMAL_FIELDS:
        if value in (None, ""):
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = Decimal(-1)
        if not number.is_finite() or number < 0:
            message = f"{name.replace('_', ' ')} must be a number of at least 0 (got {value!r})"
            raise InvalidInput(message, reasons=[Reason(f"{name}_invalid", message)])
        return number
    if name == "is_kit":
        return bool(value)
    if name == "variant_attributes":
        if value in (None, ""):
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str | int) for v in value.values()):
            message = 'variant attributes must be names and values, e.g. {"size": "M", "colour": "blue"}'
            raise InvalidInput(message, reasons=[Reason("variant_attributes_invalid", message)])
        found = {str(k).strip(): str(v).strip() for k, v in value.items() if str(k).strip()}
        if len(found) > 20 or any(len(k) > 50 or len(v) > 100 or "\x00" in k + v for k, v in found.items()):
            message = "variant attributes: at most 20, names up to 50 and values up to 100 characters"
            raise InvalidInput(message, reasons=[Reason("variant_attributes_invalid", message)])
        return found
    if name == "country_of_origin":
        return str(value or "").strip().upper()
    return str(value or "").strip()


def sku_update(*, sku: Sku, changes: dict[str, Any], actor: Actor, reason: str, via: str = "console") -> Sku:
    """Change master fields of one SKU, with the reason recorded in its history. Refused whole (nothing saved) when
    a field is not editable for this person, a value is invalid, or the reason is missing."""
    if actor is not None and not (actor.has_perm(CHANGE_SKU) or is_brand_member(actor, sku.brand_id)):
        raise NotPermitted("You may not change SKUs.", reasons=[Reason("not_permitted", "You may not change SKUs")])
    if "code" in changes:
        message = "The SKU code is not edited here: use Change code (the old code stays an alias for its window)"
        if actor is not None and not actor.has_perm(CHANGE_SKU):
            message = "Brand users never change SKU codes"
        raise InvalidInput(message, reasons=[Reason("code_not_editable", message)])
    unknown = sorted(set(changes) - set(MASTER_FIELDS))
    if unknown:
        message = f"Unknown or read-only fields: {', '.join(unknown)}"
        raise InvalidInput(message, reasons=[Reason("field_not_editable", message)])
    reason = _reason_required(reason)
    if via == "console":
        catalog_refuse_if_erp_owned(brand=sku.brand)
    with transaction.atomic():
        locked = Sku.objects.select_for_update().select_related("brand").get(pk=sku.pk)
        allowed = editable_fields(user=actor, sku=locked, via=via)
        values = {name: _coerce(name, value) for name, value in changes.items()}
        changed = {name: value for name, value in values.items() if getattr(locked, name) != value}
        refused = sorted(set(changed) - set(allowed))
        if refused:
            labels = ", ".join(name.replace("_", " ") for name in refused)
            if actor is not None and not actor.has_perm(CHANGE_SKU):
                message = f"Brand users fix weight, dimensions and HS code only; not {labels}"
                raise NotPermitted(message, reasons=[Reason("field_not_editable", message)])
            message = f"{locked.code}: the pack configuration is locked ({locked.get_state_display()}); {labels} stay"
            raise Conflict(message, reasons=[Reason("pack_configuration_locked", message)])
        if not changed:
            return locked
        for name, value in changed.items():
            setattr(locked, name, value)
        sku_check_values(locked)
        save_with_history(locked, actor=actor, reason=reason)
    return locked


def _require_change(actor: Actor, sku: Sku, *, via: str = "console") -> None:
    if actor is not None and not actor.has_perm(CHANGE_SKU):
        raise NotPermitted("You may not change SKUs.", reasons=[Reason("not_permitted", "You may not change SKUs")])
    if via == "console":
        catalog_refuse_if_erp_owned(brand=sku.brand)


def catalog_step(*, sku: Sku, name: str, actor: Actor, reason: str, barcode: str = "", via: str = "console") -> Sku:
    """Take one lifecycle step, with its reason; a guard's refusal names what is missing."""
    _require_change(actor, sku, via=via)
    reason = _reason_required(reason)
    if name == "assign_barcode":
        return services.sku_assign_barcode(sku=sku, value=barcode, actor=actor, reason=reason)
    step = {
        "assign_variants": services.sku_assign_variants,
        "lock_pack_configuration": services.sku_lock_pack_configuration,
        "mark_ready_for_receiving": services.sku_mark_ready_for_receiving,
    }.get(name)
    if step is None:
        message = f"No lifecycle step {name!r}; the steps are " + ", ".join(n for _, n, _ in LIFECYCLE)
        raise InvalidInput(message, reasons=[Reason("unknown_step", message)])
    return step(sku=sku, actor=actor, reason=reason)


def catalog_change_code(*, sku: Sku, new_code: str, actor: Actor, reason: str, window_days: int = 30,
                        via: str = "console") -> SkuAlias:  # fmt: skip
    """The supplier renamed the SKU: the old code stays an alias for the window (seed 001: typically 30 days)."""
    _require_change(actor, sku, via=via)
    _reason_required(reason)
    return services.sku_change_code(sku=sku, new_code=new_code, actor=actor, window=_window(window_days))


def catalog_change_barcode(*, sku: Sku, new_value: str, actor: Actor, reason: str, window_days: int = 30,
                           via: str = "console") -> Barcode:  # fmt: skip
    """The supplier changed the barcode: the current ones stay valid for the window, then warn as legacy."""
    _require_change(actor, sku, via=via)
    _reason_required(reason)
    return services.sku_change_barcode(sku=sku, new_value=new_value, actor=actor, window=_window(window_days))


def catalog_add_alias(*, sku: Sku, code: str, actor: Actor, reason: str, valid_from: datetime | None = None,
                      valid_until: datetime | None = None, via: str = "console") -> SkuAlias:  # fmt: skip
    """Another code means this SKU during its equivalence window."""
    _require_change(actor, sku, via=via)
    reason = _reason_required(reason)
    for moment in (valid_from, valid_until):
        if moment is not None and not 2000 <= moment.year <= 2200:
            message = f"The alias window must fall between the years 2000 and 2200 (got {moment.date().isoformat()})"
            raise InvalidInput(message, reasons=[Reason("window_invalid", message)])
    return services.sku_alias_create(
        brand=sku.brand, code=code, sku=sku, actor=actor, valid_from=valid_from, valid_until=valid_until, reason=reason
    )


def catalog_set_components(*, kit: Sku, components: list[tuple[str, Any]], actor: Actor, reason: str,
                           via: str = "console") -> list[Any]:  # fmt: skip
    """A kit's components by code and quantity; codes resolve through the brand's catalog (aliases included)."""
    _require_change(actor, kit, via=via)
    reason = _reason_required(reason)
    lines: list[tuple[Sku, int]] = []
    problems: list[Reason] = []
    for code, quantity in components:
        try:
            found = services.sku_resolve(brand=kit.brand, code=code).sku
        except InvalidInput as exc:
            problems.extend(exc.reasons)
            continue
        number = int(quantity) if isinstance(quantity, int) or str(quantity).strip().isdigit() else quantity
        if isinstance(number, int) and number > 10_000:
            problems.append(Reason("quantity_too_large", f"{code}: {number} units in one kit; at most 10,000"))
            continue
        lines.append((found, number))
    if problems:
        raise InvalidInput("; ".join(r.message for r in problems), reasons=problems)
    return services.kit_set_components(kit=kit, components=lines, actor=actor, reason=reason)


def _window(days: Any) -> timedelta:
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        message = f"The transition window is {days!r} days; give 1 to 365"
        raise InvalidInput(message, reasons=[Reason("window_invalid", message)])
    return timedelta(days=days)


def sku_missing_steps(state: str) -> list[str]:
    """The lifecycle steps a SKU in `state` still needs before it can be received, in order (empty when ready)."""
    order: list[str] = [step_state for step_state, _, _ in LIFECYCLE]
    if state not in order:
        return []
    return [label for _, _, label in LIFECYCLE[order.index(state) :]]


DEFAULT_WINDOW = ALIAS_WINDOW
