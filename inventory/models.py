"""Catalog (SKUs, aliases, barcodes, kits), stock per SKU and facility in buckets, and the append-only movement ledger.

Stock numbers change only through `inventory.services`, which write a `Movement` in the same transaction; the
ledger is the history of stock (a `QuerySet.update()` writes no simple-history row), and `available` is derived,
never stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from warehouse.fsm import guard
from warehouse.models import Brand, Facility

ALIAS_WINDOW = timedelta(days=30)
BUCKETS = ("on_hand", "allocated", "in_pick", "quarantine", "damaged", "inbound", "reserved")
# Buckets that hold units physically on hand but not free to promise.
COMMITTED_BUCKETS = ("allocated", "in_pick", "quarantine", "damaged", "reserved")


def alias_window_end() -> Any:
    return timezone.now() + ALIAS_WINDOW


class SkuState(models.TextChoices):
    DEFINED = "defined", "Defined"
    VARIANTS_ASSIGNED = "variants_assigned", "Variants assigned"
    PACK_CONFIGURATION_LOCKED = "pack_configuration_locked", "Pack configuration locked"
    BARCODE_ASSIGNED = "barcode_assigned", "Barcode assigned"
    READY_FOR_RECEIVING = "ready_for_receiving", "Ready for receiving"


@guard("title_required", "the SKU needs a title")
def _has_title(sku: Sku) -> bool:
    return bool((sku.title or "").strip())


@guard("variant_attributes_required", "a variant of a parent product needs its variant attributes (e.g. size, colour)")
def _variant_attributes_named(sku: Sku) -> bool:
    return not sku.parent_code or bool(sku.variant_attributes)


@guard("weight_required", "the pack configuration needs a weight in grams")
def _has_weight(sku: Sku) -> bool:
    return bool(sku.weight_grams)


@guard("dimensions_required", "the pack configuration needs length, width and height in mm")
def _has_dimensions(sku: Sku) -> bool:
    return bool(sku.length_mm and sku.width_mm and sku.height_mm)


@guard("kit_components_required", "a kit needs at least one component")
def _kit_has_components(sku: Sku) -> bool:
    return not sku.is_kit or sku.components.exists()


@guard("barcode_required", "the SKU needs an active barcode")
def _has_barcode(sku: Sku) -> bool:
    return sku.barcodes.filter(is_legacy=False).exists()


class Sku(FSMModelMixin, models.Model):
    """A sellable unit of one brand. A kit (`is_kit`) is sold as one unit but stocked as its components."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="skus")
    code = models.CharField(max_length=100)
    title = models.CharField(max_length=300, blank=True)
    parent_code = models.CharField(max_length=100, blank=True, help_text="The parent product's code, for variants")
    variant_attributes = models.JSONField(default=dict, blank=True, help_text='e.g. {"size": "M", "colour": "blue"}')
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    length_mm = models.PositiveIntegerField(null=True, blank=True)
    width_mm = models.PositiveIntegerField(null=True, blank=True)
    height_mm = models.PositiveIntegerField(null=True, blank=True)
    hs_code = models.CharField(max_length=20, blank=True, help_text="Harmonized System code for customs")
    unit_cost = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="What one unit cost the brand (values variances)",
    )
    customs_value = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="Declared value of one unit, for customs"
    )
    country_of_origin = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 country where the unit was made, for customs"
    )
    is_kit = models.BooleanField(default=False)
    state = FSMField(default=SkuState.DEFINED, choices=SkuState.choices, protected=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["brand_id", "code"]
        verbose_name = "SKU"
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "code"], name="sku_code_unique_per_brand", violation_error_message="SKU code in use."
            ),
        ]
        permissions = [
            ("operate_sku", "Can move a SKU through its lifecycle"),
            ("force_sku_transition", "Can force a SKU lifecycle transition"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_ready_for_receiving(self) -> bool:
        return self.state == SkuState.READY_FOR_RECEIVING

    @transition(
        field=state,
        source=SkuState.DEFINED,
        target=SkuState.VARIANTS_ASSIGNED,
        conditions=[_has_title, _variant_attributes_named],
        permission="inventory.operate_sku",
    )
    def assign_variants(self) -> None:
        """Title and variant attributes (or standalone product) are settled."""

    @transition(
        field=state,
        source=SkuState.VARIANTS_ASSIGNED,
        target=SkuState.PACK_CONFIGURATION_LOCKED,
        conditions=[_has_weight, _has_dimensions, _kit_has_components],
        permission="inventory.operate_sku",
    )
    def lock_pack_configuration(self) -> None:
        """Weight and dimensions (and a kit's components) are fixed."""

    @transition(
        field=state,
        source=SkuState.PACK_CONFIGURATION_LOCKED,
        target=SkuState.BARCODE_ASSIGNED,
        conditions=[_has_barcode],
        permission="inventory.operate_sku",
    )
    def assign_barcode(self) -> None:
        """A scannable barcode exists."""

    @transition(
        field=state,
        source=SkuState.BARCODE_ASSIGNED,
        target=SkuState.READY_FOR_RECEIVING,
        conditions=[_has_weight, _has_dimensions, _has_barcode],
        permission="inventory.operate_sku",
    )
    def mark_ready_for_receiving(self) -> None:
        """Inbound may now be received against this SKU."""


class SkuAlias(models.Model):
    """An old SKU code equal to `sku` during a transition window; after it, the old code is retired."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="sku_aliases")
    code = models.CharField(max_length=100, help_text="The old code")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="aliases")
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(default=alias_window_end)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["brand_id", "code"]
        verbose_name = "SKU alias"
        verbose_name_plural = "SKU aliases"
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "code"], name="sku_alias_unique_per_brand", violation_error_message="Alias in use."
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gt=F("valid_from")),
                name="sku_alias_window_positive",
                violation_error_message="The alias window must end after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} = {self.sku.code}"

    def is_valid_at(self, at: Any) -> bool:
        return self.valid_from <= at < self.valid_until


class Barcode(models.Model):
    """A scannable code of a SKU. A legacy barcode keeps resolving after its window, with a warning."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="barcodes")
    value = models.CharField(max_length=64)
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="barcodes")
    is_legacy = models.BooleanField(default=False)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True, help_text="End of the transition window, if any")
    history = HistoricalRecords()

    class Meta:
        ordering = ["brand_id", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "value"], name="barcode_unique_per_brand", violation_error_message="Barcode in use."
            ),
        ]

    def __str__(self) -> str:
        return self.value

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.brand_id = self.sku.brand_id  # a barcode belongs to its SKU's brand, always
        super().save(*args, **kwargs)

    def in_window(self, at: Any) -> bool:
        return self.valid_from <= at and (self.valid_until is None or at < self.valid_until)


