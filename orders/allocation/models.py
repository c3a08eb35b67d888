"""The brand's allocation policy, channel cutoffs per facility, contract reservations for wholesale and scheduled
inbound that pre-orders are promised against (seed 000 §03–04 "Allocation order during oversell", "Cutoff time is the
binding constraint"). Policies and cutoffs are contracts the brand edits, so every change is kept in history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import F, Q, Sum
from simple_history.models import HistoricalRecords

from inventory.models import Sku
from warehouse.models import Brand, Facility


class PriorityClass(models.TextChoices):
    """Which pool an order draws from and where it queues when demand outruns supply."""

    WHOLESALE = "wholesale", "Wholesale / retail (against contract reservations)"
    PREORDER = "preorder", "Pre-order (against scheduled inbound)"
    MARKETPLACE_SLA = (
        "marketplace_sla",
        "Marketplace SLA (a marketplace's Prime orders, or due inside the channel's SLA window)",
    )
    STANDARD = "standard", "Standard (first in, first out by paid time)"


DEFAULT_CLASS_ORDER = [
    PriorityClass.WHOLESALE.value,
    PriorityClass.PREORDER.value,
    PriorityClass.MARKETPLACE_SLA.value,
    PriorityClass.STANDARD.value,
]


def default_class_order() -> list[str]:
    return list(DEFAULT_CLASS_ORDER)


class AllocationPolicy(models.Model):
    """How one brand's waiting orders share scarce stock. Default: FIFO by paid time, with the seed's exceptions.

    Which orders are marketplace SLA is the channel's to say, not the policy's: a marketplace's Prime/SLA-flagged
    orders, and orders due inside a channel's SLA window (`warehouse.SalesChannel.is_marketplace`,
    `sla_window_hours`); the policy says where that class queues."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="allocation_policy")
    class_order = models.JSONField(
        default=default_class_order, help_text="Priority classes, first served first; FIFO by paid time within one"
    )
    split_allowed = models.BooleanField(default=True, help_text="Split across facilities when no single one can")
    split_fee = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("4.50"), help_text="Estimated fee per extra facility shipped"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "allocation policies"
        # A brand user adjusts their own brands' policy on the page /allocation-policy/ (scoped to their brands).
        permissions = [("adjust_own_policy", "Can adjust the allocation policy of one's own brands")]
        constraints = [
            models.CheckConstraint(
                condition=Q(split_fee__gte=0),
                name="allocation_split_fee_non_negative",
                violation_error_message="The split fee cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"Allocation policy of {self.brand}"

    def class_rank(self, priority: str) -> int:
        order = [c for c in self.class_order if c in PriorityClass.values] or DEFAULT_CLASS_ORDER
        return order.index(priority) if priority in order else len(order)


class Cutoff(models.Model):
    """Orders paid before `cutoff_time` (the facility's local time) on a ship day ship that day, plus
    `handling_days` ship days. A contract per brand, channel and facility; `platform` blank = every other channel.
    A marketplace channel's cutoff is always a hard deadline (`SalesChannel.is_marketplace`)."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="cutoffs")
    platform = models.CharField(
        max_length=20, blank=True, help_text="The platform code of the brand's sales channel; blank = default"
    )
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="cutoffs")
    cutoff_time = models.TimeField(default=dt.time(15, 0))
    handling_days = models.PositiveSmallIntegerField(default=0, help_text="Ship days after the paid day's cutoff")
    ship_weekdays = models.JSONField(default=list, blank=True, help_text="0=Monday … 6=Sunday; empty = Mon–Fri")
    hard_deadline = models.BooleanField(
        default=False, help_text="Handling time is an account-health contract (always true for a marketplace channel)"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["brand_id", "facility_id", "platform"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "platform", "facility"],
                name="one_cutoff_per_brand_channel_facility",
                violation_error_message="This channel already has a cutoff at this facility.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.platform or 'default'} @ {self.facility.code}: {self.cutoff_time:%H:%M}"

    @property
    def weekdays(self) -> list[int]:
        days = [int(d) for d in (self.ship_weekdays or []) if str(d).isdigit() and 0 <= int(d) <= 6]
        return sorted(set(days)) or [0, 1, 2, 3, 4]


class ContractReservationQuerySet(models.QuerySet["ContractReservation"]):
    def open(self) -> ContractReservationQuerySet:
        """Reservations with units not yet drawn."""
        return self.filter(drawn__lt=F("quantity"))

    def owed(self) -> models.QuerySet[Any]:
        """The units still owed to contracts, the one query for it: rows `{facility_id, sku_id, customer, units}`,
        units = Σ (quantity − drawn) over the open reservations of that customer, SKU and facility."""
        return self.open().values("facility_id", "sku_id", "customer").annotate(units=Sum(F("quantity") - F("drawn")))


class ContractReservation(models.Model):
    """Units set aside for a wholesale or retail customer by contract (seed 000 §03): ordinary orders never take
    them; that customer's orders draw on them first. `remaining` = quantity − drawn."""

    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="contract_reservations")
    customer = models.CharField(max_length=200, help_text="The wholesale/retail account, as on its orders")
    contract_ref = models.CharField(max_length=100, blank=True)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="contract_reservations")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="contract_reservations")
    quantity = models.PositiveIntegerField()
    drawn = models.PositiveIntegerField(default=0)
    ship_date = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    objects = ContractReservationQuerySet.as_manager()

    class Meta:
        ordering = ["brand_id", "customer", "sku_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(drawn__lte=F("quantity")),
                name="reservation_drawn_within_quantity",
                violation_error_message="More drawn than reserved.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer}: {self.quantity} × {self.sku.code} @ {self.facility.code}"

    @property
    def remaining(self) -> int:
        return self.quantity - self.drawn


class ScheduledInboundQuerySet(models.QuerySet["ScheduledInbound"]):
    """Schedules are read through their expected inbound line: SKU, facility, date and quantity are the line's."""

    def open(self) -> ScheduledInboundQuerySet:
        return self.filter(received=False)

    def of_skus(self, sku_ids: Any) -> ScheduledInboundQuerySet:
        return self.filter(expected_line__sku_id__in=list(sku_ids))

    def at(self, facility: Any) -> ScheduledInboundQuerySet:
        return self.filter(expected_line__inbound__facility=facility)

    def with_line(self) -> ScheduledInboundQuerySet:
        return self.select_related(
            "expected_line__sku", "expected_line__inbound__facility", "expected_line__inbound__brand"
        )

    def soonest_first(self) -> ScheduledInboundQuerySet:
        return self.order_by("expected_line__inbound__expected_on", "pk")


class ScheduledInbound(models.Model):
    """The pre-order side of one expected inbound line (issue 16 §1: one model, not two): pre-orders are promised
    against the line's units (virtual stock), up to `preorder_limit` of them, and are allocated from them first when
    the line is received. SKU, facility, brand, expected date and quantity are the line's and its inbound's."""

    expected_line = models.OneToOneField(
        "inventory.ExpectedInboundLine",
        on_delete=models.PROTECT,
        related_name="preorder_schedule",
        help_text="The expected inbound line (ASN/PO) this stock arrives on",
    )
    preorder_limit = models.PositiveIntegerField(default=0, help_text="Units sold ahead as pre-orders")
    preordered = models.PositiveIntegerField(default=0)
    received = models.BooleanField(default=False)
    history = HistoricalRecords()

    objects = ScheduledInboundQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "scheduled inbound"
        constraints = [
            models.CheckConstraint(
                condition=Q(preordered__lte=F("preorder_limit")),
                name="preordered_within_limit",
                violation_error_message="Pre-orders exceed the limit.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku.code} @ {self.facility.code} on {self.expected_on}"

    # The line's facts, read through the reference (select `with_line()` to read them without a query each).
    @property
    def sku(self) -> Sku:
        return self.expected_line.sku

    @property
    def sku_id(self) -> int:
        return self.expected_line.sku_id

    @property
    def facility(self) -> Facility:
        return self.expected_line.inbound.facility

    @property
    def facility_id(self) -> int:
        return self.expected_line.inbound.facility_id

    @property
    def brand(self) -> Brand:
        return self.expected_line.inbound.brand

    @property
    def brand_id(self) -> int:
        return self.expected_line.inbound.brand_id

    @property
    def quantity(self) -> int:
        return self.expected_line.quantity_expected

    @property
    def expected_on(self) -> dt.date:
        return self.expected_line.inbound.expected_on

    @property
    def preorder_open(self) -> int:
        """Virtual units still advertisable as pre-orders."""
        return 0 if self.received else self.preorder_limit - self.preordered


class OrderRoute(models.Model):
    """Where one order ships from, as routing decided it: one leg normally, several for a split, with the estimated
    split fee the brand sees on the order and in its view. It keeps what only routing can say (the facilities in leg
    order, the fee, whether the cutoff is met, why it is short); what each leg holds is the order's allocation rows
    at that facility (`leg_lines`), never a copy."""

    order = models.OneToOneField("orders.Order", on_delete=models.CASCADE, related_name="route")
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="order_routes")
    legs = models.JSONField(default=list, help_text='[{"facility": code, "facility_id": id}, ...] in leg order')
    split_fee = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    cutoff_met = models.BooleanField(default=True)
    short = models.JSONField(default=list, blank=True, help_text="Reasons no facility nor split covers the order")
    decided_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["brand", "decided_at"], name="order_route_brand_time")]

    def __str__(self) -> str:
        return f"route of order {self.order_id}: {len(self.legs)} leg(s), fee {self.split_fee}"

    @property
    def is_split(self) -> bool:
        return len(self.legs) > 1

    def leg_lines(self) -> list[tuple[str, list[list[int]]]]:
        """`[(facility code, [[sku_id, quantity], ...]), ...]` in leg order: each leg's lines are the order's
        allocation rows at its facility (by SKU); empty lines while the order holds nothing there."""
        held: dict[int, dict[int, int]] = {}
        rows = self.order.allocation_rows.values_list("facility_id", "sku_id", "quantity")
        for facility_id, sku_id, quantity in rows:
            at = held.setdefault(facility_id, {})
            at[sku_id] = at.get(sku_id, 0) + quantity
        return [
            (leg["facility"], [[s, n] for s, n in sorted(held.get(int(leg["facility_id"]), {}).items())])
            for leg in self.legs
        ]


class PreorderClaim(models.Model):
    """Units of one scheduled inbound promised to one pre-order (counted in `ScheduledInbound.preordered`). One row
    per (order, inbound, SKU), so retries, revisions and redeliveries never claim twice; `released_at` is set when
    the order gives the units back (cancelled, or its lines changed), and a later claim on the same inbound reuses
    the row. The history keeps every claim and give-back."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="preorder_claims")
    inbound = models.ForeignKey(ScheduledInbound, on_delete=models.PROTECT, related_name="claims")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    claimed_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order_id", "sku_id", "inbound_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "inbound", "sku"],
                name="one_preorder_claim_per_order_inbound_sku",
                violation_error_message="This order already claims this inbound.",
            ),
        ]
        indexes = [models.Index(fields=["inbound", "released_at"], name="preorder_claim_inbound")]

    def __str__(self) -> str:
        state = "released" if self.released_at else "claimed"
        return f"order {self.order_id}: {self.quantity} × {self.sku_id} of inbound {self.inbound_id} ({state})"

    @property
    def active(self) -> bool:
        return self.released_at is None
