"""What each channel is told about stock (seed 000 §03–04): one pool advertised everywhere less a per-connection
safety buffer, coalesced per SKU and connection; what was last pushed and what the channel showed when read back;
writes quarantined for SKUs caught in a desync spike."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from integrations.models import Connection
from inventory.models import Sku


class PoolKind(models.TextChoices):
    SHARED = "shared", "Shared pool (the WMS number less the buffer)"
    CHANNEL_OWNED = "channel_owned", "The channel's own pool (stock it holds and fulfils; never written)"


class PublishSettings(models.Model):
    """Per-connection publishing contract. A connection without a row publishes the shared pool, buffer 0, ±5%."""

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, related_name="publish_settings")
    pool = models.CharField(max_length=20, choices=PoolKind.choices, default=PoolKind.SHARED)
    enabled = models.BooleanField(default=True)
    safety_buffer = models.PositiveIntegerField(default=0, help_text="Units held back from this channel per SKU")
    divergence_threshold_pct = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("5.00"), help_text="Channel vs WMS beyond ±this % diverges"
    )
    spike_skus = models.PositiveIntegerField(
        default=5, help_text="This many diverging SKUs in one read-back is a desync spike: quarantine and reconcile"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "publish settings"

    def __str__(self) -> str:
        return f"Publishing to {self.connection}"


class DirtyStock(models.Model):
    """A SKU whose sellable number changed since it was last published. Written by a database trigger on every
    movement that changes `available` (migration 0002), so no write path — ORM, bulk or raw SQL — can skip it;
    the publisher claims and deletes rows. Many events on one SKU leave one row: that is the coalescing."""

    sku = models.OneToOneField(Sku, on_delete=models.CASCADE, primary_key=True, related_name="+")
    marked_at = models.DateTimeField()
    version = models.PositiveBigIntegerField(default=1)

    class Meta:
        verbose_name_plural = "dirty stock"

    def __str__(self) -> str:
        return f"dirty {self.sku_id} (v{self.version})"


class PublishedLevel(models.Model):
    """What was last pushed for one SKU to one connection, and what the channel showed when last read back."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="published_levels")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="published_levels")
    quantity = models.IntegerField(help_text="Last number written to the channel")
    pushed_at = models.DateTimeField()
    writes = models.PositiveIntegerField(default=1)
    channel_quantity = models.IntegerField(null=True, blank=True)
    channel_read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["connection_id", "sku_id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "sku"], name="one_published_level_per_sku_connection"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id} → {self.connection_id}: {self.quantity}"


class PublishQuarantine(models.Model):
    """Streaming writes for this SKU to this connection are paused (runbook "Inventory desync"); a targeted
    reconcile writes the WMS number and releases it once the channel agrees."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="publish_quarantines")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=300)
    opened_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "sku"],
                condition=Q(released_at__isnull=True),
                name="one_open_quarantine_per_sku_connection",
            ),
        ]

    def __str__(self) -> str:
        return f"quarantine {self.sku_id} → {self.connection_id}"
