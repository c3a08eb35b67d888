"""Write use-cases of the catalog and of stock.

Every stock service takes an `event_id` and records one `Movement` per SKU it touches, in the same transaction as
the bucket change. The movements are inserted *first*: the unique (event_id, line) index then makes a replay (even a
concurrent one, which waits on the index until the first commits) fail before it moves anything, and the replay
returns the first result. Bucket changes are conditional UPDATEs in SKU-pk order, so two allocations never deadlock
and never oversell; the CHECK constraints on `StockLevel` are the backstop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone

from inventory.kits import kit_parts
from inventory.models import (
    ALIAS_WINDOW,
    BUCKETS,
    COMMITTED_BUCKETS,
    Barcode,
    KitComponent,
    Movement,
    MovementKind,
    Sku,
    SkuAlias,
    SkuState,
    StockLevel,
)
from inventory.selectors import catalog_drift, sku_missing_fields
from warehouse.errors import Conflict, DomainError, InsufficientStock, InvalidInput, NotPermitted, Reason
from warehouse.history import save_with_history
from warehouse.memo import memo_clear, memoized
from warehouse.models import Brand, ExceptionKind, Facility
from warehouse.services import exception_dedupe_key, exception_open
from warehouse.transitions import Actor, transition_apply

Lines = Sequence[tuple[Sku, int]]
CODE_LIMIT = 100  # SkuAlias.code / Sku.code


# ---------------------------------------------------------------------------------------------------------------
# Catalog: resolution of codes and barcodes
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkuResolution:
    """The SKU a code or barcode names, how it was found (`code`, `alias`, `barcode`) and any warnings."""

    sku: Sku
    via: str
    warnings: list[Reason] = field(default_factory=list)


@memoized  # one ingestion resolves each line's code when storing the line and again when validating it
def sku_resolve(*, brand: Brand, code: str, at: datetime | None = None) -> SkuResolution:
    """The SKU of `brand` that `code` names now: its own code, or an old code inside its alias window."""
    at = at or timezone.now()
    code = (code or "").strip()
    sku = Sku.objects.filter(brand=brand, code=code).first() if code else None
    if sku is not None:
        return SkuResolution(sku=sku, via="code")
    alias = SkuAlias.objects.select_related("sku").filter(brand=brand, code=code).first() if code else None
    if alias is not None:
        new_code = alias.sku.code
        if alias.is_valid_at(at):
            until = alias.valid_until.date().isoformat()
            warning = Reason(
                "alias_used", f"{code} is an old code of {new_code} (accepted until {until}); use {new_code}"
            )
            return SkuResolution(sku=alias.sku, via="alias", warnings=[warning])
        if at >= alias.valid_until:
            message = f"SKU code {code} was retired on {alias.valid_until.date().isoformat()}: use {new_code}"
            raise InvalidInput(message, reasons=[Reason("alias_expired", message)])
    message = f"SKU code {code!r} is not in {brand.name}'s catalog"
    raise InvalidInput(message, reasons=[Reason("unknown_sku", message)])


def sku_resolve_scan(*, brand: Brand, code: str) -> SkuResolution:
    """What a person scanned or typed on the floor (receiving, picking, returns): a barcode (a legacy one with a
    warning), else a SKU code or an old code inside its alias window (past it, the refusal names the new code). An
    unknown one is `unknown_barcode`, naming what was scanned."""
    code = (code or "").strip()
    if not code:
        raise InvalidInput("Scan a barcode or type a SKU code.", reasons=[Reason("barcode_required", "Scan a barcode")])
    try:
        return sku_resolve_barcode(brand=brand, barcode=code)
    except InvalidInput as barcode_error:
        if {r.code for r in barcode_error.reasons} != {"unknown_barcode"}:
            raise  # a barcode outside its window
    try:
        return sku_resolve(brand=brand, code=code)
    except InvalidInput as code_error:
        if {r.code for r in code_error.reasons} != {"unknown_sku"}:
            raise  # an old code past its window: names the new one
        message = f"{code!r} is neither a barcode nor a SKU code of {brand.name}"
        raise InvalidInput(message, reasons=[Reason("unknown_barcode", message)]) from code_error


def sku_resolve_barcode(*, brand: Brand, barcode: str, at: datetime | None = None) -> SkuResolution:
    """The SKU a scanned barcode names. A legacy barcode past its window still resolves, with a warning."""
    at = at or timezone.now()
    value = (barcode or "").strip()
    found = Barcode.objects.select_related("sku").filter(brand=brand, value=value).first() if value else None
    if found is None:
        message = f"Barcode {value!r} is not in {brand.name}'s catalog"
        raise InvalidInput(message, reasons=[Reason("unknown_barcode", message)])
    if found.in_window(at):
        return SkuResolution(sku=found.sku, via="barcode")
    if found.is_legacy:
        current = found.sku.barcodes.filter(is_legacy=False).order_by("-valid_from").first()
        hint = f"; relabel with {current.value}" if current is not None else ""
        warning = Reason("legacy_barcode", f"Barcode {value} is a legacy barcode of {found.sku.code}{hint}")
        return SkuResolution(sku=found.sku, via="barcode", warnings=[warning])
    message = f"Barcode {value} of {found.sku.code} is outside its validity window"
    raise InvalidInput(message, reasons=[Reason("barcode_outside_window", message)])


# ---------------------------------------------------------------------------------------------------------------
# Catalog: creation, lifecycle, code and barcode changes, kits
# ---------------------------------------------------------------------------------------------------------------


def sku_create(
    *,
    brand: Brand,
    code: str,
    actor: Actor,
    title: str = "",
    parent_code: str = "",
    variant_attributes: dict[str, Any] | None = None,
    weight_grams: int | None = None,
    length_mm: int | None = None,
    width_mm: int | None = None,
    height_mm: int | None = None,
    hs_code: str = "",
    is_kit: bool = False,
    unit_cost: Any = None,
    customs_value: Any = None,
    country_of_origin: str = "",
    reason: str = "created",
    via: str = "",
) -> Sku:
    """A new SKU in `defined`. A person needs `inventory.add_sku`; `via="console"` is refused while the brand's ERP
    owns its catalog. The code must be new to the brand (neither a SKU code nor an alias)."""
    from inventory.catalog import catalog_refuse_if_erp_owned, sku_check_values

    if actor is not None and not actor.has_perm("inventory.add_sku"):
        raise NotPermitted("You may not create SKUs.", reasons=[Reason("not_permitted", "You may not create SKUs")])
    if via == "console":
        catalog_refuse_if_erp_owned(brand=brand)
    code = (code or "").strip()
    if not code:
        raise InvalidInput("A SKU needs a code.", reasons=[Reason("code_required", "Give the SKU code")])
    if len(code) > CODE_LIMIT:
        message = f"The SKU code is {len(code)} characters; at most {CODE_LIMIT}."
        raise InvalidInput(message, reasons=[Reason("code_too_long", message)])
    if Sku.objects.filter(brand=brand, code=code).exists():
        message = f"SKU code {code} is already used by {brand.name}"
        raise Conflict(message, reasons=[Reason("code_in_use", message)])
    alias = SkuAlias.objects.select_related("sku").filter(brand=brand, code=code).first()
    if alias is not None:
        message = f"SKU code {code} is an old code of {alias.sku.code} ({brand.name}); choose another code"
        raise Conflict(message, reasons=[Reason("code_in_use", message)])
    sku = Sku(
        brand=brand,
        code=code,
        title=title,
        parent_code=parent_code,
        variant_attributes=variant_attributes or {},
        weight_grams=weight_grams,
        length_mm=length_mm,
        width_mm=width_mm,
        height_mm=height_mm,
        hs_code=hs_code,
        is_kit=is_kit,
        unit_cost=unit_cost,
        customs_value=customs_value,
        country_of_origin=country_of_origin,
    )
    sku_check_values(sku)
    save_with_history(sku, actor=actor, reason=(reason or "").strip() or "created")
    return sku


def sku_assign_variants(*, sku: Sku, actor: Actor, reason: str = "", force: bool = False) -> Sku:
    return transition_apply(obj=sku, name="assign_variants", actor=actor, reason=reason, force=force)


def sku_lock_pack_configuration(*, sku: Sku, actor: Actor, reason: str = "", force: bool = False) -> Sku:
    return transition_apply(obj=sku, name="lock_pack_configuration", actor=actor, reason=reason, force=force)


def sku_assign_barcode(*, sku: Sku, value: str, actor: Actor, reason: str = "") -> Sku:
    """Record the SKU's barcode and move it to barcode_assigned (one transaction)."""
    value = (value or "").strip()
    if not value:
        raise InvalidInput("A barcode needs a value.", reasons=[Reason("barcode_required", "Give the barcode")])
    with transaction.atomic():
        taken = Barcode.objects.filter(brand_id=sku.brand_id, value=value).exclude(sku=sku).first()
        if taken is not None:
            message = f"Barcode {value} already belongs to {taken.sku.code}"
            raise Conflict(message, reasons=[Reason("barcode_in_use", message)])
        if not Barcode.objects.filter(sku=sku, value=value).exists():
            save_with_history(Barcode(sku=sku, value=value), actor=actor, reason=reason or "barcode assigned")
        return transition_apply(obj=sku, name="assign_barcode", actor=actor, reason=reason)


