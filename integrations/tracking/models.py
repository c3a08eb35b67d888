"""What tracking keeps: each carrier event once, the brands' notification choice, and manual tracking entries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from integrations.carriers.protocol import EventKind
from orders.models import Shipment
from warehouse.models import Brand

KIND_CHOICES = [(k.value, k.value.replace("_", " ")) for k in EventKind]


class EventSource(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    POLL = "poll", "Polling"
    RECHECK = "recheck", "Re-check of a manual entry"


class CarrierEvent(models.Model):
    """One carrier event, stored once: unique on (carrier, tracking number, event code, time), written with
    `INSERT … ON CONFLICT DO NOTHING` so a redelivered webhook or an overlapping poll adds nothing. `applied_at`
    empty: not yet applied to its shipment (no shipment carries that number yet, or it is being applied)."""

    carrier = models.CharField(max_length=30)
    tracking_number = models.CharField(max_length=100)
    code = models.CharField(max_length=60, help_text="The carrier's own status code, as sent")
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=20, choices=KIND_CHOICES)
    location = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=10, choices=EventSource.choices)
    received_at = models.DateTimeField(default=timezone.now)
    shipment = models.ForeignKey(Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    applied_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True, help_text="What applying it did")

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["carrier", "tracking_number", "code", "occurred_at"], name="carrier_event_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["carrier", "tracking_number"],
                condition=Q(applied_at__isnull=True),
                name="carrier_event_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number} {self.code} {self.occurred_at:%Y-%m-%d %H:%M}"


class BrandTrackingSettings(models.Model):
    """Per brand: whether the channel notifies the customer of a dispatch (default: it does)."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="tracking_settings")
    notify_customer = models.BooleanField(
        default=True, help_text="The channel e-mails the customer the tracking number when the parcel is dispatched"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "brand tracking settings"
        verbose_name_plural = "brand tracking settings"

    def __str__(self) -> str:
        return f"Tracking settings of {self.brand}"


class RecheckOutcome(models.TextChoices):
    PENDING = "pending", "Waiting for the carrier's API"
    MATCHED = "matched", "The carrier's tracking agrees"
    DIFFERS = "differs", "The carrier's tracking differs"


class ManualTracking(models.Model):
    """A manager's entry of carrier, tracking number and hand-off time while the carrier's API was unavailable. It
    stood in for the carrier's receipt; the scheduled re-check compares it with the carrier's tracking."""

    shipment = models.OneToOneField(Shipment, on_delete=models.PROTECT, related_name="manual_tracking")
    carrier = models.CharField(max_length=30)
    tracking_number = models.CharField(max_length=100)
    handed_at = models.DateTimeField()
    note = models.CharField(max_length=300, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=RecheckOutcome.choices, default=RecheckOutcome.PENDING)
    difference = models.CharField(max_length=300, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    check_attempts = models.PositiveIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-entered_at"]
        permissions = [("enter_manual_tracking", "Can enter tracking manually when the carrier's API is down")]

    def __str__(self) -> str:
        return f"manual {self.carrier} {self.tracking_number}"


class TrackingWatch(models.Model):
    """When the kit last asked the carrier about a shipment (polling), and whether the carrier pushes its events
    (a Track Alert subscription)."""

    shipment = models.OneToOneField(Shipment, on_delete=models.CASCADE, related_name="tracking_watch")
    polled_at = models.DateTimeField(null=True, blank=True)
    subscribed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, help_text="Redacted")

    def __str__(self) -> str:
        return f"watch of shipment {self.shipment_id}"
