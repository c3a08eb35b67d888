"""The allocation check: the orders' allocation rows against the inventory's `allocated` bucket. (The check of the
buckets against their own ledger stays in `inventory`.) Units sit in `allocated` from an order's acceptance until it
is released to pick, so for every facility and stocked SKU the rows of accepted orders (a kit line expanded into its
components) must add up to the bucket; where they do not, one exception per stock level names every row involved."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from inventory.kits import kit_recipes
from inventory.models import StockLevel
from orders.models import AllocationRow, OrderState
from warehouse.errors import Reason
from warehouse.models import ExceptionKind, Facility
from warehouse.services import exception_open


@dataclass(frozen=True)
class Disagreement:
    level: StockLevel
    rows_say: int
    rows: list[AllocationRow]


def allocation_rows_check(*, facility: Facility | None = None) -> list[Disagreement]:
    """Compare; open (or refresh) an `inventory_drift` exception for each stock level whose `allocated` differs from
    its accepted orders' rows, naming each of those rows. Returns the disagreements (none: everything agrees)."""
    rows = AllocationRow.objects.filter(order__state=OrderState.ACCEPTED).select_related("sku", "order", "line")
    if facility is not None:
        rows = rows.filter(facility=facility)
    held = list(rows.order_by("facility_id", "sku_id", "id"))
    recipes = kit_recipes({row.sku_id for row in held if row.sku.is_kit})
    expected: dict[tuple[int, int], int] = {}
    involved: dict[tuple[int, int], list[AllocationRow]] = {}
    for row in held:
        for component, per_unit in (recipes.get(row.sku_id) or {row.sku_id: 1}).items():
            key = (row.facility_id, component)
            expected[key] = expected.get(key, 0) + row.quantity * per_unit
            involved.setdefault(key, []).append(row)
    levels = StockLevel.objects.select_related("sku__brand", "facility")
    if facility is not None:
        levels = levels.filter(facility=facility)
    found = []
    wanted = ~Q(allocated=0) | Q(sku_id__in={sku_id for _, sku_id in expected})
    for level in levels.filter(wanted).order_by("facility_id", "sku_id"):
        rows_say = expected.get((level.facility_id, level.sku_id), 0)
        if rows_say != level.allocated:
            found.append(Disagreement(level, rows_say, involved.get((level.facility_id, level.sku_id), [])))
    for disagreement in found:
        _open(disagreement)
    return found


def _open(found: Disagreement) -> None:
    level = found.level
    where = f"{level.sku.code} at {level.facility.code}"
    reasons = [
        Reason(
            "allocation_row_disagrees",
            f"row {row.pk}: order {row.order.platform_order_id or row.order_id} line {row.line.line_number}, "
            f"{row.quantity} × {row.sku.code} ({row.get_source_display().lower()}, event {row.event_id})",
        )
        for row in found.rows
    ] or [Reason("allocation_rows_missing", f"no accepted order's row holds the {level.allocated} allocated unit(s)")]
    exception_open(
        kind=ExceptionKind.INVENTORY_DRIFT,
        summary=f"Allocation rows disagree with the allocated bucket: {where}: rows {found.rows_say}, bucket "
        f"{level.allocated}",
        reasons=reasons,
        subject=level,
        brand=level.sku.brand,
        facility=level.facility,
        dedupe_key=f"allocation_rows:{level.pk}",
        detail={"rows": [row.pk for row in found.rows], "rows_say": found.rows_say, "allocated": level.allocated},
    )
