"""Console pages of the brands' commercial terms: rate cards and SLA credit tiers. Administrators edit them, each
edit asks why (kept in history); finance reads them. A card is never deleted: a new card from a later date replaces
it, so past months keep the price they were billed at."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import ForeignKey
from django.forms import ModelChoiceField
from django.http import HttpRequest

from reports.models import RateCard, SlaCreditTier
from warehouse.admin import ConsoleAdmin, HistoryAdmin
from warehouse.roles import brands_visible_to


class _WithReason(forms.ModelForm):
    reason = forms.CharField(max_length=300, help_text="Why this change (kept in the history)")


class _CommercialTermsAdmin(ConsoleAdmin, HistoryAdmin):
    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        kwargs["form"] = _WithReason
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [f for f in super().get_fields(request, obj) if f != "reason"]
        may_save = self.has_change_permission(request, obj) if obj else self.has_add_permission(request)
        return [*fields, "reason"] if may_save else fields

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        obj._change_reason = form.cleaned_data["reason"]  # simple-history's documented way to record why
        super().save_model(request, obj, form, change)

    def formfield_for_foreignkey(self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any) -> ModelChoiceField:
        if db_field.name == "brand":
            kwargs["queryset"] = brands_visible_to(request.user)  # type: ignore[arg-type]
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[return-value]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RateCard)
class RateCardAdmin(_CommercialTermsAdmin):
    list_display = ["brand", "valid_from", "currency", "per_unit_received", "per_unit_picked", "per_order_packed",
                    "per_shipment", "label_markup_percent", "storage_per_unit_day"]  # fmt: skip
    list_select_related = ["brand"]
    list_filter = ["brand"]


@admin.register(SlaCreditTier)
class SlaCreditTierAdmin(_CommercialTermsAdmin):
    list_display = ["brand", "attainment_below", "credit_per_late_order", "currency"]
    list_select_related = ["brand"]
    list_filter = ["brand"]
