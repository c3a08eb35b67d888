"""The states of orders and shipments, and the permissions their transitions need (seed 001 "Status transitions")."""

from __future__ import annotations

from django.db import models

OPERATE_ORDER = "orders.operate_order"
OPERATE_SHIPMENT = "orders.operate_shipment"


class OrderSource(models.TextChoices):
    CHANNEL = "channel", "Channel connection"
    MANUAL = "manual", "Manual entry"
    FILE = "file", "File import"


class OrderState(models.TextChoices):
    RECEIVED = "received", "Received"
    VALIDATED = "validated", "Validated"
    ACCEPTED = "accepted", "Accepted (stock allocated)"
    PICKING = "picking", "Picking"
    PICKED = "picked", "Picked"
    PACKED = "packed", "Packed"
    DISPATCHED = "dispatched", "Dispatched (carrier has it)"
    IN_TRANSIT = "in_transit", "In transit"
    DELIVERED = "delivered", "Delivered"
    ON_HOLD = "on_hold", "On hold"
    FLOOR_HOLD = "floor_hold", "Held on the floor"
    CANCELLED = "cancelled", "Cancelled"


# The platform owns the order until it is released to pick: edits apply in these states, then are escalated.
EDITABLE_STATES = (OrderState.RECEIVED, OrderState.VALIDATED, OrderState.ACCEPTED, OrderState.ON_HOLD)
# Cancellation is allowed before packing; after it, refused and escalated. A floor-held order is cancellable while it
# was held from picking (the cancel service checks `held_from`).
CANCELLABLE_STATES = (*EDITABLE_STATES, OrderState.PICKING, OrderState.PICKED, OrderState.FLOOR_HOLD)
HOLDABLE_STATES = (OrderState.RECEIVED, OrderState.VALIDATED, OrderState.ACCEPTED)
# The order's units left the building: a carrier has them, or delivered them (a refused delivery comes back while
# still in transit). Returns are authorised against these; a split order's last leg completes its fulfilment here.
LEFT_BUILDING_STATES = (OrderState.DISPATCHED, OrderState.IN_TRANSIT, OrderState.DELIVERED)
# A floor hold stops an order the warehouse already owns (a short pick; a packed order no shipping rule covers) and
# keeps its stock where it is (in pick); `Order.held_from` says where it resumes. Unlike `ON_HOLD` (before release:
# nothing allocated, edited and re-run from validation), nothing about the order is re-run.
FLOOR_HOLDABLE_STATES = (OrderState.PICKING, OrderState.PACKED)


class ShipmentState(models.TextChoices):
    STAGED = "staged", "Staged"
    HANDED_TO_CARRIER = "handed_to_carrier", "Handed to carrier"
    IN_TRANSIT = "in_transit", "In transit"
    DELIVERED = "delivered", "Delivered"
