"""Carrier accounts: one per facility and carrier, or per brand when the brand brings its own contract. The carrier
is a code of `integrations.carriers.registry` (an unregistered one cannot be saved); credentials are sealed in the
vault, write-only, and never reach history (their fingerprint does)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from integrations.carriers.registry import UnknownCarrier, connector_for, is_registered
from integrations.vault import Sealed, SealedField
from warehouse.models import Brand, Facility


def carrier_check(code: str) -> None:
    """A `ValidationError` on `carrier`, naming the carriers on offer, unless `code` is registered."""
    try:
        connector_for(code)
    except UnknownCarrier as exc:
        raise ValidationError({"carrier": str(exc)}, code="unknown_carrier") from None


def api_host_problem(*, carrier: str, api_base_url: str) -> str:
    """Why the kit would refuse to send this account's credentials to its API host ("" when it would not)."""
    connector = connector_for(carrier)
    base_url = connector.api_base_url(api_base_url=api_base_url)
    host = urlsplit(base_url).hostname or ""
    if not connector.api_host_allowed(host):
        return f"{host or base_url!r} is not a {connector.name} API host"
    return ""


class CarrierAccount(models.Model):
    """The contract labels are bought on. `brand` empty: the facility's own account, for every brand shipped from
    there; set: the brand's own contract at that facility, used for its parcels instead."""

    carrier = models.CharField(max_length=30, help_text="A registered carrier's code")
    name = models.CharField(max_length=120)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="carrier_accounts")
    brand = models.ForeignKey(
        Brand,
        on_delete=models.PROTECT,
        related_name="carrier_accounts",
        null=True,
        blank=True,
        help_text="Only when the brand brings its own contract; empty: the facility's account for every brand",
    )
    api_base_url = models.CharField(
        max_length=255, blank=True, help_text="The carrier API's base URL (empty: the carrier's production API)"
    )
    credentials = SealedField(help_text="Sealed JSON object; never shown")
    credentials_fingerprint = models.CharField(max_length=8, blank=True, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(excluded_fields=["credentials"])

    class Meta:
        ordering = ["facility__code", "carrier", "name"]
        permissions = [("manage_carrier_secrets", "Can set carrier account credentials")]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "facility"], condition=Q(brand__isnull=True), name="one_facility_account_per_carrier"
            ),
            models.UniqueConstraint(fields=["carrier", "facility", "brand"], name="one_brand_account_per_carrier"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.carrier_name})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuses a carrier with no registered connector (whatever the caller validated)."""
        fields = kwargs.get("update_fields")
        if fields is None or "carrier" in fields:
            carrier_check(self.carrier)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        carrier_check(self.carrier)
        problem = api_host_problem(carrier=self.carrier, api_base_url=self.api_base_url)
        if problem:
            raise ValidationError({"api_base_url": problem}, code="api_host_refused")

    @property
    def carrier_name(self) -> str:
        return connector_for(self.carrier).name if is_registered(self.carrier) else self.carrier

    def credentials_get(self) -> dict[str, Any]:
        """The decrypted credentials, for the moment of use. Never log, store or return the result."""
        sealed = self.credentials
        if not isinstance(sealed, Sealed):
            return {}
        value = json.loads(sealed.reveal())
        return value if isinstance(value, dict) else {}

    def secret_values(self) -> list[str]:
        """Every secret string this account holds (for redaction of audit bodies); identifiers stay readable."""
        values = self.credentials_get()
        if not is_registered(self.carrier):
            return [v for v in values.values() if isinstance(v, str) and v]
        named = {f.name for f in connector_for(self.carrier).credential_fields if not f.secret}
        return [v for k, v in values.items() if isinstance(v, str) and v and k not in named]
