"""Orders and their lines (seed 001 "Object ownership: Order", "Status transitions"; design §3).

Transition methods are pure: guards are named predicates (`warehouse.fsm.guard`) and the in-memory change. The
services in `orders.services` run them through `warehouse.transitions.transition_apply` and move the stock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from orders.models.mandatory import mandatory_guards
from orders.models.states import (
    CANCELLABLE_STATES,
    FLOOR_HOLDABLE_STATES,
    HOLDABLE_STATES,
    OPERATE_ORDER,
    OPERATE_SHIPMENT,
    OrderSource,
    OrderState,
    ShipmentState,
)
from warehouse.fsm import guard
from warehouse.models import Brand, Facility, SalesChannel

if TYPE_CHECKING:
    from orders.models.allocation import AllocationRow

# --- order guards -------------------------------------------------------------------------------------------------


def order_lines_all(order: Order) -> list[OrderLine]:
    """Every line of the order, cancelled ones included, read once per instance (`Order.line_cache`): the guards,
    validation and the stock bookkeeping each ask for them. Services that change lines drop it (`forget_lines`) or
    set it to the rows they wrote (`remember_lines`); a list may load it with `Prefetch("lines", to_attr=...)`."""
    if order.pk is None:
        return []
    cached = getattr(order, "line_cache", None)
    if cached is None:
        cached = order.line_cache = list(OrderLine.objects.filter(order=order).select_related("sku"))
    return cached


def order_lines(order: Order) -> list[OrderLine]:
    """The order's lines that count: a cancelled line is kept on the order, never allocated or shipped."""
    return [line for line in order_lines_all(order) if line.cancelled_at is None]


def remember_lines(order: Order, lines: list[OrderLine]) -> None:
    """Lines a service has just written are the order's lines (no re-read)."""
    order.line_cache = list(lines)


def forget_lines(order: Order) -> None:
    order.line_cache = None


def order_skus(order: Order) -> dict[int, Any]:
    """{sku_id: Sku} of the order's resolved lines, from the lines already read where they carry their SKU."""
    lines = [line for line in order_lines(order) if line.sku_id is not None]
    found: dict[int, Any] = {line.sku_id: line.sku for line in lines if OrderLine.sku.is_cached(line)}  # type: ignore[misc]
    missing = [line.sku_id for line in lines if line.sku_id not in found]
    if missing:
        sku_model: Any = OrderLine._meta.get_field("sku").related_model
        found.update(sku_model.objects.in_bulk(missing))
    return found


@guard("not_allocated", "acceptance needs every line allocated in full")
def is_fully_allocated(order: Order) -> bool:
    required = order.required_stock()
    return bool(required) and order.allocated_stock() == required


@guard("hold_reasons_required", "an order is held with each reason named")
def has_hold_reasons(order: Order) -> bool:
    return bool(order.hold_reasons)


def created_now(order: Order) -> bool:
    """Inserted by `order_ingest` in the current transaction (`Order.inserted_now`): nothing can refer to the order
    yet (no exceptions, route, old lines or pre-order claims), so the look-ups for them are skipped."""
    return order.inserted_now


def held_for_split(order: Order) -> bool:
    """On hold because routing would split it (or its split lost a stock race): routed again on every retry."""
    return order.state == OrderState.ON_HOLD and any(
        isinstance(r, dict) and r.get("code") == "split_route" for r in order.hold_reasons or []
    )


def allocation_rows(order: Order) -> list[AllocationRow]:
    """The order's allocation rows (`orders.models.allocation`), read once per instance (`Order.allocation_cache`)
    with their SKU and facility; the allocation sets them as it writes them. An order inserted in this transaction
    has none to read."""
    cached = getattr(order, "allocation_cache", None)
    if cached is None:
        if order.pk is None or created_now(order):
            return []
        cached = order.allocation_cache = list(order.allocation_rows.select_related("sku", "facility").order_by("id"))
    return cached


def allocation_rows_remember(order: Order, rows: list[AllocationRow]) -> None:
    """Rows a service has just written (or deleted: `[]`) are the order's rows (no re-read)."""
    order.allocation_cache = list(rows)