def sku_mark_ready_for_receiving(*, sku: Sku, actor: Actor, reason: str = "", force: bool = False) -> Sku:
    return transition_apply(obj=sku, name="mark_ready_for_receiving", actor=actor, reason=reason, force=force)


def sku_change_code(*, sku: Sku, new_code: str, actor: Actor, window: timedelta = ALIAS_WINDOW) -> SkuAlias:
    """The supplier renamed the SKU: the old code stays an alias of it for `window`, then is retired."""
    new_code = (new_code or "").strip()
    if not new_code:
        raise InvalidInput("The new code is blank.", reasons=[Reason("code_required", "Give the new SKU code")])
    with transaction.atomic():
        locked = Sku.objects.select_for_update().get(pk=sku.pk)
        old_code = locked.code
        if new_code == old_code:
            raise InvalidInput("The code is unchanged.", reasons=[Reason("code_unchanged", f"{old_code} is current")])
        in_use = Sku.objects.filter(brand_id=locked.brand_id, code=new_code).exists()
        if in_use or SkuAlias.objects.filter(brand_id=locked.brand_id, code=new_code).exclude(sku=locked).exists():
            raise Conflict(f"SKU code {new_code} is in use.", reasons=[Reason("code_in_use", f"{new_code} is in use")])
        SkuAlias.objects.filter(sku=locked, code=new_code).delete()  # renaming back to an old code
        now = timezone.now()
        alias = SkuAlias(brand_id=locked.brand_id, code=old_code, sku=locked, valid_from=now, valid_until=now + window)
        save_with_history(alias, actor=actor, reason=f"{old_code} renamed to {new_code}")
        locked.code = new_code
        save_with_history(locked, actor=actor, reason=f"code changed from {old_code}")
    sku.code = new_code
    return alias


