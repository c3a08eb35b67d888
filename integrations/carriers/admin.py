"""The console's page of carrier accounts: administrators choose a registered carrier, a facility (and a brand when
the brand brings its own contract) and set credentials, which are write-only (the form never shows a stored secret,
only its fingerprint), through `integrations.carriers.accounts`."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from integrations.carriers import accounts
from integrations.carriers.models import CarrierAccount
from integrations.carriers.registry import choices, connector_for, is_registered
from warehouse.admin import ConsoleAdmin
from warehouse.errors import DomainError

SECRETS_PERMISSION = "carriers.manage_carrier_secrets"


class CarrierAccountForm(forms.ModelForm):
    """Plain fields plus write-only credentials: blank means "keep the stored ones"."""

    carrier = forms.ChoiceField(choices=(), help_text="A carrier this hub ships with")
    new_credentials = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "size": 60}),
        help_text="A JSON object of the carrier's credentials. Leave blank to keep the stored ones.",
    )

    class Meta:
        model = CarrierAccount
        fields = ["carrier", "name", "facility", "brand", "api_base_url", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        carrier_field = self.fields["carrier"]
        assert isinstance(carrier_field, forms.ChoiceField)
        carrier_field.choices = [("", "---------"), *choices()]
        fields = self.instance.carrier and is_registered(self.instance.carrier)
        if fields:
            names = ", ".join(f.name for f in connector_for(self.instance.carrier).credential_fields)
            self.fields["new_credentials"].help_text += f" Fields: {names}."

    def clean_new_credentials(self) -> dict[str, Any] | None:
        raw = self.cleaned_data.get("new_credentials", "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except ValueError:
            raise forms.ValidationError("Credentials must be a JSON object.") from None  # never echo the value
        if not isinstance(value, dict):
            raise forms.ValidationError("Credentials must be a JSON object.")
        carrier = self.cleaned_data.get("carrier") or self.instance.carrier
        if carrier and is_registered(carrier):
            problems = connector_for(carrier).credential_problems(value)
            if problems:
                raise forms.ValidationError(problems)
        return value


@admin.register(CarrierAccount)
class CarrierAccountAdmin(ConsoleAdmin):
    form = CarrierAccountForm
    brand_field = None  # staff configuration: a facility's accounts serve every brand
    list_display = ["name", "carrier_name", "facility", "brand", "active", "credentials_fingerprint"]
    list_filter = ["carrier", "active", "facility"]
    list_select_related = ["facility", "brand"]
    search_fields = ["name"]
    readonly_fields = ["credentials_fingerprint", "created_at"]
    fieldsets = [
        (None, {"fields": ["carrier", "name", "facility", "brand", "api_base_url", "active", "created_at"]}),
        ("Credentials (write-only)", {"fields": ["new_credentials", "credentials_fingerprint"]}),
    ]

    @admin.display(description="Carrier")
    def carrier_name(self, obj: CarrierAccount) -> str:
        return obj.carrier_name

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if not self.has_change_permission(request, obj):
            return [fs for fs in self.fieldsets if fs[0] != "Credentials (write-only)"]
        return self.fieldsets

    def save_model(self, request: HttpRequest, obj: CarrierAccount, form: Any, change: bool) -> None:
        credentials = form.cleaned_data.get("new_credentials")
        if credentials and not request.user.has_perm(SECRETS_PERMISSION):
            raise PermissionDenied("You may not set carrier credentials.")
        obj._history_user = request.user  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)
        if credentials:
            try:
                accounts.carrier_account_set_credentials(account=obj, credentials=credentials, actor=request.user)  # type: ignore[arg-type]
            except DomainError as exc:
                messages.error(request, exc.message)