class KitComponent(models.Model):
    """`quantity` units of `component` make one `kit`. Kits hold no stock: allocation moves component stock."""

    kit = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="components")
    component = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="used_in_kits")
    quantity = models.PositiveIntegerField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["kit_id", "component_id"]
        constraints = [
            models.UniqueConstraint(fields=["kit", "component"], name="kit_component_once"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="kit_component_quantity_positive", violation_error_message="≥ 1"
            ),
            models.CheckConstraint(
                condition=~Q(kit=F("component")), name="kit_not_its_own_component", violation_error_message="Loop."
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kit.code}: {self.quantity} × {self.component.code}"


def available_expression() -> Any:
    """on_hand − allocated − in_pick − quarantine − damaged − reserved, as a database expression."""
    expr: Any = F("on_hand")
    for bucket in COMMITTED_BUCKETS:
        expr = expr - F(bucket)
    return expr


class StockLevelQuerySet(models.QuerySet["StockLevel"]):
    def with_available(self) -> StockLevelQuerySet:
        return self.annotate(available=models.ExpressionWrapper(available_expression(), models.IntegerField()))  # type: ignore[no-redef]


class StockLevel(models.Model):
    """Units of one SKU at one facility, bucket by bucket. Changed only by the services, each with its Movement."""

    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="stock_levels")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    allocated = models.IntegerField(default=0)
    in_pick = models.IntegerField(default=0)
    quarantine = models.IntegerField(default=0)
    damaged = models.IntegerField(default=0)
    inbound = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0, help_text="Held for wholesale")
    updated_at = models.DateTimeField(auto_now=True)

    objects = StockLevelQuerySet.as_manager()

    class Meta:
        ordering = ["sku_id", "facility_id"]
        constraints = [
            models.UniqueConstraint(fields=["sku", "facility"], name="stock_level_one_per_sku_facility"),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{bucket}__gte": 0}),
                    name=f"stock_{bucket}_non_negative",
                    violation_error_message=f"{bucket} cannot be negative.",
                )
                for bucket in BUCKETS
            ),
            models.CheckConstraint(
                condition=Q(
                    on_hand__gte=F("allocated") + F("in_pick") + F("quarantine") + F("damaged") + F("reserved")
                ),
                name="stock_available_non_negative",
                violation_error_message="Available stock cannot be negative.",
            ),
        ]
        permissions = [
            ("operate_stocklevel", "Can receive, move, allocate and quarantine stock"),
            ("approve_cycle_count", "Can approve a cycle count that corrects on-hand stock"),
        ]

    def __str__(self) -> str:
        return f"{self.sku.code} @ {self.facility.code}"

    @property
    def available(self) -> int:
        return self.on_hand - sum(getattr(self, bucket) for bucket in COMMITTED_BUCKETS)

    @available.setter
    def available(self, value: int) -> None:
        """The `with_available()` annotation sets it; the value is always re-derived from the buckets."""


