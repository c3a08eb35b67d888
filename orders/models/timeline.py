"""The order's timeline: one line per step, in plain words, for support."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from orders.models.order import Order


class OrderEventKind(models.TextChoices):
    RECEIVED = "received", "Received"
    UPDATED = "updated", "Updated from the source"
    EDITED = "edited", "Edited"
    EDIT_REFUSED = "edit_refused", "Edit refused (escalated)"
    VALIDATED = "validated", "Validated"
    HELD = "held", "Held"
    ALLOCATED = "allocated", "Stock allocated"
    ALLOCATION_RELEASED = "allocation_released", "Allocation released"
    ACCEPTED = "accepted", "Accepted"
    RELEASED_TO_PICK = "released_to_pick", "Released to pick"
    PICK_ACTIVITY = "pick_activity", "Pick activity"
    PICKED = "picked", "Picked"
    SHORT_PICK = "short_pick", "Short pick"
    FLOOR_HOLD = "floor_hold", "Held on the floor"
    FLOOR_RESUMED = "floor_resumed", "Resumed from a floor hold"
    LINE_CANCELLED = "line_cancelled", "Line cancelled"
    PACKED = "packed", "Packed"
    LABEL_CREATED = "label_created", "Label created"
    HANDED_TO_CARRIER = "handed_to_carrier", "Handed to carrier"
    CARRIER_SCAN = "carrier_scan", "Carrier scan"
    IN_TRANSIT = "in_transit", "In transit"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    CANCEL_REFUSED = "cancel_refused", "Cancellation refused (escalated)"
    FORCED = "forced", "Forced by a manager"
    UPDATE_CONFLICT = "update_conflict", "Platform update waiting for a decision"
    STALE_IGNORED = "stale_ignored", "Older update ignored"


class OrderEvent(models.Model):
    """One line of the support timeline, in plain words."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=OrderEventKind.choices)
    message = models.CharField(max_length=500)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["order", "at", "id"], name="order_event_timeline")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}: {self.message}"