ADD_ALIAS = "inventory.add_skualias"


def sku_alias_create(
    *,
    brand: Brand,
    code: str,
    sku: Sku,
    actor: Actor,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    reason: str = "",
) -> SkuAlias:
    """A code the catalog does not know (a channel's own spelling) becomes an alias of `sku` for its window, e.g.
    from a held order's line. Needs `inventory.add_skualias`; a code already in use is refused, never re-pointed."""
    if actor is not None and not actor.has_perm(ADD_ALIAS):
        raise NotPermitted("You may not create SKU aliases.")
    code = (code or "").strip()
    if not code:
        raise InvalidInput("The alias needs a code.", reasons=[Reason("code_required", "Give the alias code")])
    if len(code) > CODE_LIMIT:
        message = f"The alias code is {len(code)} characters; at most {CODE_LIMIT}."
        raise InvalidInput(message, reasons=[Reason("code_too_long", message)])
    if sku.brand_id != brand.pk:
        raise InvalidInput("That SKU belongs to another brand.", reasons=[Reason("other_brand", sku.code)])
    valid_from = valid_from or timezone.now()
    valid_until = valid_until or valid_from + ALIAS_WINDOW
    if valid_until <= valid_from:
        message = "The alias window must end after it starts."
        raise InvalidInput(message, reasons=[Reason("window_invalid", message)])
    with transaction.atomic():
        if Sku.objects.filter(brand=brand, code=code).exists():
            message = f"{code} is already a SKU code of {brand.name}."
            raise Conflict(message, reasons=[Reason("code_in_use", message)])
        taken = SkuAlias.objects.select_related("sku").filter(brand=brand, code=code).first()
        if taken is not None:
            message = f"{code} is already an alias of {taken.sku.code}."
            raise Conflict(message, reasons=[Reason("alias_in_use", message)])
        alias = SkuAlias(brand=brand, code=code, sku=sku, valid_from=valid_from, valid_until=valid_until)
        save_with_history(alias, actor=actor, reason=reason or f"{code} means {sku.code}")
    memo_clear()  # a memoised resolution of this code in the current unit of work is now stale
    return alias


def sku_change_barcode(*, sku: Sku, new_value: str, actor: Actor, window: timedelta = ALIAS_WINDOW) -> Barcode:
    """The supplier changed the barcode: current barcodes become legacy after `window`, the new one is active."""
    new_value = (new_value or "").strip()
    if not new_value:
        raise InvalidInput("A barcode needs a value.", reasons=[Reason("barcode_required", "Give the barcode")])
    with transaction.atomic():
        if Barcode.objects.filter(brand_id=sku.brand_id, value=new_value).exists():
            raise Conflict(f"Barcode {new_value} is in use.", reasons=[Reason("barcode_in_use", new_value)])
        until = timezone.now() + window
        for old in Barcode.objects.select_for_update().filter(sku=sku, is_legacy=False):
            old.is_legacy, old.valid_until = True, until
            save_with_history(old, actor=actor, reason=f"replaced by {new_value}")
        barcode = Barcode(sku=sku, value=new_value)
        save_with_history(barcode, actor=actor, reason="barcode changed")
    return barcode


def kit_set_components(*, kit: Sku, components: Lines, actor: Actor, reason: str = "kit defined") -> list[KitComponent]:
    """Define (or redefine) what one kit is made of. Components are plain SKUs of the same brand; a person needs
    `inventory.change_sku`."""
    if actor is not None and not actor.has_perm("inventory.change_sku"):
        raise NotPermitted("You may not change SKUs.", reasons=[Reason("not_permitted", "You may not change SKUs")])
    reasons: list[Reason] = []
    if not kit.is_kit:
        reasons.append(Reason("not_a_kit", f"{kit.code} is not a kit"))
    if not components:
        reasons.append(Reason("kit_components_required", "a kit needs at least one component"))
    seen: set[int] = set()
    for component, quantity in components:
        if component.pk == kit.pk:
            reasons.append(Reason("kit_contains_itself", f"{kit.code} cannot be a component of itself"))
        elif component.is_kit:
            reasons.append(Reason("nested_kit", f"{component.code} is a kit and cannot be a component"))
        if component.brand_id != kit.brand_id:
            reasons.append(Reason("other_brand", f"{component.code} belongs to another brand"))
        if not _is_positive_int(quantity):
            reasons.append(Reason("quantity_not_positive", f"{component.code}: quantity {quantity!r} is not ≥ 1"))
        if component.pk in seen:
            reasons.append(Reason("duplicate_component", f"{component.code} is listed twice"))
        seen.add(component.pk)
    if reasons:
        raise InvalidInput("The kit definition is invalid: " + "; ".join(r.message for r in reasons), reasons=reasons)
    with transaction.atomic():
        Sku.objects.select_for_update().get(pk=kit.pk)
        for existing in KitComponent.objects.filter(kit=kit).exclude(component_id__in=seen):
            existing._history_user = actor  # type: ignore[attr-defined]
            existing.delete()
        rows = []
        for component, quantity in components:
            row = KitComponent.objects.filter(kit=kit, component=component).first() or KitComponent(
                kit=kit, component=component, quantity=quantity
            )
            row.quantity = quantity
            save_with_history(row, actor=actor, reason=(reason or "").strip() or "kit defined")
            rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------------------------
