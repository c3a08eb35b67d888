"""The number each channel is offered for a SKU (seed 000 §03 "The mixed-channel inventory call"): available across
facilities, less units ring-fenced for wholesale contracts, plus pre-order units promised against scheduled inbound
(virtual stock), less the connection's safety buffer. Kits offer their derived availability. A channel-owned pool
(stock the marketplace itself holds and fulfils from) is the channel's own and is never written."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, Sum

from integrations.models import Connection
from integrations.publishing.models import PoolKind, PublishSettings
from inventory.kits import kit_recipes, kit_units_everywhere
from inventory.models import Sku, StockLevel
from orders.allocation.models import ContractReservation, ScheduledInbound


def settings_for(connection: Connection) -> PublishSettings:
    found = PublishSettings.objects.filter(connection=connection).first()
    return found or PublishSettings(connection=connection)


def _plain_pools(sku_ids: Iterable[int]) -> dict[int, dict[int, int]]:
    """{sku_id: {facility_id: sellable units}} for stocked SKUs (available less contract ring-fences). Filled
    reservations already sit in the `reserved` bucket (outside `available`); only what contracts still lack there
    is taken off again."""
    ids = list(sku_ids)
    pools: dict[int, dict[int, int]] = {sku_id: {} for sku_id in ids}
    reserved: dict[tuple[int, int], int] = {}
    levels = StockLevel.objects.filter(sku_id__in=ids).with_available()
    for sku_id, facility_id, available, held in levels.values_list("sku_id", "facility_id", "available", "reserved"):  # type: ignore[misc]
        pools[sku_id][facility_id] = int(available)
        reserved[(sku_id, facility_id)] = int(held)
    owed: dict[tuple[int, int], int] = {}
    for row in ContractReservation.objects.filter(sku_id__in=ids).owed():
        key = (row["sku_id"], row["facility_id"])
        owed[key] = owed.get(key, 0) + int(row["units"])
    for (sku_id, facility_id), units in owed.items():
        per = pools[sku_id]
        unfilled = max(0, units - reserved.get((sku_id, facility_id), 0))
        per[facility_id] = max(0, per.get(facility_id, 0) - unfilled)
    return pools


def sellable(skus: Iterable[Sku]) -> dict[int, int]:
    """{sku_id: units every shared-pool channel may sell before its buffer}. A handful of queries for any number
    of SKUs (the publisher calls it once per cycle)."""
    skus = list(skus)
    recipes = kit_recipes(s.pk for s in skus if s.is_kit)
    stocked = {s.pk for s in skus if not s.is_kit} | {c for recipe in recipes.values() for c in recipe}
    pools = _plain_pools(stocked)
    virtual: dict[int, int] = {}
    for row in (
        ScheduledInbound.objects.open()
        .of_skus(stocked)
        .values("expected_line__sku_id")
        .annotate(units=Sum(F("preorder_limit") - F("preordered")))
    ):
        virtual[row["expected_line__sku_id"]] = max(0, int(row["units"] or 0))
    result: dict[int, int] = {}
    for sku in skus:
        if sku.is_kit:  # per facility: a kit is built in one place
            recipe = recipes[sku.pk]
            at: dict[int, dict[int, int]] = {}
            for component in recipe:
                for facility_id, units in pools[component].items():
                    at.setdefault(facility_id, {})[component] = units
            result[sku.pk] = kit_units_everywhere(recipe, at)
        else:
            result[sku.pk] = sum(pools[sku.pk].values()) + virtual.get(sku.pk, 0)
    return result


def offered(*, settings: PublishSettings, pool: int) -> int | None:
    """What this connection is told, or None when it is never written (a channel-owned pool)."""
    if settings.pool == PoolKind.CHANNEL_OWNED:
        return None
    return max(0, pool - settings.safety_buffer)
