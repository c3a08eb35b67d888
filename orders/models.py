"""Orders, their lines and readable timeline, and shipments with their carrier custody (seed 001 "Object ownership:
Order / Shipment", "Status transitions"; design §3).

Transition methods are pure: guards are named predicates (`warehouse.fsm.guard`) and the in-memory change. The
services in `orders.services` run them through `warehouse.transitions.transition_apply` and move the stock."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from warehouse.fsm import guard
from warehouse.models import Brand, Facility, SalesChannel

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
    CANCELLED = "cancelled", "Cancelled"


# The platform owns the order until it is released to pick: edits apply in these states, then are escalated.
EDITABLE_STATES = (OrderState.RECEIVED, OrderState.VALIDATED, OrderState.ACCEPTED, OrderState.ON_HOLD)
# Cancellation is allowed before packing; after it, refused and escalated.
CANCELLABLE_STATES = (*EDITABLE_STATES, OrderState.PICKING, OrderState.PICKED)
HOLDABLE_STATES = (OrderState.RECEIVED, OrderState.VALIDATED, OrderState.ACCEPTED)


# --- order guards -------------------------------------------------------------------------------------------------


def order_lines(order: Order) -> list[OrderLine]:
    """The order's lines, read once per instance: the guards and the stock bookkeeping each ask for them.

    Services that change lines drop the cache (`forget_lines`)."""
    if order.pk is None:
        return []
    if "lines" not in getattr(order, "_prefetched_objects_cache", {}):
        prefetch_related_objects([order], Prefetch("lines", queryset=OrderLine.objects.select_related("sku")))
    return [line for line in order.lines.all() if line.cancelled_at is None]  # a cancelled line is kept, not counted


def remember_lines(order: Order, lines: list[OrderLine]) -> None:
    """Lines a service has just written are the order's lines: cache them the way a prefetch would (no re-read)."""
    cached: Any = order.lines.all()
    cached._result_cache = list(lines)
    cached._prefetch_done = True
    order.__dict__.setdefault("_prefetched_objects_cache", {})["lines"] = cached


def forget_lines(order: Order) -> None:
    getattr(order, "_prefetched_objects_cache", {}).pop("lines", None)


def order_skus(order: Order) -> dict[int, Any]:
    """{sku_id: Sku} of the order's resolved lines, from the lines already read where they carry their SKU."""
    lines = [line for line in order_lines(order) if line.sku_id is not None]
    found: dict[int, Any] = {line.sku_id: line.sku for line in lines if OrderLine.sku.is_cached(line)}  # type: ignore[misc]
    missing = [line.sku_id for line in lines if line.sku_id not in found]
    if missing:
        sku_model: Any = OrderLine._meta.get_field("sku").related_model
        found.update(sku_model.objects.in_bulk(missing))
    return found


@guard("order_id_missing", "the order has no order id")
def has_order_id(order: Order) -> bool:
    return bool((order.platform_order_id or "").strip())


@guard("lines_missing", "the order has no lines")
def has_lines(order: Order) -> bool:
    return bool(order_lines(order))


@guard("unknown_sku", "every line's SKU maps to a catalog entry")
def every_sku_resolves(order: Order) -> bool:
    return all(line.sku_id is not None for line in order_lines(order))


@guard("quantity_invalid", "every line's quantity is a positive whole number")
def every_quantity_is_positive_integer(order: Order) -> bool:
    return all(line.quantity is not None and line.quantity > 0 for line in order_lines(order))


def forced_past_codes(order: Order) -> set[str]:
    """Reason codes a manager forced validation past (`orders.services.order_force`), kept until the data changes."""
    return {r.get("code", "") for r in order.forced_past or [] if isinstance(r, dict)}


@guard("address_incomplete", "the delivery address has a street, ZIP, city and country")
def has_complete_address(order: Order) -> bool:
    parts = {
        "street_missing": order.delivery_street1,
        "postal_code_missing": order.delivery_postal_code,
        "city_missing": order.delivery_city,
        "country_missing": order.delivery_country,
    }
    return {code for code, value in parts.items() if not (value or "").strip()} <= forced_past_codes(order)


@guard("phone_missing", "the order has a contact phone for delivery")
def has_contact_phone(order: Order) -> bool:
    return bool((order.contact_phone or "").strip()) or "phone_missing" in forced_past_codes(order)


@guard("not_allocated", "acceptance needs every line allocated in full")
def is_fully_allocated(order: Order) -> bool:
    required = order.required_stock()
    return bool(required) and order.allocated_stock() == required