def allocation_legs(order: Order) -> list[tuple[int, list[list[int]]]]:
    """The order's allocation per facility, `[(facility_id, [[sku_id, quantity], ...]), ...]`, from its rows: the
    order's facility first, then in the order the legs were allocated. Every stock step after allocation (release,
    pick, unpick, ship) walks these legs."""
    legs: dict[int, dict[int, int]] = {}
    for row in allocation_rows(order):
        at = legs.setdefault(row.facility_id, {})
        at[row.sku_id] = at.get(row.sku_id, 0) + row.quantity
    ordered = sorted(legs, key=lambda facility_id: facility_id != order.facility_id)  # stable
    return [(facility_id, [[s, q] for s, q in sorted(legs[facility_id].items())]) for facility_id in ordered]


def is_split(order: Order) -> bool:
    """Allocated across more than one facility (each leg then has its own stock event ids and shipment)."""
    return len({row.facility_id for row in allocation_rows(order)}) > 1


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


@guard("held_from_elsewhere", "the order was not held from picking")
def held_from_picking(order: Order) -> bool:
    return order.held_from == OrderState.PICKING


@guard("held_from_elsewhere", "the order was not held once packed")
def held_from_packed(order: Order) -> bool:
    return order.held_from == OrderState.PACKED


# The mandatory-field rules (`orders.models.mandatory`), one guard per reason code.
VALIDATION_GUARDS = mandatory_guards(order_lines)


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
    held_from = models.CharField(
        max_length=20, blank=True, help_text="While held on the floor: the state it resumes to (picking or packed)"
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

    # Not stored. True while `order_ingest` handles the order it has just inserted (see `created_now`).
    inserted_now: bool = False
    # Not stored: the lines as the services read or wrote them (`order_lines_all`). Only annotated, never set on the
    # class, so that a `Prefetch("lines", to_attr="line_cache")` still fills it.
    line_cache: list[OrderLine] | None
    # Not stored: the allocation rows as read or written (`allocation_rows`), likewise only annotated.
    allocation_cache: list[AllocationRow] | None

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
        """[[sku_id, quantity], ...] the lines need, summed per SKU, sorted (the shape of `allocated_stock`)."""
        totals: dict[int, int] = {}
        for line in order_lines(self):
            if line.sku_id is None or line.quantity is None or line.quantity <= 0:
                return []
            totals[line.sku_id] = totals.get(line.sku_id, 0) + line.quantity
        return [[sku_id, qty] for sku_id, qty in sorted(totals.items())]

    def allocated_stock(self) -> list[list[int]]:
        """[[sku_id, quantity], ...] allocated, summed per SKU over its rows (the shape of `required_stock`)."""
        totals: dict[int, int] = {}
        for row in allocation_rows(self):
            totals[row.sku_id] = totals.get(row.sku_id, 0) + row.quantity
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

    @transition(field=state, source=FLOOR_HOLDABLE_STATES, target=OrderState.FLOOR_HOLD,
                conditions=[has_hold_reasons], permission=OPERATE_ORDER)  # fmt: skip
    def hold_on_floor(self) -> None:
        """Stopped on the floor (a short pick; a packed order nothing can ship yet): stock stays in pick."""
        self.held_from = self.state

    @transition(field=state, source=OrderState.FLOOR_HOLD, target=OrderState.PICKING,
                conditions=[held_from_picking], permission="orders.force_order_transition")  # fmt: skip
    def resume_picking(self) -> None:
        """A manager's decision: picking goes on (the stock was found, or the short line cancelled)."""
        self.held_from = ""
        self.hold_reasons = []

    @transition(field=state, source=OrderState.FLOOR_HOLD, target=OrderState.PACKED,
                conditions=[held_from_packed], permission=OPERATE_ORDER)  # fmt: skip
    def resume_packed(self) -> None:
        """What held the packed order is settled: it waits for its carrier again."""
        self.held_from = ""
        self.hold_reasons = []

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