# Stock: the ledger engine
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockResult:
    """What one stock event recorded. `replayed` is true when the event id was already in the ledger: then
    `movements` are the first call's and nothing changed."""

    event_id: str
    movements: list[Movement]
    replayed: bool = False


@dataclass
class _Move:
    sku: Sku
    quantity: int
    deltas: dict[str, int]
    detail: dict[str, Any] = field(default_factory=dict)


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_event_id(event_id: str) -> str:
    event_id = (event_id or "").strip()
    if not event_id:
        raise InvalidInput("A stock event needs an event id.", reasons=[Reason("event_id_required", "Give event_id")])
    if len(event_id) > 200:
        raise InvalidInput("The event id is too long.", reasons=[Reason("event_id_too_long", "At most 200 chars")])
    return event_id


def _check_quantity(sku: Sku, quantity: object) -> int:
    if not _is_positive_int(quantity):
        message = f"{sku.code}: quantity {quantity!r} is not a positive whole number"
        raise InvalidInput(message, reasons=[Reason("quantity_not_positive", message)])
    return int(quantity)  # type: ignore[call-overload]


def _refuse_kit(sku: Sku) -> None:
    if sku.is_kit:
        message = f"{sku.code} is a kit: it has no stock of its own; move its components"
        raise InvalidInput(message, reasons=[Reason("kit_has_no_stock", message)])


def _expand(lines: Lines, deltas_per_unit: dict[str, int]) -> list[_Move]:
    """One move per stocked SKU, kits expanded into their components, summed per SKU, in SKU-pk order."""
    if not lines:
        raise InvalidInput("Nothing to move.", reasons=[Reason("lines_required", "Give at least one line")])
    totals: dict[int, int] = {}
    skus: dict[int, Sku] = {}
    via_kits: dict[int, dict[str, int]] = {}
    for sku, quantity in lines:
        _check_quantity(sku, quantity)
    recipe = kit_parts(sku.pk for sku, _ in lines if sku.is_kit)
    for sku, quantity in lines:
        if not sku.is_kit:
            totals[sku.pk] = totals.get(sku.pk, 0) + quantity
            skus[sku.pk] = sku
            continue
        parts = recipe.get(sku.pk)
        if not parts:
            message = f"Kit {sku.code} has no components"
            raise InvalidInput(message, reasons=[Reason("kit_components_required", message)])
        for part in parts:
            units = part.quantity * quantity
            totals[part.component_id] = totals.get(part.component_id, 0) + units
            skus[part.component_id] = part.component
            kits = via_kits.setdefault(part.component_id, {})
            kits[sku.code] = kits.get(sku.code, 0) + quantity
    moves = []
    for sku_id in sorted(totals):
        detail = {"kits": via_kits[sku_id]} if sku_id in via_kits else {}
        deltas = {bucket: units * totals[sku_id] for bucket, units in deltas_per_unit.items()}
        moves.append(_Move(sku=skus[sku_id], quantity=totals[sku_id], deltas=deltas, detail=detail))
    return moves


def _available_gain(deltas: dict[str, int]) -> int:
    return deltas.get("on_hand", 0) - sum(deltas.get(bucket, 0) for bucket in COMMITTED_BUCKETS)


def _apply(*, move: _Move, facility: Facility) -> bool:
    """One conditional UPDATE: applies the deltas only if no bucket and not `available` would go negative.

    Hand-written SQL because this is the hot path of allocation (building the same ORM filter on every call cost
    more than the database work); column names come from the fixed `BUCKETS`, values are parameters."""
    sets, where = [], ["sku_id = %s", "facility_id = %s"]
    set_params: list[int] = []
    where_params: list[int] = [move.sku.pk, facility.pk]
    for bucket in BUCKETS:
        delta = move.deltas.get(bucket, 0)
        if delta:
            sets.append(f"{bucket} = {bucket} + %s")
            set_params.append(delta)
        if delta < 0:
            where.append(f"{bucket} >= %s")
            where_params.append(-delta)
    gain = _available_gain(move.deltas)
    if gain < 0:
        where.append(f"on_hand - {' - '.join(COMMITTED_BUCKETS)} >= %s")
        where_params.append(-gain)
    sets.append("updated_at = CURRENT_TIMESTAMP")
    sql = f"UPDATE {StockLevel._meta.db_table} SET {', '.join(sets)} WHERE {' AND '.join(where)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*set_params, *where_params])
        return cursor.rowcount == 1


