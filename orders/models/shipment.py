"""Shipments with their carrier custody, the parcels of a packed order and the carrier's scans."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from orders.models.allocation import AllocationRow
from orders.models.order import Order, OrderLine
from orders.models.states import OPERATE_SHIPMENT, ShipmentState
from warehouse.fsm import guard
from warehouse.models import Facility


@guard("carrier_receipt_missing", "hand-off needs the carrier's receipt")
def has_carrier_receipt(shipment: Shipment) -> bool:
    return bool((shipment.carrier_receipt or "").strip())


@guard("tracking_number_missing", "hand-off needs a tracking number")
def has_tracking_number(shipment: Shipment) -> bool:
    return bool((shipment.tracking_number or "").strip())


@guard("handed_at_missing", "hand-off needs the time the carrier took it")
def has_handed_at(shipment: Shipment) -> bool:
    return shipment.handed_at is not None


class Shipment(FSMModelMixin, models.Model):
    """The parcel(s) of an order. The warehouse owns it until the carrier confirms custody."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="shipments", help_text="Ships from"
    )
    carrier = models.CharField(max_length=60)
    service = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True, db_index=True)
    carrier_receipt = models.CharField(max_length=200, blank=True, help_text="Proof of hand-off (manifest, signature)")
    label_created_at = models.DateTimeField(null=True, blank=True)
    handed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True, help_text="First carrier scan")
    delivered_at = models.DateTimeField(null=True, blank=True)
    state = FSMField(default=ShipmentState.STAGED, choices=ShipmentState.choices, protected=True, db_index=True)
    closed_manually_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "handed_at"], name="shipment_state_handed"),
            models.Index(fields=["handed_at"], name="shipment_handed_at"),  # reports count hand-offs by day
        ]
        permissions = [
            ("operate_shipment", "Can create shipments, hand them to the carrier and record scans"),
            ("force_shipment_transition", "Can force a shipment transition"),
            ("close_shipment", "Can close a shipment manually with a reason"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number or '(no tracking)'} ({self.get_state_display()})"

    @property
    def lines(self) -> list[list[int]]:
        """`[[sku_id, quantity], ...]` of the leg this shipment carries, read from the allocation rows
        (`shipment_lines`); empty: the shipment is the whole order."""
        return shipment_lines(self)

    @transition(
        field=state, source=ShipmentState.STAGED, target=ShipmentState.HANDED_TO_CARRIER,
        conditions=[has_carrier_receipt, has_tracking_number, has_handed_at], permission=OPERATE_SHIPMENT,
    )  # fmt: skip
    def hand_to_carrier(self) -> None:
        """The carrier took custody: receipt, tracking number and time are recorded."""

    @transition(
        field=state, source=ShipmentState.HANDED_TO_CARRIER, target=ShipmentState.IN_TRANSIT,
        permission=OPERATE_SHIPMENT,
    )  # fmt: skip
    def mark_in_transit(self) -> None:
        """The carrier scanned it on its way."""

    @transition(
        field=state, source=[ShipmentState.HANDED_TO_CARRIER, ShipmentState.IN_TRANSIT],
        target=ShipmentState.DELIVERED, permission=OPERATE_SHIPMENT,
    )  # fmt: skip
    def deliver(self) -> None:
        """The destination confirmed receipt."""


class Parcel(models.Model):
    """One carton of a packed order, weighed and measured at the pack station; a carrier label is bought for it."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="parcels")
    number = models.PositiveSmallIntegerField(help_text="1, 2, … within the order")
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Packed at (one leg of a split order); empty: the order's facility",
    )  # fmt: skip
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="parcels", help_text="Carried by"
    )
    weight_grams = models.PositiveIntegerField()
    length_mm = models.PositiveIntegerField()
    width_mm = models.PositiveIntegerField()
    height_mm = models.PositiveIntegerField()
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "number"], name="parcel_number_once_per_order"),
            models.CheckConstraint(
                condition=Q(weight_grams__gt=0, length_mm__gt=0, width_mm__gt=0, height_mm__gt=0),
                name="parcel_measured",
            ),
        ]

    def __str__(self) -> str:
        return f"parcel {self.number} of order {self.order_id}"


class ShipmentEvent(models.Model):
    """One carrier scan, kept once per carrier event id."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=200, help_text="The carrier's id of this scan, or a hash of it")
    status = models.CharField(max_length=30, help_text="in_transit, delivered, or info")
    description = models.CharField(max_length=300, blank=True)
    location = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    raw: Any = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "event_id"], name="shipment_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.status} {self.description}"


def shipment_rows(shipment: Shipment) -> list[AllocationRow]:
    """The allocation rows a shipment carries: its order's rows at its facility, the leg of a split order or the whole
    order (several parcels of one leg share its rows). A shipment keeps no copy of its lines: the rows say them."""
    rows = AllocationRow.objects.filter(order_id=shipment.order_id).select_related("line", "sku", "facility")
    if shipment.facility_id is not None:
        rows = rows.filter(facility_id=shipment.facility_id)
    return list(rows.order_by("id"))


def _leg_rows(shipment: Shipment) -> list[AllocationRow]:
    """`shipment_rows` of a leg of a split order; empty when the order is allocated at one facility (whole)."""
    rows = list(AllocationRow.objects.filter(order_id=shipment.order_id).select_related("line").order_by("id"))
    if len({row.facility_id for row in rows}) < 2:
        return []
    return [row for row in rows if row.facility_id == shipment.facility_id]


def shipment_lines(shipment: Shipment) -> list[list[int]]:
    """`[[sku_id, quantity], ...]` (by SKU) of the leg of a split order this shipment carries, from the order's
    allocation rows at its facility. Empty: the order ships whole from one facility, so the shipment is all of it."""
    totals: dict[int, int] = {}
    for row in _leg_rows(shipment):
        totals[row.sku_id] = totals.get(row.sku_id, 0) + row.quantity
    return [[sku_id, quantity] for sku_id, quantity in sorted(totals.items())]


def shipment_platform_lines(shipment: Shipment) -> list[dict[str, Any]]:
    """A shipment's lines as its channel knows them, `{line_item_id, sku, quantity}` per order line (in line order),
    from the allocation rows it carries: a leg of a split order, or an order with a line cancelled after release (a
    fulfilment naming no lines would tell the channel the cancelled units shipped too). Empty: the shipment is the
    whole order."""
    rows = _leg_rows(shipment)
    if not rows and OrderLine.objects.filter(order_id=shipment.order_id, cancelled_at__isnull=False).exists():
        rows = shipment_rows(shipment)
    per_line: dict[int, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda row: (row.line.line_number, row.id)):
        found = per_line.setdefault(
            row.line_id, {"line_item_id": row.line.external_line_id, "sku": row.line.sku_code, "quantity": 0}
        )
        found["quantity"] += row.quantity
    return list(per_line.values())
