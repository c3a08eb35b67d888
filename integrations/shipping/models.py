"""Shipping's records: the service rules administrators edit (with history: who and why), the labels bought for
parcels (the carrier's files, their SHA-256 and cost, void before hand-off), and the day's manifests per carrier
account and facility."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from integrations.carriers.models import CarrierAccount
from integrations.carriers.registry import connector_for, is_registered
from orders.models import Parcel, Shipment
from warehouse.models import Brand, Facility, SalesChannel


class Requirement(models.TextChoices):
    """What the order asks of delivery. `channel` is the channel's own promise (a rule bound to one channel)."""

    ANY = "any", "Any requirement"
    NEXT_DAY = "next_day", "Next day"
    STANDARD = "standard", "Standard"
    ECONOMY = "economy", "Economy"
    CHANNEL = "channel", "The channel's promise"


class Zone(models.TextChoices):
    ANY = "any", "Anywhere"
    DOMESTIC = "domestic", "Domestic (the facility's country)"
    CUSTOMS_UNION = "customs_union", "EU customs union, abroad"
    OUTSIDE = "outside", "Outside the customs union"


class ShippingRule(models.Model):
    """One line of the service table: orders of `brand` (empty: every brand) shipped from `facility` (empty: every
    facility) whose requirement, zone, heaviest parcel and longest side fall in its bands go with `carrier` and
    `service`. The lowest `priority` that matches wins; no match holds the order, never a guessed service.

    `active` rules choose services now; `proposed` ones form the set the dry run tries (publish makes it live)."""

    name = models.CharField(max_length=120)
    priority = models.PositiveIntegerField(default=100, help_text="Lower is tried first")
    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey(Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey(
        SalesChannel,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Only with requirement “the channel's promise”: orders of this channel",
    )
    requirement = models.CharField(max_length=20, choices=Requirement.choices, default=Requirement.ANY)
    zone = models.CharField(max_length=20, choices=Zone.choices, default=Zone.ANY)
    countries = models.CharField(
        max_length=200, blank=True, help_text="Comma-separated ISO codes (DE, AT); empty: every country of the zone"
    )
    min_weight_grams = models.PositiveIntegerField(default=0, help_text="Heaviest parcel at least")
    max_weight_grams = models.PositiveIntegerField(null=True, blank=True, help_text="Heaviest parcel at most")
    max_side_mm = models.PositiveIntegerField(null=True, blank=True, help_text="Longest side of any parcel at most")
    carrier = models.CharField(max_length=30)
    service = models.CharField(max_length=30, help_text="The carrier's service code")
    active = models.BooleanField(default=True, help_text="Chooses services now")
    proposed = models.BooleanField(default=True, help_text="Part of the proposed rules the dry run tries")
    history = HistoricalRecords()

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return f"{self.name} → {self.carrier} {self.service}"

    def country_list(self) -> list[str]:
        return [c.strip().upper() for c in self.countries.split(",") if c.strip()]

    @property
    def service_name(self) -> str:
        if not is_registered(self.carrier):
            return self.service
        return connector_for(self.carrier).services.get(self.service, self.service)

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if not is_registered(self.carrier):
            errors["carrier"] = f"{self.carrier!r} is not a carrier this hub ships with"
        elif self.service not in connector_for(self.carrier).services:
            offered = ", ".join(f"{k} ({v})" for k, v in connector_for(self.carrier).services.items())
            errors["service"] = (
                f"{self.service!r} is not a {connector_for(self.carrier).name} service; on offer: {offered}"
            )
        if self.max_weight_grams is not None and self.max_weight_grams < self.min_weight_grams:
            errors["max_weight_grams"] = "The band's upper weight is below its lower weight"
        if self.requirement == Requirement.CHANNEL and self.channel_id is None:
            errors["channel"] = "Name the channel whose promise this rule keeps"
        if self.channel_id is not None and self.requirement != Requirement.CHANNEL:
            errors["requirement"] = "A rule bound to a channel keeps that channel's promise"
        bad = [c for c in self.country_list() if len(c) != 2 or not c.isalpha()]
        if bad:
            errors["countries"] = f"Not ISO country codes: {', '.join(bad)}"
        if errors:
            raise ValidationError(errors)


class Label(models.Model):
    """The label bought for one parcel: the carrier's tracking number, its file (PDF or ZPL as the carrier sent it;
    the other format fetched as a reprint), SHA-256 and cost. Voided before hand-off, never after."""

    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="labels")
    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="labels")
    account = models.ForeignKey(CarrierAccount, on_delete=models.PROTECT, related_name="labels")
    carrier = models.CharField(max_length=30)
    service = models.CharField(max_length=30)
    tracking_number = models.CharField(max_length=100, db_index=True)
    carrier_shipment_number = models.CharField(max_length=100, blank=True)
    format = models.CharField(max_length=10)
    path = models.CharField(max_length=300, help_text="In the default storage")
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    manifest = models.ForeignKey("Manifest", null=True, blank=True, on_delete=models.PROTECT, related_name="labels")
    carrier_receipt = models.CharField(max_length=200, blank=True, help_text="The carrier's confirmation of custody")
    picked_up_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
    bought_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["parcel"], condition=Q(voided_at__isnull=True), name="one_live_label_per_parcel"
            ),
            models.UniqueConstraint(fields=["carrier", "tracking_number"], name="label_tracking_number_once"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class LabelFile(models.Model):
    """One format of a label's document (PDF to view, ZPL for the printer), kept as the carrier sent it."""

    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="files")
    format = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["label", "format"], name="label_file_once_per_format")]

    def __str__(self) -> str:
        return f"{self.format} of {self.label_id}"


class Manifest(models.Model):
    """The day's close-out of one carrier account at one facility: the labels on it go to the carrier together.
    Open until closed; the hand-off is recorded per manifest once the carrier confirms the pickup."""

    account = models.ForeignKey(CarrierAccount, on_delete=models.PROTECT, related_name="manifests")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    carrier_reference = models.CharField(max_length=200, blank=True, help_text="The carrier's answer to the close")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "facility", "day"], condition=Q(closed_at__isnull=True), name="one_open_manifest"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.facility.code} {self.day}"