@guard("hold_reasons_required", "an order is held with each reason named")
def has_hold_reasons(order: Order) -> bool:
    return bool(order.hold_reasons)


def created_now(order: Order) -> bool:
    """Inserted by `order_ingest` in the current transaction (it sets and clears the mark): nothing can refer to the
    order yet (no exceptions, route, old lines or pre-order claims), so the look-ups for them are skipped."""
    return bool(order.__dict__.get("created_now"))


def held_for_split(order: Order) -> bool:
    """On hold because routing would split it (or its split lost a stock race): routed again on every retry."""
    return order.state == OrderState.ON_HOLD and any(
        isinstance(r, dict) and r.get("code") == "split_route" for r in order.hold_reasons or []
    )


def allocation_legs(order: Order) -> list[tuple[int | None, list[list[int]]]]:
    """The order's allocation per facility, `[(facility_id, [[sku_id, quantity], ...]), ...]` in leg order. One leg
    at `order.facility` normally; an order split across facilities stores `[sku_id, quantity, facility_id]` entries
    and has one leg per facility. Every stock step (allocate, release, pick, unpick, ship) walks these legs."""
    legs: dict[int | None, list[list[int]]] = {}
    for entry in order.allocated_lines or []:
        facility_id = int(entry[2]) if len(entry) > 2 else order.facility_id
        legs.setdefault(facility_id, []).append([int(entry[0]), int(entry[1])])
    return [(facility_id, sorted(lines)) for facility_id, lines in legs.items()]


def is_split(order: Order) -> bool:
    return any(len(entry) > 2 for entry in order.allocated_lines or [])


@guard("no_carrier_proof", "dispatch needs a shipment with carrier receipt, tracking number and hand-off time")
def has_carrier_proof(order: Order) -> bool:
    """A split order needs that proof for every leg: it is dispatched when the last facility handed its part over."""
    if order.pk is None:
        return False
    handed = (
        order.shipments.filter(
            state__in=[ShipmentState.HANDED_TO_CARRIER, ShipmentState.IN_TRANSIT, ShipmentState.DELIVERED],
            handed_at__isnull=False,
        )
        .exclude(tracking_number="")
        .exclude(carrier_receipt="")
    )
    if not is_split(order):
        return handed.exists()
    legs = {facility_id for facility_id, _ in allocation_legs(order)}
    return legs <= set(handed.values_list("facility_id", flat=True))


VALIDATION_GUARDS = [
    has_order_id,
    has_lines,
    every_sku_resolves,
    every_quantity_is_positive_integer,
    has_complete_address,
    has_contact_phone,
]