def _shortfall(*, moves: list[_Move], facility: Facility, kind: str) -> Exception:
    """Explain, SKU by SKU, why the moves did not fit (read after the failed UPDATEs; nothing was applied)."""
    levels = {
        level.sku_id: level
        for level in StockLevel.objects.filter(facility=facility, sku_id__in=[m.sku.pk for m in moves])
    }
    reasons: list[Reason] = []
    short_of_available = False
    for move in moves:
        level = levels.get(move.sku.pk) or StockLevel(sku=move.sku, facility=facility)
        need = -_available_gain(move.deltas)
        if need > 0 and level.available < need:
            short_of_available = True
            reasons.append(
                Reason(
                    "insufficient_stock",
                    f"{move.sku.code}: requested {need}, available {level.available} at {facility.code}",
                )
            )
            continue
        found = len(reasons)
        for bucket, delta in move.deltas.items():
            have = getattr(level, bucket)
            if delta < 0 and have < -delta:
                label = bucket.replace("_", " ")
                reasons.append(Reason(f"insufficient_{bucket}", f"{move.sku.code}: needs {-delta} {label}, has {have}"))
        if len(reasons) == found:  # the row changed between our UPDATE and this read: still a refusal, say so
            short_of_available = short_of_available or need > 0
            reasons.append(Reason("stock_changed", f"{move.sku.code}: stock changed while moving it; try again"))
    message = f"Cannot {kind.replace('_', ' ')} at {facility.code}: " + "; ".join(r.message for r in reasons)
    if short_of_available:
        return InsufficientStock(message, reasons=reasons)
    return Conflict(message, reasons=reasons)


_MOVEMENT_FIELDS = [f for f in Movement._meta.concrete_fields if not f.primary_key]


def _insert_movements(movements: list[Movement]) -> None:
    """One INSERT … RETURNING id for every line of the event (the ledger's hot path; no ORM compile per call).

    Values go through each field's own `get_db_prep_save`, so JSON and datetimes are adapted as the ORM would."""
    columns = ", ".join(connection.ops.quote_name(f.column) for f in _MOVEMENT_FIELDS)
    row = "(" + ", ".join(["%s"] * len(_MOVEMENT_FIELDS)) + ")"
    params = [f.get_db_prep_save(getattr(m, f.attname), connection) for m in movements for f in _MOVEMENT_FIELDS]
    table = connection.ops.quote_name(Movement._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(movements))} RETURNING id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [r[0] for r in cursor.fetchall()]
    for movement, pk in zip(movements, ids, strict=True):  # RETURNING follows VALUES order, as bulk_create relies on
        movement.pk = pk
        movement._state.adding = False
        movement._state.db = connection.alias


def _replayed(*, event_id: str, kind: str) -> StockResult | None:
    first = list(Movement.objects.filter(event_id=event_id).select_related("sku", "facility").order_by("line"))
    if not first:
        return None
    if first[0].kind != kind:
        message = f"Event id {event_id} was already used for a {first[0].kind} movement"
        raise Conflict(message, reasons=[Reason("event_id_reused", message)])
    return StockResult(event_id=event_id, movements=first, replayed=True)


def _record(
    *,
    event_id: str,
    kind: str,
    facility: Facility,
    moves: list[_Move] | None = None,
    prepare: Callable[[], list[_Move]] | None = None,
    actor: Actor,
    reason: str = "",
    reference: str = "",
    approver: User | None = None,
    ensure_rows: bool = False,
) -> StockResult:
    """Insert the movements, then apply them; all or nothing. `prepare()` (run inside the transaction, after
    `ensure_rows`) may compute the moves under a row lock, e.g. a cycle count's variance."""
    try:
        with transaction.atomic():
            if ensure_rows:
                for move in moves or []:
                    StockLevel.objects.get_or_create(sku=move.sku, facility=facility)
            if prepare is not None:
                moves = prepare()
            assert moves is not None
            now = timezone.now()
            movements = [
                Movement(
                    event_id=event_id,
                    line=number,
                    kind=kind,
                    sku=move.sku,
                    facility=facility,
                    quantity=move.quantity,
                    actor=actor,
                    approver=approver,
                    reason=reason,
                    reference=reference,
                    detail=move.detail,
                    created_at=now,
                    **{f"{bucket}_delta": move.deltas.get(bucket, 0) for bucket in BUCKETS},
                )
                for number, move in enumerate(moves, start=1)
            ]
            _insert_movements(movements)
            failed = [move for move in moves if not _apply(move=move, facility=facility)]
            if failed:
                raise _shortfall(moves=failed, facility=facility, kind=kind)
            return StockResult(event_id=event_id, movements=movements)
    except (IntegrityError, DomainError):
        # A replay fails on the ledger's unique index (or, for a count, may be refused before reaching it, the
        # stock having moved on since): either way the event is already recorded, so answer with its first result.
        first = _replayed(event_id=event_id, kind=kind)
        if first is None:
            raise
        return first


def _one(*, sku: Sku, quantity: int, deltas_per_unit: dict[str, int], detail: dict[str, Any] | None = None) -> _Move:
    _refuse_kit(sku)
    quantity = _check_quantity(sku, quantity)
    deltas = {bucket: units * quantity for bucket, units in deltas_per_unit.items()}
    return _Move(sku=sku, quantity=quantity, deltas=deltas, detail=detail or {})


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why.", reasons=[Reason("reason_required", "Give the reason for this stock change")])
    return reason