class MovementKind(models.TextChoices):
    RECEIVE = "receive", "Receive"
    ADJUST = "adjust", "Adjust"
    CYCLE_COUNT = "cycle_count", "Cycle count"
    ALLOCATE = "allocate", "Allocate"
    RELEASE = "release", "Release allocation"
    START_PICK = "start_pick", "Start pick"
    SHIP = "ship", "Ship"
    QUARANTINE = "quarantine", "Quarantine"
    QUARANTINE_RELEASE = "quarantine_release", "Release from quarantine"
    RETURN_RECEIVE = "return_receive", "Return received into quarantine"
    RETURN_RESTOCK = "return_restock", "Return restocked"
    RETURN_REWORK = "return_rework", "Return to rework (damaged)"
    RETURN_DISPOSE = "return_dispose", "Return disposed"
    UNPICK = "unpick", "Put back from pick"
    RESERVE = "reserve", "Reserve for a contract"
    UNRESERVE = "unreserve", "Release a contract reservation"
    ALLOCATE_RESERVED = "allocate_reserved", "Allocate from a contract reservation"


class Movement(models.Model):
    """One append-only ledger row: how one event changed the buckets of one SKU at one facility.

    An event that moves several SKUs (an allocation of many lines) writes lines 1..n under the same `event_id`;
    (event_id, line) is unique and every event has a line 1, so a replayed event id can never be recorded twice.
    On PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002)."""

    event_id = models.CharField(max_length=200)
    line = models.PositiveSmallIntegerField(default=1)
    kind = models.CharField(max_length=30, choices=MovementKind.choices)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="movements")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="movements")
    quantity = models.IntegerField(help_text="Units moved (signed for adjustments and counts)")
    on_hand_delta = models.IntegerField(default=0)
    allocated_delta = models.IntegerField(default=0)
    in_pick_delta = models.IntegerField(default=0)
    quarantine_delta = models.IntegerField(default=0)
    damaged_delta = models.IntegerField(default=0)
    inbound_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    reference = models.CharField(max_length=200, blank=True, help_text="e.g. the order or return it belongs to")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "line"],
                name="movement_event_recorded_once",
                violation_error_message="This event is already in the ledger.",
            ),
        ]
        indexes = [models.Index(fields=["sku", "facility", "created_at"], name="movement_stock_time")]

    def __str__(self) -> str:
        return f"{self.event_id}#{self.line} {self.kind} {self.quantity} × {self.sku_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("The movement ledger is append-only: write a new movement instead.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("The movement ledger is append-only: write a compensating movement instead.")

    def deltas(self) -> dict[str, int]:
        return {bucket: getattr(self, f"{bucket}_delta") for bucket in BUCKETS}


# ---------------------------------------------------------------------------------------------------------------
# Catalog ownership: a per-brand switch, so a brand whose ERP owns the master sees it read-only in the console
# ---------------------------------------------------------------------------------------------------------------


class CatalogOwnership(models.Model):
    """Who owns a brand's catalog master. When `owned_by_erp`, the console shows the master fields read-only and
    says so (the ERP writes them through the API); a brand without a row owns its catalog in the console."""

    brand = models.OneToOneField(Brand, on_delete=models.CASCADE, related_name="catalog_ownership")
    owned_by_erp = models.BooleanField(default=False)
    erp_name = models.CharField(max_length=100, blank=True, help_text="e.g. Odoo, SAP B1 (shown on the pages)")
    history = HistoricalRecords()

    class Meta:
        verbose_name = "catalog ownership"

    def __str__(self) -> str:
        return f"{self.brand}: {'ERP' if self.owned_by_erp else 'console'}"


# ---------------------------------------------------------------------------------------------------------------
# Receiving: expected inbound (an ASN or a purchase order) and its lines
# ---------------------------------------------------------------------------------------------------------------


class InboundKind(models.TextChoices):
    ASN = "asn", "Advance shipping notice"
    PO = "po", "Purchase order"


class InboundSource(models.TextChoices):
    BRAND = "brand", "Brand"
    ERP = "erp", "ERP"
    MANAGER = "manager", "Warehouse manager"


