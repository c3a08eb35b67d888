"""Console pages of orders and shipments: steps offered only where the orders app has a service for them (stock and
the support timeline move there), forced transitions with a reason, history, fast brand-scoped lists."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from orders.models import AllocationRow, Order, OrderEvent, OrderLine, Shipment, shipment_rows
from orders.selectors import by_platform_order_id
from orders.transition_services import transition_service
from warehouse.admin import TransitionAdmin


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderLineInline(_ReadOnlyInline):
    model = OrderLine
    fields = ["line_number", "sku_code", "quantity_received", "quantity", "title"]
    readonly_fields = ["line_number", "sku_code", "quantity_received", "quantity", "title"]


class AllocationRowInline(_ReadOnlyInline):
    model = AllocationRow
    fields = ["line", "facility", "sku", "quantity", "source", "event_id"]
    readonly_fields = ["line", "facility", "sku", "quantity", "source", "event_id"]


class OrderEventInline(_ReadOnlyInline):
    model = OrderEvent
    fields = ["at", "kind", "message", "actor"]
    readonly_fields = ["at", "kind", "message", "actor"]
    ordering = ["at", "id"]


@admin.register(Order)
class OrderAdmin(TransitionAdmin):
    list_display = ["__str__", "brand", "channel", "state", "facility", "ship_by", "created_at"]
    list_filter = ["state", "source", "channel"]  # plain columns: no join, no DISTINCT
    list_select_related = ["brand", "facility", "channel"]
    search_fields = ["=platform_order_id"]  # exact match uses the index; no LIKE scan over millions of rows
    ordering = ["-created_at", "-id"]
    readonly_fields = [
        "brand",
        "source",
        "channel",
        "platform_order_id",
        "state",
        "hold_reasons",
        "facility",
        "created_at",
        "updated_at",
        "last_activity_at",
    ]
    exclude = ["extra", "stock_round"]
    inlines = [OrderLineInline, AllocationRowInline, OrderEventInline]
    offer_without_service = False

    def get_transition_service(self, name: str) -> Any:
        return transition_service("order", name)

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        """Exact order id through the unique indexes (no LIKE, no scan of a million rows)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(by_platform_order_id(term, request.user)), False  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders arrive through ingestion or the API's manual entry

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # edits go through the order page's delivery fix (the order service re-validates)


@admin.register(Shipment)
class ShipmentAdmin(TransitionAdmin):
    list_display = ["id", "order", "carrier", "tracking_number", "state", "handed_at", "acknowledged_at"]
    list_filter = ["state", "carrier"]
    list_select_related = ["order", "order__brand"]
    search_fields = ["=tracking_number"]
    raw_id_fields = ["order"]
    readonly_fields = [
        "order",
        "state",
        "label_created_at",
        "handed_at",
        "acknowledged_at",
        "delivered_at",
        "created_at",
        "closed_manually_reason",
        "carries",
    ]
    brand_field = "order__brand"
    offer_without_service = False

    @admin.display(description="Carries (the order's allocation rows at its facility)")
    def carries(self, obj: Shipment) -> str:
        rows = shipment_rows(obj)
        return "; ".join(f"line {r.line.line_number}: {r.quantity} × {r.sku.code} ({r.source})" for r in rows) or "—"

    def get_transition_service(self, name: str) -> Any:
        if name == "deliver":  # a manager's manual close: only through the force form, with a reason
            return _close_manually
        return transition_service("shipment", name)

    def transition_buttons(self, request: HttpRequest, obj: Any) -> list[dict[str, Any]]:
        return [b for b in super().transition_buttons(request, obj) if b["name"] != "deliver"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _close_manually(*, obj: Any, actor: Any, reason: str = "", force: bool = False) -> Any:
    from orders.services import shipment_close_manually

    return shipment_close_manually(shipment=obj, actor=actor, reason=reason)