# ---------------------------------------------------------------------------------------------------------------
# Stock: use-cases
# ---------------------------------------------------------------------------------------------------------------


def stock_receive(
    *, sku: Sku, facility: Facility, quantity: int, event_id: str, actor: Actor, reason: str = ""
) -> StockResult:
    """Goods arrived: on hand goes up. Refused unless the SKU is ready for receiving."""
    event_id = _check_event_id(event_id)
    move = _one(sku=sku, quantity=quantity, deltas_per_unit={"on_hand": 1})
    state = Sku.objects.filter(pk=sku.pk).values_list("state", flat=True).first()
    if state != SkuState.READY_FOR_RECEIVING:
        label = SkuState(state).label.lower() if state in SkuState.values else "unknown"
        message = f"SKU {sku.code} is not ready for receiving (it is {label})"
        raise Conflict(message, reasons=[Reason("sku_not_ready_for_receiving", message)])
    return _record(
        event_id=event_id,
        kind=MovementKind.RECEIVE,
        facility=facility,
        moves=[move],
        actor=actor,
        reason=reason,
        ensure_rows=True,
    )


def stock_adjust(*, sku: Sku, facility: Facility, delta: int, event_id: str, actor: Actor, reason: str) -> StockResult:
    """A correction of on hand by `delta` (found, lost, broken), with the reason. Never below what is committed."""
    event_id = _check_event_id(event_id)
    reason = _require_reason(reason)
    _refuse_kit(sku)
    if not isinstance(delta, int) or isinstance(delta, bool) or delta == 0:
        message = f"{sku.code}: adjustment {delta!r} is not a non-zero whole number"
        raise InvalidInput(message, reasons=[Reason("delta_invalid", message)])
    move = _Move(sku=sku, quantity=delta, deltas={"on_hand": delta})
    return _record(
        event_id=event_id,
        kind=MovementKind.ADJUST,
        facility=facility,
        moves=[move],
        actor=actor,
        reason=reason,
        ensure_rows=delta > 0,
    )


def stock_cycle_count(
    *, sku: Sku, facility: Facility, counted: int, event_id: str, actor: Actor, approver: User, reason: str
) -> StockResult:
    """The physical count wins: on hand becomes `counted`; expected, counted, variance and approver are recorded."""
    event_id = _check_event_id(event_id)
    reason = _require_reason(reason)
    _refuse_kit(sku)
    if not isinstance(counted, int) or isinstance(counted, bool) or counted < 0:
        message = f"{sku.code}: counted {counted!r} is not a whole number ≥ 0"
        raise InvalidInput(message, reasons=[Reason("count_invalid", message)])
    if approver is None or not approver.has_perm("inventory.approve_cycle_count"):
        raise NotPermitted(
            "The approver may not approve cycle counts.",
            reasons=[Reason("approver_not_permitted", "The approver needs the approve cycle count permission")],
        )

    def variance_under_lock() -> list[_Move]:
        level = StockLevel.objects.select_for_update().get(sku=sku, facility=facility)
        committed = sum(getattr(level, bucket) for bucket in COMMITTED_BUCKETS)
        if counted < committed:
            message = (
                f"{sku.code}: counted {counted} is below the {committed} units allocated, in pick, quarantined, "
                "damaged or reserved; resolve those first"
            )
            raise Conflict(message, reasons=[Reason("count_below_committed", message)])
        variance = counted - level.on_hand
        detail = {"expected": level.on_hand, "counted": counted, "variance": variance}
        return [_Move(sku=sku, quantity=variance, deltas={"on_hand": variance}, detail=detail)]

    return _record(
        event_id=event_id,
        kind=MovementKind.CYCLE_COUNT,
        facility=facility,
        moves=[_Move(sku=sku, quantity=0, deltas={})],
        prepare=variance_under_lock,
        actor=actor,
        approver=approver,
        reason=reason,
        ensure_rows=True,
    )


def stock_allocate(
    *, facility: Facility, lines: Lines, event_id: str, actor: Actor, reference: str = ""
) -> StockResult:
    """Reserve every line or none (kits as their components); `InsufficientStock` names each short SKU."""
    event_id = _check_event_id(event_id)
    moves = _expand(lines, {"allocated": 1})
    return _record(
        event_id=event_id, kind=MovementKind.ALLOCATE, facility=facility, moves=moves, actor=actor, reference=reference
    )


def stock_release(*, facility: Facility, lines: Lines, event_id: str, actor: Actor, reference: str = "") -> StockResult:
    """Give allocated units back to available (a cancelled or edited order)."""
    event_id = _check_event_id(event_id)
    moves = _expand(lines, {"allocated": -1})
    return _record(
        event_id=event_id, kind=MovementKind.RELEASE, facility=facility, moves=moves, actor=actor, reference=reference
    )


def stock_start_pick(
    *, facility: Facility, lines: Lines, event_id: str, actor: Actor, reference: str = ""
) -> StockResult:
    """The picker starts the lines: allocated → in pick."""
    event_id = _check_event_id(event_id)
    moves = _expand(lines, {"allocated": -1, "in_pick": 1})
    return _record(
        event_id=event_id,
        kind=MovementKind.START_PICK,
        facility=facility,
        moves=moves,
        actor=actor,
        reference=reference,
    )


