"""What the reports keep of their own: the brands' commercial terms as data (rate card, SLA credit tiers), the daily
storage snapshot that billing prices, and export jobs; and the SLO pages' rollups (kept in `reports/slo/models.py`).
Everything else they read from the apps below."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from reports.slo.models import SloDay, SloMinute
from warehouse.models import Brand, Facility

__all__ = ["ExportJob", "ExportState", "RateCard", "SlaCreditTier", "SloDay", "SloMinute", "StorageSnapshot"]


def _price() -> Any:
    """A price per unit of activity: never negative, four decimals (unit rates are often fractions of a cent)."""
    return models.DecimalField(max_digits=12, decimal_places=4, default=Decimal("0"), validators=[MinValueValidator(0)])


class RateCard(models.Model):
    """What a brand pays per unit of activity from `valid_from` on; the card in force on a day prices that day."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="rate_cards")
    valid_from = models.DateField()
    currency = models.CharField(max_length=3, default="EUR")
    per_unit_received = _price()
    per_unit_picked = _price()
    per_order_packed = _price()
    per_shipment = _price()
    label_markup_percent = models.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)],
        help_text="Added to each label's carrier cost",
    )  # fmt: skip
    storage_per_unit_day = _price()
    history = HistoricalRecords()

    class Meta:
        ordering = ["brand_id", "-valid_from"]
        constraints = [models.UniqueConstraint(fields=["brand", "valid_from"], name="rate_card_once_per_day")]

    def __str__(self) -> str:
        return f"{self.brand} rate card from {self.valid_from}"


class SlaCreditTier(models.Model):
    """Under the cutoff contract: when a month's on-time attainment for a brand falls below `attainment_below`
    percent, each late shipment of that month earns the brand `credit_per_late_order`. The lowest matching tier
    applies (the worst month pays the most)."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="sla_credit_tiers")
    attainment_below = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    credit_per_late_order = _price()
    currency = models.CharField(max_length=3, default="EUR")
    history = HistoricalRecords()

    class Meta:
        ordering = ["brand_id", "attainment_below"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "attainment_below"], name="sla_credit_tier_once"),
        ]

    def __str__(self) -> str:
        return f"{self.brand}: below {self.attainment_below} % → {self.credit_per_late_order} per late order"


class StorageSnapshot(models.Model):
    """Units on hand per brand and facility at the end of a day (the task `storage_snapshot_take`), kept from the day
    this shipped: storage is billed from these, since stock levels only know the present."""

    day = models.DateField()
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="+")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    units = models.BigIntegerField()
    taken_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "brand_id", "facility_id"]
        constraints = [
            models.UniqueConstraint(fields=["day", "brand", "facility"], name="storage_snapshot_once_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} brand {self.brand_id} facility {self.facility_id}: {self.units} units"


class ExportState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Ready to download"
    FAILED = "failed", "Failed"


class ExportJob(models.Model):
    """A large export written in the background; the page shows its progress and then a download link."""

    report = models.CharField(max_length=40)
    params = models.JSONField(default=dict, help_text="The report's filters, as the page had them")
    file_format = models.CharField(max_length=4)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=ExportState.choices, default=ExportState.QUEUED)
    rows_total = models.BigIntegerField(default=0)
    rows_done = models.BigIntegerField(default=0)
    file_name = models.CharField(max_length=300, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_finance_reports", "Can read the finance reports"),
            ("export_reports", "Can download the finance reports as CSV and XLSX"),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} of {self.report} ({self.state})"

    @property
    def percent(self) -> int:
        if self.state == ExportState.DONE:
            return 100
        return min(99, int(100 * self.rows_done / self.rows_total)) if self.rows_total else 0
