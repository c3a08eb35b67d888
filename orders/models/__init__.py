"""The orders app's models, one module per concern (re-exported here, so `from orders.models import Order` is the
way in):

    states      order and shipment states, the sets of states a step applies to, the transition permissions
    mandatory   the mandatory-field rules and their reason codes (the `validate` guards and validation read them)
    order       `Order` and `OrderLine`, with the guards of their transitions
    allocation  `AllocationRow`: what an order holds of the stock, per line, facility and source
    timeline    `OrderEvent`, the plain-words timeline
    shipment    `Shipment`, `Parcel`, `ShipmentEvent`
    manual      `ManualOrderRequest`, the idempotency record of manual orders
    picking     `PickLine`: what the floor picks for each allocation row (a kit row: one per component)"""

from orders.models.allocation import AllocationRow, AllocationSource
from orders.models.mandatory import (
    CODES as MANDATORY_CODES,
)
from orders.models.mandatory import (
    MAX_LINE_QUANTITY,
    forced_past_codes,
    mandatory_faults,
    phone_is_plausible,
)
from orders.models.manual import ManualOrderRequest
from orders.models.order import (
    VALIDATION_GUARDS,
    Order,
    OrderLine,
    allocation_legs,
    allocation_rows,
    allocation_rows_remember,
    created_now,
    forget_lines,
    has_carrier_proof,
    has_hold_reasons,
    held_for_split,
    is_fully_allocated,
    is_split,
    order_lines,
    order_lines_all,
    order_skus,
    remember_lines,
)
from orders.models.picking import PickLine
from orders.models.shipment import (
    Parcel,
    Shipment,
    ShipmentEvent,
    has_carrier_receipt,
    has_handed_at,
    has_tracking_number,
    shipment_lines,
    shipment_platform_lines,
    shipment_rows,
)
from orders.models.states import (
    CANCELLABLE_STATES,
    EDITABLE_STATES,
    FLOOR_HOLDABLE_STATES,
    HOLDABLE_STATES,
    LEFT_BUILDING_STATES,
    OPERATE_ORDER,
    OPERATE_SHIPMENT,
    OrderSource,
    OrderState,
    ShipmentState,
)
from orders.models.timeline import OrderEvent, OrderEventKind

__all__ = [
    "CANCELLABLE_STATES",
    "EDITABLE_STATES",
    "FLOOR_HOLDABLE_STATES",
    "HOLDABLE_STATES",
    "LEFT_BUILDING_STATES",
    "MANDATORY_CODES",
    "MAX_LINE_QUANTITY",
    "OPERATE_ORDER",
    "OPERATE_SHIPMENT",
    "VALIDATION_GUARDS",
    "AllocationRow",
    "AllocationSource",
    "ManualOrderRequest",
    "Order",
    "OrderEvent",
    "OrderEventKind",
    "OrderLine",
    "OrderSource",
    "OrderState",
    "Parcel",
    "PickLine",
    "Shipment",
    "ShipmentEvent",
    "ShipmentState",
    "allocation_legs",
    "allocation_rows",
    "allocation_rows_remember",
    "created_now",
    "forced_past_codes",
    "forget_lines",
    "has_carrier_proof",
    "has_carrier_receipt",
    "has_handed_at",
    "has_hold_reasons",
    "has_tracking_number",
    "held_for_split",
    "is_fully_allocated",
    "is_split",
    "mandatory_faults",
    "order_lines",
    "order_lines_all",
    "order_skus",
    "phone_is_plausible",
    "remember_lines",
    "shipment_lines",
    "shipment_platform_lines",
    "shipment_rows",
]
