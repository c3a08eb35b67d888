"""Kits, the one place for their rules: a kit holds no stock of its own; `quantity` units of each component make one
kit unit, and a kit unit is built in one facility. So stock moves expand a kit into its components, and a kit's
availability at a facility is min over its components of ⌊component units ÷ units per kit⌋ (summed over facilities
when no facility is given). Allocation, routing, the stock selectors and the channels' publishing pool use these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from inventory.models import KitComponent, Sku, StockLevel
from warehouse.models import Facility

Lines = Sequence[tuple[Sku, int]]
Recipe = dict[int, int]  # component sku id → units per kit


def kit_parts(kit_ids: Iterable[int]) -> dict[int, list[KitComponent]]:
    """{kit_id: its component rows, each with its component SKU}; one query (none without kits)."""
    ids = list(kit_ids)
    parts: dict[int, list[KitComponent]] = {}
    for part in KitComponent.objects.filter(kit_id__in=ids).select_related("component") if ids else ():
        parts.setdefault(part.kit_id, []).append(part)
    return parts


def kit_recipes(kit_ids: Iterable[int]) -> dict[int, Recipe]:
    """{kit_id: {component_id: units per kit}}; a kit without components has an empty recipe."""
    ids = list(kit_ids)
    recipes: dict[int, Recipe] = {kit_id: {} for kit_id in ids}
    rows = KitComponent.objects.filter(kit_id__in=ids).values_list("kit_id", "component_id", "quantity") if ids else ()
    for kit_id, component_id, quantity in rows:
        recipes[kit_id][component_id] = quantity
    return recipes


def kits_using(sku_ids: Iterable[int]) -> set[int]:
    """The kits that have any of `sku_ids` as a component (their availability moves with it)."""
    return set(KitComponent.objects.filter(component_id__in=list(sku_ids)).values_list("kit_id", flat=True))


def expand_lines(lines: Lines) -> tuple[dict[int, int], dict[int, Recipe]]:
    """Total stocked units needed per SKU (kits into components), and each line SKU's recipe {component: per unit}
    (a plain SKU is its own recipe, {sku: 1})."""
    recipes = kit_recipes(sku.pk for sku, _ in lines if sku.is_kit)
    need: dict[int, int] = {}
    for sku, quantity in lines:
        recipe = recipes.get(sku.pk, {}) if sku.is_kit else {sku.pk: 1}
        recipes.setdefault(sku.pk, recipe)
        for component, per_unit in recipe.items():
            need[component] = need.get(component, 0) + per_unit * quantity
    return need, recipes


def kit_units(recipe: Mapping[int, int], stock: Mapping[int, int]) -> int:
    """Kit units one facility can build from `stock` ({component_id: units}); none without a recipe."""
    if not recipe:
        return 0
    return min(stock.get(component, 0) // per_kit for component, per_kit in recipe.items())


def kit_units_everywhere(recipe: Mapping[int, int], stock: Mapping[int, Mapping[int, int]]) -> int:
    """Kit units over facilities, `stock` {facility_id: {component_id: units}}: each facility builds its own."""
    return sum(kit_units(recipe, at) for at in stock.values())


def kit_available(*, sku: Sku, facility: Facility | None = None) -> int:
    """A kit's available units from its components' `available`: at one facility, or summed over facilities."""
    recipe = kit_recipes([sku.pk])[sku.pk]
    if not recipe:
        return 0
    levels = StockLevel.objects.filter(sku_id__in=list(recipe)).with_available()
    if facility is not None:
        levels = levels.filter(facility=facility)
    per_facility: dict[int, dict[int, int]] = {}
    for sku_id, facility_id, available in levels.values_list("sku_id", "facility_id", "available"):  # type: ignore[misc]
        per_facility.setdefault(facility_id, {})[sku_id] = available
    return kit_units_everywhere(recipe, per_facility)