class InboundState(models.TextChoices):
    EXPECTED = "expected", "Expected"
    RECEIVING = "receiving", "Receiving"
    CLOSED = "closed", "Closed"


class Variance(models.TextChoices):
    NONE = "", "None"
    OVER = "over", "Over"
    SHORT = "short", "Short"
    UNEXPECTED = "unexpected", "Unexpected"


class VarianceState(models.TextChoices):
    NONE = "", "None"
    OPEN = "open", "Waiting for a decision"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"


@guard("variances_undecided", "every over, short or unexpected receipt needs a decision first")
def _variances_decided(inbound: ExpectedInbound) -> bool:
    return not inbound.lines.filter(variance_state=VarianceState.OPEN).exists()


class ExpectedInbound(FSMModelMixin, models.Model):
    """Stock a brand, its ERP or a manager announced for a facility and date, line by line. Receipts move stock
    through `inventory.receiving`; over, short and unexpected units wait for a person's decision."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="expected_inbound")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="expected_inbound")
    kind = models.CharField(max_length=3, choices=InboundKind.choices, default=InboundKind.ASN)
    reference = models.CharField(max_length=100, help_text="The ASN or PO number, unique per brand")
    expected_on = models.DateField()
    source = models.CharField(max_length=10, choices=InboundSource.choices)
    state = FSMField(default=InboundState.EXPECTED, choices=InboundState.choices, protected=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When receiving was declared finished")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-expected_on", "-id"]
        verbose_name_plural = "expected inbound"
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "reference"], name="inbound_reference_unique_per_brand",
                violation_error_message="Reference in use.",
            ),
        ]  # fmt: skip
        permissions = [("operate_expectedinbound", "Can receive expected inbound")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}"

    @transition(
        field=state,
        source=InboundState.EXPECTED,
        target=InboundState.RECEIVING,
        permission="inventory.operate_expectedinbound",
    )
    def start_receiving(self) -> None:
        """The first units were received."""

    @transition(
        field=state,
        source=[InboundState.EXPECTED, InboundState.RECEIVING],
        target=InboundState.CLOSED,
        conditions=[_variances_decided],
        permission="inventory.operate_expectedinbound",
    )
    def close(self) -> None:
        """Receiving finished and every variance decided."""


class ExpectedInboundLine(models.Model):
    """One SKU of an expected inbound. `quantity_received` units are in stock; `quantity_held` over or unexpected
    units wait at the dock for a decision (accepted: received into stock; rejected: `quantity_refused`)."""

    inbound = models.ForeignKey(ExpectedInbound, on_delete=models.CASCADE, related_name="lines")
    number = models.PositiveIntegerField()
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="expected_inbound_lines")
    quantity_expected = models.PositiveIntegerField()
    quantity_received = models.PositiveIntegerField(default=0)
    quantity_held = models.PositiveIntegerField(default=0)
    quantity_refused = models.PositiveIntegerField(default=0)
    unexpected = models.BooleanField(default=False, help_text="Not announced: found while receiving")
    variance = models.CharField(max_length=10, choices=Variance.choices, blank=True, default=Variance.NONE)
    variance_state = models.CharField(max_length=10, choices=VarianceState.choices, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["inbound_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["inbound", "number"], name="inbound_line_number_once"),
            models.UniqueConstraint(fields=["inbound", "sku"], name="inbound_line_sku_once"),
            models.CheckConstraint(
                condition=Q(quantity_expected__gt=0) | Q(unexpected=True),
                name="inbound_line_quantity_positive",
                violation_error_message="An expected line needs a quantity of at least 1.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.inbound.reference} #{self.number}: {self.quantity_expected} × {self.sku.code}"

    @property
    def outstanding(self) -> int:
        return max(0, self.quantity_expected - self.quantity_received)


class CountTaskState(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Counted"


class CountTask(models.Model):
    """Count this SKU's shelf at this facility: opened by a short pick (the shelf had fewer than the system), done
    by recording a cycle count (`stock_cycle_count`: the physical count wins, the variance is traced)."""

    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="count_tasks")
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="count_tasks")
    reason = models.CharField(max_length=300, help_text="Why the shelf is counted (e.g. a short pick on order X)")
    state = models.CharField(max_length=10, choices=CountTaskState.choices, default=CountTaskState.OPEN, db_index=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")  # fmt: skip
    counted = models.IntegerField(null=True, blank=True)
    expected = models.IntegerField(null=True, blank=True, help_text="On hand before the count")
    event_id = models.CharField(max_length=200, blank=True, help_text="The cycle count's ledger event")
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")  # fmt: skip
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"count {self.sku.code} @ {self.facility.code} ({self.get_state_display()})"
