"""The console's shipping pages: administrators edit the service rules (each save asks why; history keeps who and
why), everyone who reads shipments sees labels and manifests (read only: they change through the shipping
services, never by editing a row)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from integrations.carriers.registry import choices
from integrations.shipping.models import Label, Manifest, ShippingRule
from warehouse.admin import ConsoleAdmin, HistoryAdmin


class ShippingRuleForm(forms.ModelForm):
    carrier = forms.ChoiceField(choices=())
    change_reason = forms.CharField(
        max_length=100, label="Why this change (kept in the history)", help_text="Required: who and why are recorded"
    )

    class Meta:
        model = ShippingRule
        fields = [
            "name",
            "priority",
            "brand",
            "facility",
            "requirement",
            "channel",
            "zone",
            "countries",
            "min_weight_grams",
            "max_weight_grams",
            "max_side_mm",
            "carrier",
            "service",
            "active",
            "proposed",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        carrier = self.fields["carrier"]
        assert isinstance(carrier, forms.ChoiceField)
        carrier.choices = [("", "---------"), *choices()]


@admin.register(ShippingRule)
class ShippingRuleAdmin(ConsoleAdmin, HistoryAdmin):
    form = ShippingRuleForm
    brand_field = None  # configuration, read by staff for every brand
    list_display = ["name", "priority", "brand", "facility", "requirement", "zone", "carrier", "service", "active",
                    "proposed"]  # fmt: skip
    list_filter = ["active", "proposed", "carrier", "requirement", "zone"]
    search_fields = ["name"]

    def save_model(self, request: HttpRequest, obj: ShippingRule, form: Any, change: bool) -> None:
        obj._history_user = request.user  # type: ignore[attr-defined]
        obj._change_reason = form.cleaned_data["change_reason"]  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: ShippingRule) -> None:
        obj._history_user = request.user  # type: ignore[attr-defined]
        obj._change_reason = "deleted"  # type: ignore[attr-defined]
        super().delete_model(request, obj)


class ReadOnlyAdmin(ConsoleAdmin, HistoryAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Label)
class LabelAdmin(ReadOnlyAdmin):
    brand_field = "shipment__order__brand"
    list_display = ["tracking_number", "carrier", "service", "shipment", "cost", "currency", "manifest", "picked_up_at",
                    "voided_at", "created_at"]  # fmt: skip
    list_filter = ["carrier"]
    search_fields = ["tracking_number"]
    list_select_related = ["shipment", "manifest__account", "manifest__facility"]
    exclude = ["path"]


@admin.register(Manifest)
class ManifestAdmin(ReadOnlyAdmin):
    brand_field = None
    list_display = ["day", "account", "facility", "closed_at", "closed_by", "carrier_reference"]
    list_select_related = ["account", "facility", "closed_by"]