def stock_ship(*, facility: Facility, lines: Lines, event_id: str, actor: Actor, reference: str = "") -> StockResult:
    """Carrier hand-off: the units leave the building (in pick and on hand drop)."""
    event_id = _check_event_id(event_id)
    moves = _expand(lines, {"in_pick": -1, "on_hand": -1})
    return _record(
        event_id=event_id, kind=MovementKind.SHIP, facility=facility, moves=moves, actor=actor, reference=reference
    )


def stock_unpick(*, facility: Facility, lines: Lines, event_id: str, actor: Actor, reference: str = "") -> StockResult:
    """Picked units go back to the shelf (an order cancelled while picking): in pick → available."""
    event_id = _check_event_id(event_id)
    moves = _expand(lines, {"in_pick": -1})
    return _record(
        event_id=event_id, kind=MovementKind.UNPICK, facility=facility, moves=moves, actor=actor, reference=reference
    )


def stock_reserve(
    *, sku: Sku, facility: Facility, quantity: int, event_id: str, actor: Actor, reason: str, reference: str = ""
) -> StockResult:
    """Ring-fence available units for a contract customer: available → reserved (never oversold: the same
    conditional UPDATE as an allocation)."""
    event_id = _check_event_id(event_id)
    move = _one(sku=sku, quantity=quantity, deltas_per_unit={"reserved": 1})
    return _record(
        event_id=event_id, kind=MovementKind.RESERVE, facility=facility, moves=[move], actor=actor,
        reason=_require_reason(reason), reference=reference,
    )  # fmt: skip


def stock_unreserve(
    *, sku: Sku, facility: Facility, quantity: int, event_id: str, actor: Actor, reason: str, reference: str = ""
) -> StockResult:
    """A ring-fence is no longer needed (contract drawn, reduced or ended): reserved → available."""
    event_id = _check_event_id(event_id)
    move = _one(sku=sku, quantity=quantity, deltas_per_unit={"reserved": -1})
    return _record(
        event_id=event_id, kind=MovementKind.UNRESERVE, facility=facility, moves=[move], actor=actor,
        reason=_require_reason(reason), reference=reference,
    )  # fmt: skip


def stock_allocate_reserved(
    *, facility: Facility, lines: Lines, event_id: str, actor: Actor, reference: str = ""
) -> StockResult:
    """A contract customer's order takes its ring-fenced units: reserved → allocated, all or nothing. A shortfall of
    reserved units is `InsufficientStock` (the order is short of *its* stock), naming each SKU."""
    event_id = _check_event_id(event_id)
    moves = _expand(lines, {"reserved": -1, "allocated": 1})
    try:
        return _record(
            event_id=event_id, kind=MovementKind.ALLOCATE_RESERVED, facility=facility, moves=moves, actor=actor,
            reference=reference,
        )  # fmt: skip
    except Conflict as exc:
        if any(r.code == "insufficient_reserved" for r in exc.reasons):
            raise InsufficientStock(exc.message, reasons=exc.reasons) from exc
        raise


def stock_quarantine(
    *, sku: Sku, facility: Facility, quantity: int, event_id: str, actor: Actor, reason: str
) -> StockResult:
    """Hold available units for inspection: available → quarantine."""
    event_id = _check_event_id(event_id)
    move = _one(sku=sku, quantity=quantity, deltas_per_unit={"quarantine": 1})
    return _record(
        event_id=event_id,
        kind=MovementKind.QUARANTINE,
        facility=facility,
        moves=[move],
        actor=actor,
        reason=_require_reason(reason),
    )


def stock_quarantine_release(
    *, sku: Sku, facility: Facility, quantity: int, event_id: str, actor: Actor, reason: str
) -> StockResult:
    """Inspection passed: quarantine → available."""
    event_id = _check_event_id(event_id)
    move = _one(sku=sku, quantity=quantity, deltas_per_unit={"quarantine": -1})
    return _record(
        event_id=event_id,
        kind=MovementKind.QUARANTINE_RELEASE,
        facility=facility,
        moves=[move],
        actor=actor,
        reason=_require_reason(reason),
    )


def _return_move(
    *, kind: str, deltas: dict[str, int], sku: Sku, facility: Facility, quantity: int, event_id: str, actor: Actor,
    reference: str, reason: str, ensure_rows: bool = False,
) -> StockResult:  # fmt: skip
    event_id = _check_event_id(event_id)
    move = _one(sku=sku, quantity=quantity, deltas_per_unit=deltas)
    return _record(
        event_id=event_id,
        kind=kind,
        facility=facility,
        moves=[move],
        actor=actor,
        reason=reason,
        reference=reference,
        ensure_rows=ensure_rows,
    )


def stock_receive_return(
    *, sku: Sku, facility: Facility, quantity: int, event_id: str, actor: Actor, reference: str = "", reason: str = ""
) -> StockResult:
    """A returned unit arrives: on hand and quarantine go up together, so it is never available before triage."""
    return _return_move(
        kind=MovementKind.RETURN_RECEIVE, deltas={"on_hand": 1, "quarantine": 1}, sku=sku, facility=facility,
        quantity=quantity, event_id=event_id, actor=actor, reference=reference, reason=reason, ensure_rows=True,
    )  # fmt: skip


