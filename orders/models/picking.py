"""What the floor picks: one `PickLine` per allocation row and stocked SKU, written at release to pick. A plain row is
one pick line of its own SKU; a kit row is one pick line per component (the floor picks the components, seed 001
"Bundle/kit order"). Why a model and not a `picked` column on `AllocationRow`: a kit row is counted in kits, and a
column on it could not say which of its components is on the shelf and which is missing."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from orders.models.allocation import AllocationRow
from orders.models.order import Order, OrderLine
from warehouse.models import Facility


class PickLine(models.Model):
    """`expected` units of `sku` to pick at `facility` for allocation row `row`; `picked` so far. `short` units were
    reported missing from the shelf: they left "in pick" (a count task checks the shelf) until a manager decides."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="pick_lines")
    row = models.ForeignKey(AllocationRow, on_delete=models.CASCADE, related_name="pick_lines")
    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="pick_lines")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("inventory.Sku", on_delete=models.PROTECT, related_name="+", help_text="What is picked")
    expected = models.PositiveIntegerField()
    picked = models.PositiveIntegerField(default=0)
    short = models.PositiveIntegerField(default=0, help_text="Reported missing; out of in pick until decided")
    short_reports = models.PositiveIntegerField(default=0, help_text="Numbers each short report's stock event")
    picked_at = models.DateTimeField(null=True, blank=True)
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["order_id", "id"]
        indexes = [models.Index(fields=["order", "id"], name="pick_line_order")]
        constraints = [
            models.CheckConstraint(condition=Q(expected__gte=1), name="pick_line_expected_positive"),
            models.CheckConstraint(condition=Q(picked__lte=F("expected")), name="pick_line_never_over_picked"),
            models.CheckConstraint(condition=Q(short__lte=F("expected") - F("picked")), name="pick_line_short_fits"),
        ]

    def __str__(self) -> str:
        return f"order {self.order_id}: {self.picked}/{self.expected} × sku {self.sku_id}"

    @property
    def remaining(self) -> int:
        return self.expected - self.picked

    @property
    def done(self) -> bool:
        return self.picked >= self.expected
