"""Console pages of the catalog, stock and the ledger. Stock never changes here: the ledger is append-only and
numbers move through `inventory.services` (a count correction through a proposal a manager approves)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from inventory import services
from inventory.models import Barcode, KitComponent, Movement, Sku, SkuAlias, StockLevel
from warehouse.admin import ConsoleAdmin, TransitionAdmin


class _ReadOnly(ConsoleAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class KitComponentInline(admin.TabularInline):
    model = KitComponent
    fk_name = "kit"
    extra = 0
    raw_id_fields = ["component"]


@admin.register(Sku)
class SkuAdmin(TransitionAdmin):
    list_display = ["code", "title", "brand", "state", "is_kit", "weight_grams", "hs_code"]
    list_filter = ["state", "is_kit"]
    list_select_related = ["brand"]
    search_fields = ["=code", "title"]
    readonly_fields = ["state", "created_at"]
    raw_id_fields = ["brand"]
    inlines = [KitComponentInline]
    transition_services = {
        "assign_variants": lambda *, obj, actor, reason: services.sku_assign_variants(
            sku=obj, actor=actor, reason=reason
        ),
        "lock_pack_configuration": lambda *, obj, actor, reason: services.sku_lock_pack_configuration(
            sku=obj, actor=actor, reason=reason
        ),
        "mark_ready_for_receiving": lambda *, obj, actor, reason: services.sku_mark_ready_for_receiving(
            sku=obj, actor=actor, reason=reason
        ),
    }

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # SKUs are retired through aliases, never deleted under stock and orders

    # SKUs are created and edited on the catalogue pages (inventory/catalog_pages.py), which ask why and keep the
    # code, the pack configuration and the brand's ERP ownership rules; the console shows them read-only.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SkuAlias)
class SkuAliasAdmin(_ReadOnly):
    list_display = ["code", "sku", "brand", "valid_from", "valid_until"]
    list_select_related = ["sku", "brand"]
    search_fields = ["=code"]


@admin.register(Barcode)
class BarcodeAdmin(_ReadOnly):
    list_display = ["value", "sku", "brand", "is_legacy", "valid_from", "valid_until"]
    list_select_related = ["sku", "brand"]
    search_fields = ["=value"]


@admin.register(StockLevel)
class StockLevelAdmin(_ReadOnly):
    list_display = [
        "sku",
        "facility",
        "on_hand",
        "allocated",
        "in_pick",
        "quarantine",
        "damaged",
        "reserved",
        "available_units",
    ]
    list_select_related = ["sku", "sku__brand", "facility"]
    search_fields = ["=sku__code"]
    brand_field = "sku__brand"

    def get_queryset(self, request: HttpRequest) -> Any:
        queryset: Any = super().get_queryset(request)
        return queryset.with_available()

    @admin.display(description="available", ordering="available")
    def available_units(self, level: Any) -> int:
        return int(level.available)


@admin.register(Movement)
class MovementAdmin(_ReadOnly):
    list_display = [
        "created_at",
        "event_id",
        "kind",
        "sku",
        "facility",
        "quantity",
        "on_hand_delta",
        "actor",
        "approver",
        "reason",
    ]
    list_filter = ["kind"]
    list_select_related = ["sku", "facility", "actor", "approver"]
    search_fields = ["=event_id", "=reference"]
    brand_field = "sku__brand"
