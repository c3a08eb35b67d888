"""Write use-cases of orders and shipments, one concern per module. Imports point down only (lint-imports checks it):

    ingest · edits · picking · packing · shipments · waiting   the use-cases people, channels, the floor and
                                                     arriving stock call
    lifecycle · fixes · floor                        validate, accept, hold, cancel, force; a person's fixes; the
                                                     floor hold of a picking or packed order
    allocate                                         `allocation_apply`: the plan, the draws, the allocation rows
    stock → legs · lines                             give an allocation back, per leg; an order's lines and fields
    timeline → common                                the order's timeline; received text, lock, labels, permissions

Every state change goes through `transition_apply`; stock moves through the inventory services in the same transaction,
with event ids derived from the order (`order:<pk>:<step>:<round>`), so a replayed call never moves stock twice. Every
step appends an `OrderEvent` in plain words. The names below are the app's public services, importable from here."""

from orders.canonical import ADDRESS_FIELDS
from orders.services.allocate import Shortfall, allocation_apply
from orders.services.common import CHANGE_ORDER, CLOSE_SHIPMENT, FORCE_ORDER, OPERATE_SHIPMENT
from orders.services.edits import order_conflict_decide, order_edit, order_line_cancel, order_line_edit, order_recheck
from orders.services.fixes import DECISIONS, FIELD_WORDS
from orders.services.floor import order_hold_on_floor, order_resume_from_floor_hold
from orders.services.ingest import IngestResult, order_create_manual, order_ingest
from orders.services.lifecycle import FORCEABLE, order_accept, order_cancel, order_force, order_hold, order_validate
from orders.services.lines import MATERIAL_FIELDS
from orders.services.packing import order_pack_parcels, parcel_add, parcel_remove
from orders.services.picking import (
    order_cancel_short_line,
    order_confirm_picked,
    order_pack,
    order_pick,
    order_record_pick_activity,
    order_release_to_pick,
    order_short_pick,
)
from orders.services.shipments import (
    SCAN_STATUSES,
    shipment_close_manually,
    shipment_create,
    shipment_hand_to_carrier,
    shipment_record_scan,
)
from orders.services.waiting import (
    WaitingRun,
    allocation_run_waiting,
    allocation_run_waiting_everywhere,
    scheduled_inbound_receive,
    waiting_orders,
)

__all__ = [
    "ADDRESS_FIELDS",
    "CHANGE_ORDER",
    "CLOSE_SHIPMENT",
    "DECISIONS",
    "FIELD_WORDS",
    "FORCEABLE",
    "FORCE_ORDER",
    "MATERIAL_FIELDS",
    "OPERATE_SHIPMENT",
    "SCAN_STATUSES",
    "IngestResult",
    "Shortfall",
    "WaitingRun",
    "allocation_apply",
    "allocation_run_waiting",
    "allocation_run_waiting_everywhere",
    "order_accept",
    "order_cancel",
    "order_cancel_short_line",
    "order_confirm_picked",
    "order_conflict_decide",
    "order_create_manual",
    "order_edit",
    "order_force",
    "order_hold",
    "order_hold_on_floor",
    "order_ingest",
    "order_line_cancel",
    "order_line_edit",
    "order_pack",
    "order_pack_parcels",
    "order_pick",
    "order_recheck",
    "order_record_pick_activity",
    "order_release_to_pick",
    "order_resume_from_floor_hold",
    "order_short_pick",
    "order_validate",
    "parcel_add",
    "parcel_remove",
    "scheduled_inbound_receive",
    "shipment_close_manually",
    "shipment_create",
    "shipment_hand_to_carrier",
    "shipment_record_scan",
    "waiting_orders",
]
