"""The number each channel is offered for a SKU (seed 000 §03 "The mixed-channel inventory call"): available across
facilities, less units ring-fenced for wholesale contracts, plus pre-order units promised against scheduled inbound
(virtual stock), less the connection's safety buffer. Kits offer their derived availability. A channel-owned pool
(stock the marketplace itself holds and fulfils from) is the channel's own and is never written."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, Sum

from integrations.models import Connection
from integrations.publishing.models import PoolKind, PublishSettings
from inventory.models import KitComponent, Sku, StockLevel
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
    fenced = (
        ContractReservation.objects.filter(sku_id__in=ids, drawn__lt=F("quantity"))
        .values("sku_id", "facility_id")
        .annotate(units=Sum(F("quantity") - F("drawn")))
    )
    for row in fenced:
        per = pools[row["sku_id"]]
        unfilled = max(0, int(row["units"]) - reserved.get((row["sku_id"], row["facility_id"]), 0))
        per[row["facility_id"]] = max(0, per.get(row["facility_id"], 0) - unfilled)
    return pools


def sellable(skus: Iterable[Sku]) -> dict[int, int]:
    """{sku_id: units every shared-pool channel may sell before its buffer}. A handful of queries for any number
    of SKUs (the publisher calls it once per cycle)."""
    skus = list(skus)
    kits = [s.pk for s in skus if s.is_kit]
    recipes: dict[int, list[tuple[int, int]]] = {}
    for kit_id, component_id, quantity in KitComponent.objects.filter(kit_id__in=kits).values_list(
        "kit_id", "component_id", "quantity"
    ):
        recipes.setdefault(kit_id, []).append((component_id, quantity))
    stocked = {s.pk for s in skus if not s.is_kit} | {c for parts in recipes.values() for c, _ in parts}
    pools = _plain_pools(stocked)
    virtual: dict[int, int] = {}
    for row in (
        ScheduledInbound.objects.filter(sku_id__in=list(stocked), received=False)
        .values("sku_id")
        .annotate(units=Sum(F("preorder_limit") - F("preordered")))
    ):
        virtual[row["sku_id"]] = max(0, int(row["units"] or 0))
    result: dict[int, int] = {}
    for sku in skus:
        if sku.is_kit:
            parts = recipes.get(sku.pk, [])
            facilities = set().union(*(pools[c].keys() for c, _ in parts)) if parts else set()
            result[sku.pk] = sum(
                min(pools[c].get(f, 0) // q for c, q in parts) for f in facilities
            )  # a kit is built in one facility
        else:
            result[sku.pk] = sum(pools[sku.pk].values()) + virtual.get(sku.pk, 0)
    return result


def offered(*, settings: PublishSettings, pool: int) -> int | None:
    """What this connection is told, or None when it is never written (a channel-owned pool)."""
    if settings.pool == PoolKind.CHANNEL_OWNED:
        return None
    return max(0, pool - settings.safety_buffer)


def kits_using(sku_ids: Iterable[int]) -> set[int]:
    return set(KitComponent.objects.filter(component_id__in=list(sku_ids)).values_list("kit_id", flat=True))
