"""The operator's core: brands (clients of the 3PL), facilities (warehouse sites), the brands' sales channels, the
exception queue and the record of every state transition."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django_fsm import FSMField, FSMModelMixin, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from warehouse.fsm import guard


class Brand(models.Model):
    """A client of the 3PL. Every SKU, order, stock row and return belongs to one."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        permissions = [("view_brand_data", "Can see this brand's orders, stock, returns and SLO pages")]

    def __str__(self) -> str:
        return self.name


class Facility(models.Model):
    """A warehouse site. Cutoffs are in its own time zone."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)
    street = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    time_zone = models.CharField(max_length=64, default="UTC")
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "facilities"

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class SalesChannel(models.Model):
    """Where a brand sells: one storefront or one marketplace seller account.
    Orders point at it; integrations keeps its credentials and mappings in a one-to-one `Connection`.

    The core knows no platform: `platform_code` is whatever code the integrations registry gives the platform, and
    what the platform is (a marketplace or the brand's own storefront) is data on the row, filled from the registry
    when the connection is made. Seed 000 §03: marketplaces treat handling time as a hard contract (account health),
    and some promise the customer a ship-within window ("to-ship-within-72-hours")."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="sales_channels")
    platform_code = models.CharField(max_length=20, help_text="The platform's code in the integrations registry")
    name = models.CharField(max_length=120)
    is_marketplace = models.BooleanField(
        default=False,
        help_text="A marketplace (account-health metrics): its handling time is a hard deadline, and its "
        "Prime/SLA-flagged orders are served as marketplace SLA",
    )
    sla_window_hours = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="The channel's ship-within window in hours (e.g. 72): its orders due inside it are served as "
        "marketplace SLA. Blank: no window",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["brand_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "platform_code", "name"],
                name="one_sales_channel_per_brand_platform_name",
                violation_error_message="This brand already has a channel of this name on this platform.",
            ),
            models.CheckConstraint(
                condition=models.Q(sla_window_hours__isnull=True) | models.Q(sla_window_hours__gte=1),
                name="sales_channel_sla_window_positive",
                violation_error_message="The SLA window must be at least 1 hour.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.platform_code})"


class ExceptionKind(models.TextChoices):
    ORDER_ON_HOLD = "order_on_hold", "Order on hold: data missing or invalid"
    ORDER_SHORT = "order_short", "Order short of stock"
    ORDER_EDIT_AFTER_RELEASE = "order_edit_after_release", "Order edit after release to pick"
    ORDER_UPDATE_CONFLICT = "order_update_conflict", "Platform update conflicts with a person's fix"
    CANCEL_AFTER_PACK = "cancel_after_pack", "Cancellation after packing"
    PICKING_STALLED = "picking_stalled", "Picking stalled (no activity for 4 h)"
    SHORT_PICK = "short_pick", "Short pick: the shelf has fewer than the system"
    CARRIER_ACK_MISSING = "carrier_ack_missing", "No carrier acknowledgement within 24 h"
    DELIVERY_FAILED = "delivery_failed", "The carrier could not deliver"
    MANUAL_TRACKING = "manual_tracking", "Tracking entered manually: review against the carrier"
    INVENTORY_DRIFT = "inventory_drift", "Stock bucket differs from its ledger"
    INVENTORY_DIVERGENCE = "inventory_divergence", "Channel stock diverges from the WMS"
    RETURN_AWAITING_TRIAGE = "return_awaiting_triage", "Return awaiting triage"
    CATALOG_DRIFT = "catalog_drift", "SKU missing weight, dimensions or HS code"
    WEBHOOK_QUARANTINE = "webhook_quarantine", "Webhook body quarantined"
    DEAD_LETTER = "dead_letter", "Outbound write dead-lettered"
    INBOUND_DEAD_LETTER = "inbound_dead_letter", "Inbound delivery dead-lettered"
    RECONCILE_FAILED = "reconcile_failed", "Reconciler run failed"
    CHANNEL_SILENT = "channel_silent", "Channel silent while reconciler finds orders"
    CREDENTIAL_EXPIRED = "credential_expired", "Connection credentials expired"
    INCIDENT = "incident", "Incident: a connector signal crossed its alert threshold"
    RECEIVING_VARIANCE = "receiving_variance", "Receiving variance: over, short or unexpected units"
    OTHER = "other", "Other"


class ExceptionState(models.TextChoices):
    OPEN = "open", "Open"
    ESCALATED = "escalated", "Escalated"
    RESOLVED = "resolved", "Resolved"


@guard("note_required", "a decision note is required")
def _has_decision_note(item: ExceptionItem) -> bool:
    return bool((item.decision_note or "").strip())


class ExceptionItem(FSMModelMixin, models.Model):
    """One problem waiting for a person. It never resolves itself: a resolution needs a note and who took it."""

    kind = models.CharField(max_length=40, choices=ExceptionKind.choices, db_index=True)
    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.PROTECT, related_name="exceptions")
    facility = models.ForeignKey(Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    subject = GenericForeignKey("content_type", "object_id")
    summary = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True, help_text='{"reasons": [{"code", "message"}], ...}')
    dedupe_key = models.CharField(max_length=200, help_text="One open exception per cause")
    opened_at = models.DateTimeField(auto_now_add=True, db_index=True)
    state = FSMField(default=ExceptionState.OPEN, choices=ExceptionState.choices, protected=True, db_index=True)
    decision_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["opened_at", "id"]
        indexes = [
            models.Index(fields=["state", "opened_at"], name="exception_open_age"),
            models.Index(fields=["content_type", "object_id"], name="exception_subject"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=models.Q(state="open"),
                name="one_open_exception_per_cause",
                violation_error_message="An open exception for this cause already exists.",
            ),
        ]
        permissions = [
            ("resolve_exceptionitem", "Can resolve or escalate exceptions"),
            ("force_exceptionitem_transition", "Can force an exception transition"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"

    @property
    def reasons(self) -> list[dict[str, str]]:
        return list(self.detail.get("reasons", []))

    @transition(
        field=state,
        source=[ExceptionState.OPEN, ExceptionState.ESCALATED],
        target=ExceptionState.RESOLVED,
        conditions=[_has_decision_note],
        permission="warehouse.resolve_exceptionitem",
    )
    def resolve(self) -> None:
        """A person recorded a decision (the note), or the re-check of the cause passed."""

    @transition(
        field=state,
        source=ExceptionState.OPEN,
        target=ExceptionState.ESCALATED,
        conditions=[_has_decision_note],
        permission="warehouse.resolve_exceptionitem",
    )
    def escalate(self) -> None:
        """Handed up with a note saying why."""


class TransitionRecord(models.Model):
    """Who moved which object from which state to which, when and why; forced ones are marked.

    Append-only: written by `warehouse.transitions.transition_apply` in the same transaction as the change."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    name = models.CharField(max_length=60)
    source = models.CharField(max_length=40)
    target = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(blank=True)
    forced = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"], name="transition_subject")]

    def __str__(self) -> str:
        who = self.actor or "system"
        return f"{self.name}: {self.source} → {self.target} by {who}"


class BrandUserObjectPermission(UserObjectPermissionBase):
    """guardian: a user's permission on one brand. A direct foreign key (not guardian's generic table) so that
    scoping a list by brand is an integer join."""

    content_object = models.ForeignKey(Brand, on_delete=models.CASCADE)


class BrandGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Brand, on_delete=models.CASCADE)