def stock_restock_return(
    *, sku: Sku, facility: Facility, quantity: int, event_id: str, actor: Actor, reference: str = "", reason: str = ""
) -> StockResult:
    """Triaged sellable: quarantine → available."""
    return _return_move(
        kind=MovementKind.RETURN_RESTOCK, deltas={"quarantine": -1}, sku=sku, facility=facility,
        quantity=quantity, event_id=event_id, actor=actor, reference=reference, reason=reason,
    )  # fmt: skip


def stock_rework_return(
    *, sku: Sku, facility: Facility, quantity: int, event_id: str, actor: Actor, reference: str = "", reason: str = ""
) -> StockResult:
    """Triaged for rework: quarantine → damaged (still on hand, never available)."""
    return _return_move(
        kind=MovementKind.RETURN_REWORK, deltas={"quarantine": -1, "damaged": 1}, sku=sku, facility=facility,
        quantity=quantity, event_id=event_id, actor=actor, reference=reference, reason=reason,
    )  # fmt: skip


def stock_dispose_return(
    *, sku: Sku, facility: Facility, quantity: int, event_id: str, actor: Actor, reference: str = "", reason: str = ""
) -> StockResult:
    """Triaged nonconforming: the units leave quarantine and on hand."""
    return _return_move(
        kind=MovementKind.RETURN_DISPOSE, deltas={"quarantine": -1, "on_hand": -1}, sku=sku, facility=facility,
        quantity=quantity, event_id=event_id, actor=actor, reference=reference, reason=reason,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Invariant: every bucket equals the sum of its ledger
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StockDrift:
    sku_id: int
    facility_id: int
    buckets: dict[str, tuple[int, int]]  # bucket → (stored, derived from the ledger)


def inventory_verify_ledger(*, facility: Facility | None = None) -> list[StockDrift]:
    """Re-derive every bucket from the movement ledger; open an INVENTORY_DRIFT exception per drifting stock row.

    Re-running adds no duplicate (the exception is deduplicated while open); it never resolves one by itself."""
    movements = Movement.objects.all()
    levels = StockLevel.objects.select_related("sku__brand", "facility")
    if facility is not None:
        movements, levels = movements.filter(facility=facility), levels.filter(facility=facility)
    sums = movements.values("sku_id", "facility_id").annotate(**{bucket: Sum(f"{bucket}_delta") for bucket in BUCKETS})
    ledger = {(row["sku_id"], row["facility_id"]): row for row in sums}
    drifts: list[StockDrift] = []
    for level in levels.iterator(chunk_size=2000):
        derived = ledger.pop((level.sku_id, level.facility_id), {})
        buckets = {
            bucket: (getattr(level, bucket), int(derived.get(bucket) or 0))
            for bucket in BUCKETS
            if getattr(level, bucket) != int(derived.get(bucket) or 0)
        }
        if not buckets:
            continue
        drifts.append(StockDrift(sku_id=level.sku_id, facility_id=level.facility_id, buckets=buckets))
        exception_open(
            kind=ExceptionKind.INVENTORY_DRIFT,
            summary=f"{level.sku.code} at {level.facility.code}: stock differs from its movement ledger",
            reasons=[
                Reason(f"{bucket}_drift", f"{bucket.replace('_', ' ')} is {stored} but the ledger says {derived_value}")
                for bucket, (stored, derived_value) in buckets.items()
            ],
            subject=level,
            brand=level.sku.brand,
            facility=level.facility,
            detail={"buckets": {bucket: {"stored": s, "ledger": d} for bucket, (s, d) in buckets.items()}},
        )
    for (sku_id, facility_id), row in ledger.items():  # ledger rows with no stock row at all
        buckets = {bucket: (0, int(row[bucket] or 0)) for bucket in BUCKETS if row[bucket]}
        if not buckets:
            continue
        drifts.append(StockDrift(sku_id=sku_id, facility_id=facility_id, buckets=buckets))
        sku = Sku.objects.select_related("brand").get(pk=sku_id)
        exception_open(
            kind=ExceptionKind.INVENTORY_DRIFT,
            summary=f"{sku.code}: the ledger has movements but facility {facility_id} has no stock row",
            reasons=[Reason("stock_row_missing", f"{b} should be {d}") for b, (_, d) in buckets.items()],
            subject=sku,
            brand=sku.brand,
            dedupe_key=exception_dedupe_key(kind=ExceptionKind.INVENTORY_DRIFT, subject=sku, extra=str(facility_id)),
        )
    return drifts


def catalog_drift_open_exceptions(*, brand: Brand | None = None) -> int:
    """Open one CATALOG_DRIFT exception per SKU missing weight, dimensions or HS code, naming what is missing.

    Re-running adds no duplicate (deduplicated while open) and never closes one: a person fixes the SKU and resolves."""
    opened = 0
    for sku in catalog_drift(brand=brand).iterator(chunk_size=500):
        missing = sku_missing_fields(sku)
        exception_open(
            kind=ExceptionKind.CATALOG_DRIFT,
            summary=f"{sku.code} ({sku.brand.name}) is missing {', '.join(missing)}",
            reasons=[
                Reason(f"{name.replace(' ', '_').lower()}_missing", f"{sku.code} has no {name}") for name in missing
            ],
            subject=sku,
            brand=sku.brand,
        )
        opened += 1
    return opened
