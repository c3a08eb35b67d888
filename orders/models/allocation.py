"""Allocation rows: what an order holds of the stock, one row per order line, facility and source, with the inventory
ledger event that allocated it. Release, pick, unpick, cancel and ship walk these rows (per facility: the legs of a
split order); `orders.checks` compares them with the inventory's `allocated` bucket. Rows are in the line's units (a
kit line's row is in kits; the stock moves expand it into components)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from orders.models.order import Order, OrderLine
from warehouse.models import Facility


class AllocationSource(models.TextChoices):
    STOCK = "stock", "Free stock"
    CONTRACT = "contract", "Contract reservation"
    PREORDER_CLAIM = "preorder_claim", "Pre-order claim (its scheduled inbound, received)"


class AllocationRow(models.Model):
    """`quantity` units of `line` held at `facility` for the order, drawn from `source` by ledger event `event_id`."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="allocation_rows")
    # RESTRICT: a line with allocated units is never deleted on its own (release first), only with its order.
    line = models.ForeignKey(OrderLine, on_delete=models.RESTRICT, related_name="allocation_rows")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("inventory.Sku", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    source = models.CharField(max_length=20, choices=AllocationSource.choices, default=AllocationSource.STOCK)
    event_id = models.CharField(max_length=200, help_text="The inventory ledger event that allocated these units")

    class Meta:
        ordering = ["order_id", "facility_id", "line_id", "id"]
        indexes = [models.Index(fields=["facility", "sku"], name="allocation_row_stock")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="allocation_row_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"order {self.order_id} line {self.line_id}: {self.quantity} × sku {self.sku_id} @ {self.facility_id}"