class Order(FSMModelMixin, models.Model):
    """One customer order of a brand, from a sales channel, a manual entry or a file.

    A channel's order is keyed by (channel, platform order id); a manual or file order by (brand, source, id)."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="orders")
    source = models.CharField(max_length=10, choices=OrderSource.choices, default=OrderSource.CHANNEL)
    channel = models.ForeignKey(
        SalesChannel, null=True, blank=True, on_delete=models.PROTECT, related_name="orders",
        help_text="The sales channel it came from; empty for manual and file orders",
    )  # fmt: skip
    platform_order_id = models.CharField("order id", max_length=100, blank=True)
    placed_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    source_updated_at = models.DateTimeField(
        null=True, blank=True, help_text="The platform's version last applied; an older payload is ignored"
    )
    ship_by = models.DateTimeField(null=True, blank=True)
    priority_class = models.CharField(max_length=20, default="standard")
    delivery_name = models.CharField(max_length=200, blank=True)
    delivery_street1 = models.CharField(max_length=200, blank=True)
    delivery_street2 = models.CharField(max_length=200, blank=True)
    delivery_postal_code = models.CharField("delivery ZIP", max_length=20, blank=True)
    delivery_city = models.CharField(max_length=100, blank=True)
    delivery_region = models.CharField(max_length=100, blank=True)
    delivery_country = models.CharField(
        max_length=60, blank=True, help_text="ISO 3166-1 alpha-2 (kept as received; validation names a bad one)"
    )
    contact_phone = models.CharField(max_length=40, blank=True)
    email = models.CharField(max_length=254, blank=True)
    special_handling = models.TextField(blank=True, help_text="Lane, delivery window or packing requirement")
    is_manual_entry = models.BooleanField(default=False)
    facility = models.ForeignKey(Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    state = FSMField(default=OrderState.RECEIVED, choices=OrderState.choices, protected=True, db_index=True)
    hold_reasons = models.JSONField(default=list, blank=True, help_text='[{"code", "message"}] while on hold')
    allocated_lines = models.JSONField(
        default=list,
        blank=True,
        help_text="[[sku_id, quantity], ...] allocated (then in pick) for this order; a split order's entries are "
        "[sku_id, quantity, facility_id]",
    )
    stock_round = models.PositiveIntegerField(default=0, help_text="Numbers each allocation's stock event id")
    cancel_reason = models.CharField(max_length=300, blank=True)
    forced_past = models.JSONField(
        default=list, blank=True, help_text='[{"code", "message"}] a manager forced validation past, until they change'
    )
    person_fixes = models.JSONField(
        default=dict, blank=True, help_text="{field: the platform's value when a person fixed it}"
    )
    platform_conflicts = models.JSONField(
        default=dict, blank=True, help_text="{field: the platform's newer value} waiting for a person's decision"
    )
    extra = models.JSONField(default=dict, blank=True, help_text="Platform fields kept for support, never secrets")
    last_activity_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "platform_order_id"],
                condition=Q(channel__isnull=False),
                name="order_unique_per_channel",
                violation_error_message="This channel already has an order with this id.",
            ),
            models.UniqueConstraint(
                fields=["brand", "source", "platform_order_id"],
                condition=Q(channel__isnull=True) & ~Q(platform_order_id=""),
                name="order_unique_per_brand_source",
                violation_error_message="This brand already has an order with this id from this source.",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "last_activity_at"], name="order_state_activity"),
            models.Index(fields=["brand", "state"], name="order_brand_state"),
        ]
        permissions = [
            ("operate_order", "Can validate, accept, pick, pack and cancel orders"),
            ("force_order_transition", "Can force an order transition (override a guard)"),
        ]

    def __str__(self) -> str:
        return f"{self.platform_order_id or f'#{self.pk}'} ({self.get_state_display()})"

    @property
    def platform_code(self) -> str:
        """The channel's platform code ("" for manual and file orders); lists load it with `channel`."""
        channel = self.channel
        return channel.platform_code if channel is not None else ""

    @property
    def is_marketplace(self) -> bool:
        """From a marketplace channel: its handling time is a hard deadline (seed 000 §03)."""
        channel = self.channel
        return channel is not None and channel.is_marketplace

    # -- stock bookkeeping (pure) --

    def required_stock(self) -> list[list[int]]:
        """[[sku_id, quantity], ...] the lines need, summed per SKU, sorted (the shape of `allocated_lines`)."""
        totals: dict[int, int] = {}
        for line in order_lines(self):
            if line.sku_id is None or line.quantity is None or line.quantity <= 0:
                return []
            totals[line.sku_id] = totals.get(line.sku_id, 0) + line.quantity
        return [[sku_id, qty] for sku_id, qty in sorted(totals.items())]

    def allocated_stock(self) -> list[list[int]]:
        """[[sku_id, quantity], ...] allocated, summed per SKU over every leg (the shape of `required_stock`)."""
        totals: dict[int, int] = {}
        for entry in self.allocated_lines or []:
            totals[int(entry[0])] = totals.get(int(entry[0]), 0) + int(entry[1])
        return [[sku_id, qty] for sku_id, qty in sorted(totals.items())]

    # -- transitions --

    @transition(
        field=state, source=[OrderState.RECEIVED, OrderState.ON_HOLD], target=OrderState.VALIDATED,
        conditions=VALIDATION_GUARDS, permission=OPERATE_ORDER,
    )  # fmt: skip
    def validate(self) -> None:
        """Every mandatory field is present and valid."""
        self.hold_reasons = []

    @transition(
        field=state, source=OrderState.VALIDATED, target=OrderState.ACCEPTED, conditions=[is_fully_allocated],
        permission=OPERATE_ORDER,
    )  # fmt: skip
    def accept(self) -> None:
        """Stock validation complete: every line is allocated."""

    @transition(field=state, source=HOLDABLE_STATES, target=OrderState.ON_HOLD, conditions=[has_hold_reasons],
                permission=OPERATE_ORDER)  # fmt: skip
    def hold(self) -> None:
        """Missing or conflicting data, or short of stock: wait for clarity, never guess."""

    @transition(
        field=state, source=OrderState.ACCEPTED, target=OrderState.PICKING, conditions=[is_fully_allocated],
        permission=OPERATE_ORDER,
    )  # fmt: skip
    def release_to_pick(self) -> None:
        """Released to the pick queue: allocated → in pick; from here edits are escalated."""

    @transition(field=state, source=OrderState.PICKING, target=OrderState.PICKED, permission=OPERATE_ORDER)
    def confirm_picked(self) -> None:
        """The last line is picked: goods move to the pack station."""

    @transition(field=state, source=OrderState.PICKED, target=OrderState.PACKED, permission=OPERATE_ORDER)
    def pack(self) -> None:
        """Goods are staged and ready for the carrier."""

    @transition(
        field=state, source=OrderState.PACKED, target=OrderState.DISPATCHED, conditions=[has_carrier_proof],
        permission=OPERATE_SHIPMENT,
    )  # fmt: skip
    def dispatch(self) -> None:
        """The carrier took custody, with proof."""

    @transition(field=state, source=OrderState.DISPATCHED, target=OrderState.IN_TRANSIT, permission=OPERATE_SHIPMENT)
    def mark_in_transit(self) -> None:
        """The carrier scanned it on its way."""

    @transition(
        field=state, source=[OrderState.DISPATCHED, OrderState.IN_TRANSIT], target=OrderState.DELIVERED,
        permission=OPERATE_SHIPMENT,
    )  # fmt: skip
    def deliver(self) -> None:
        """The carrier confirmed delivery: fulfilment closes."""

    @transition(
        field=state, source=[OrderState.VALIDATED, OrderState.ACCEPTED, OrderState.ON_HOLD],
        target=OrderState.RECEIVED, permission=OPERATE_ORDER,
    )  # fmt: skip
    def revise(self) -> None:
        """An edit before release to pick: the order goes back through validation and allocation."""

    @transition(field=state, source=CANCELLABLE_STATES, target=OrderState.CANCELLED, permission=OPERATE_ORDER)
    def cancel(self) -> None:
        """Cancelled before packing; its allocation goes back to available."""


