"""The request a manual order was created from (`orders.idempotency`)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from orders.models.order import Order
from orders.models.states import OrderSource
from warehouse.models import Brand


class ManualOrderRequest(models.Model):
    """The request a manual order was created from, so that creation is idempotent on (brand, source, order id): the
    same request again returns the first order, a different one is refused naming the fields that differ
    (`orders.idempotency`). Values are kept as short hashes per field: enough to compare, no second copy of the
    customer's address."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=OrderSource.choices)
    platform_order_id = models.CharField("order id", max_length=100)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of the normalised request")
    field_hashes: Any = models.JSONField(default=dict, help_text="field path → short hash of its value")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "source", "platform_order_id"], name="manual_order_request_once_per_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform_order_id} ({self.source})"