class OrderLine(models.Model):
    """One line as received (code and quantity text kept verbatim) and what validation made of it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    sku_code = models.CharField(max_length=100, blank=True, help_text="As received")
    sku = models.ForeignKey("inventory.Sku", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity_received = models.CharField(max_length=60, blank=True, help_text="As received")
    quantity = models.PositiveIntegerField(null=True, blank=True, help_text="Parsed; empty when not a valid quantity")
    external_line_id = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=300, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True, help_text="Cancelled by a person: kept, not shipped")
    cancel_reason = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order_id", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="order_line_number_unique"),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gte=1),
                name="order_line_quantity_positive",
                violation_error_message="A parsed quantity is at least 1.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity_received} × {self.sku_code}"


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


# --- shipments ----------------------------------------------------------------------------------------------------


class ShipmentState(models.TextChoices):
    STAGED = "staged", "Staged"
    HANDED_TO_CARRIER = "handed_to_carrier", "Handed to carrier"
    IN_TRANSIT = "in_transit", "In transit"
    DELIVERED = "delivered", "Delivered"


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
    lines = models.JSONField(
        default=list, blank=True, help_text="[[sku_id, quantity], ...] of one leg of a split order; empty: all of it"
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
        indexes = [models.Index(fields=["state", "handed_at"], name="shipment_state_handed")]
        permissions = [
            ("operate_shipment", "Can create shipments, hand them to the carrier and record scans"),
            ("force_shipment_transition", "Can force a shipment transition"),
            ("close_shipment", "Can close a shipment manually with a reason"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number or '(no tracking)'} ({self.get_state_display()})"

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


def shipment_platform_lines(shipment: Shipment) -> list[dict[str, Any]]:
    """A leg shipment's lines as its channel knows them, `{line_item_id, sku, quantity}` per order line (a SKU on
    several lines fills them in line order), for a fulfilment of just that leg. Empty: the shipment is the whole
    order."""
    left = {int(sku_id): int(qty) for sku_id, qty in shipment.lines or []}
    found: list[dict[str, Any]] = []
    for line in OrderLine.objects.filter(order_id=shipment.order_id, sku__isnull=False).order_by("line_number"):
        n = min(left.get(line.sku_id, 0), line.quantity or 0)  # type: ignore[arg-type]
        if n:
            left[line.sku_id] -= n  # type: ignore[index]
            found.append({"line_item_id": line.external_line_id, "sku": line.sku_code, "quantity": n})
    return found


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
