"""Returns: authorisation, receipt into quarantine, triage and disposition (seed 001 "Object ownership: Return").

The returns system owns a return until it is triaged; the warehouse owns its disposition after. Returned units sit in
quarantine (never available) until triage records a grade and a disposition; only a sellable one is restocked.
State changes go through `returns.services`, which move the stock through the inventory services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from warehouse.fsm import guard
from warehouse.models import Brand, Facility
from warehouse.roles import brands_visible_to

OPERATE = "returns.operate_return"
TRIAGE = "returns.triage_return"
# Create a return authorisation against a shipped order: managers anywhere, a brand user for their own brand's
# orders only (checked together with brand scoping, like `allocation.adjust_own_policy`).
AUTHORISE = "returns.add_return"


class ReturnState(models.TextChoices):
    INITIATED = "initiated", "Initiated"
    AUTHORIZED = "authorized", "Authorized"
    SHIPPED_BACK = "shipped_back", "Shipped back"
    RECEIVED = "received", "Received (in quarantine)"
    TRIAGED = "triaged", "Triaged"
    RESTOCKED = "restocked", "Restocked"
    REWORKED = "reworked", "Reworked"
    DISPOSED = "disposed", "Disposed"
    COMPLETED = "completed", "Completed (units restocked, reworked or disposed as each was triaged)"


class Disposition(models.TextChoices):
    SELLABLE = "sellable", "Sellable: back to stock"
    REWORK = "rework", "Rework"
    NONCONFORMING = "nonconforming", "Nonconforming: dispose"
    # The return's summary when its units were triaged differently; never a unit's own decision.
    MIXED = "mixed", "Mixed: each unit as triaged"


UNIT_DISPOSITIONS = [choice for choice in Disposition.choices if choice[0] != Disposition.MIXED]


class Grade(models.TextChoices):
    A = "A", "A: as new"
    B = "B", "B: opened, complete"
    C = "C", "C: damaged or incomplete"
    D = "D", "D: unusable"


@guard("lines_required", "the return needs at least one line")
def _has_lines(rma: Return) -> bool:
    return rma.pk is not None and rma.lines.exists()


@guard("facility_required", "the return needs the facility that receives it")
def _has_facility(rma: Return) -> bool:
    return rma.facility_id is not None


@guard("grade_required", "triage needs a grade")
def _has_grade(rma: Return) -> bool:
    return bool(rma.grade)


@guard("disposition_required", "triage needs a disposition (sellable, rework or nonconforming)")
def _has_disposition(rma: Return) -> bool:
    return bool(rma.disposition)


@guard("triage_required", "nothing restocks before triage: a grade and a disposition must be recorded")
def triage_complete(rma: Return) -> bool:
    """The one rule of reverse logistics; the services check it even on a forced transition."""
    return rma.state == ReturnState.TRIAGED and bool(rma.grade) and bool(rma.disposition)


@guard("units_not_triaged", "every received unit needs its own grade and disposition")
def _units_decided(rma: Return) -> bool:
    received = sum(rma.lines.values_list("received_quantity", flat=True))
    decided = sum(rma.decisions.values_list("quantity", flat=True))
    return received > 0 and decided == received


@guard("disposition_not_mixed", "only a return whose units were triaged differently is completed unit by unit")
def _is_mixed(rma: Return) -> bool:
    return rma.disposition == Disposition.MIXED


def _may_authorize(rma: models.Model, user: Any) -> bool:
    """Operations and managers authorise any return; a brand user their own brand's (the brand is the returns
    system of its customers)."""
    has_perm = getattr(user, "has_perm", None)
    if has_perm is None:
        return False
    if has_perm(OPERATE):
        return True
    brand_id: int = getattr(rma, "brand_id", 0)
    return bool(has_perm(AUTHORISE)) and brands_visible_to(user).filter(pk=brand_id).exists()


@guard("disposition_not_sellable", "only a return triaged as sellable is restocked")
def _is_sellable(rma: Return) -> bool:
    return rma.disposition == Disposition.SELLABLE


@guard("disposition_not_rework", "only a return triaged for rework is reworked")
def _is_rework(rma: Return) -> bool:
    return rma.disposition == Disposition.REWORK


@guard("disposition_not_nonconforming", "only a return triaged as nonconforming is disposed")
def _is_nonconforming(rma: Return) -> bool:
    return rma.disposition == Disposition.NONCONFORMING


class Return(FSMModelMixin, models.Model):
    """One return authorisation (RMA) of a brand, with its lines."""

    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="returns")
    rma_number = models.CharField("RMA number", max_length=60)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="returns",
        help_text="The order the units were shipped on, when the returns system names it",
    )  # fmt: skip
    reason = models.CharField(max_length=300, blank=True, help_text="Why the customer returns it")
    facility = models.ForeignKey(Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="returns")
    grade = models.CharField(max_length=1, choices=Grade.choices, blank=True)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True)
    state = FSMField(default=ReturnState.INITIATED, choices=ReturnState.choices, protected=True, db_index=True)
    received_at = models.DateTimeField(null=True, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["brand", "rma_number"],
                name="return_rma_unique_per_brand",
                violation_error_message="This brand already has a return with this RMA number.",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["restocked", "reworked", "disposed", "completed"]) | ~Q(disposition=""),
                name="return_completed_only_after_triage",
                violation_error_message="A return is completed only after triage recorded its disposition.",
            ),
        ]
        indexes = [models.Index(fields=["state", "received_at"], name="return_state_received")]
        permissions = [
            ("operate_return", "Can authorize, receive and complete returns"),
            ("triage_return", "Can triage a return (grade and disposition)"),
            ("force_return_transition", "Can force a return transition (e.g. triage manually)"),
        ]

    def __str__(self) -> str:
        return f"{self.rma_number} ({self.get_state_display()})"

    @transition(
        field=state, source=ReturnState.INITIATED, target=ReturnState.AUTHORIZED, conditions=[_has_lines],
        permission=_may_authorize,
    )  # fmt: skip
    def authorize(self) -> None:
        """The returns system approved the return."""

    @transition(field=state, source=ReturnState.AUTHORIZED, target=ReturnState.SHIPPED_BACK, permission=OPERATE)
    def mark_shipped_back(self) -> None:
        """The customer sent it back."""

    @transition(
        field=state, source=[ReturnState.AUTHORIZED, ReturnState.SHIPPED_BACK], target=ReturnState.RECEIVED,
        conditions=[_has_lines, _has_facility], permission=OPERATE,
    )  # fmt: skip
    def receive(self) -> None:
        """Logged in at the warehouse; its units go to quarantine. A parcel that arrives is evidence it was shipped
        back, so receipt also runs from authorised (the carrier's "shipped back" notice often never comes)."""

    @transition(
        field=state, source=ReturnState.RECEIVED, target=ReturnState.TRIAGED,
        conditions=[_has_grade, _has_disposition, _units_decided], permission=TRIAGE,
    )  # fmt: skip
    def triage(self) -> None:
        """Inspected: a grade and a disposition are recorded."""

    @transition(
        field=state, source=ReturnState.TRIAGED, target=ReturnState.RESTOCKED,
        conditions=[triage_complete, _is_sellable], permission=OPERATE,
    )  # fmt: skip
    def restock(self) -> None:
        """Sellable: quarantine → on hand and available."""

    @transition(
        field=state, source=ReturnState.TRIAGED, target=ReturnState.REWORKED,
        conditions=[triage_complete, _is_rework], permission=OPERATE,
    )  # fmt: skip
    def rework(self) -> None:
        """To rework: quarantine → damaged."""

    @transition(
        field=state, source=ReturnState.TRIAGED, target=ReturnState.DISPOSED,
        conditions=[triage_complete, _is_nonconforming], permission=OPERATE,
    )  # fmt: skip
    def dispose(self) -> None:
        """Nonconforming: the units leave the building."""

    @transition(
        field=state, source=ReturnState.TRIAGED, target=ReturnState.COMPLETED,
        conditions=[triage_complete, _is_mixed], permission=OPERATE,
    )  # fmt: skip
    def complete(self) -> None:
        """Units triaged differently: each is restocked, reworked or disposed as its own decision says."""


class ReturnLine(models.Model):
    """Units of one SKU on a return. A kit comes back as its components."""

    rma = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines", verbose_name="return")
    sku = models.ForeignKey("inventory.Sku", on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField(help_text="Units authorised")
    received_quantity = models.PositiveIntegerField(default=0, help_text="Units received into quarantine so far")
    history = HistoricalRecords()

    class Meta:
        ordering = ["rma_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1),
                name="return_line_quantity_positive",
                violation_error_message="A return line needs at least one unit.",
            ),
            models.UniqueConstraint(fields=["rma", "sku"], name="return_line_one_per_sku"),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=models.F("quantity")),
                name="return_line_received_within_authorised",
                violation_error_message="More units received than the return authorises.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku_id}"

    @property
    def outstanding(self) -> int:
        return self.quantity - self.received_quantity


class ReturnDecision(models.Model):
    """The triage of some received units of one line: their grade and disposition, who decided and when. Each
    unit gets exactly one decision ("nothing goes back to stock without a decision recorded"); the units move out
    of quarantine as their own decision says when the return is completed (`carried_out_at`)."""

    rma = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="decisions", verbose_name="return")
    line = models.ForeignKey(ReturnLine, on_delete=models.CASCADE, related_name="decisions")
    quantity = models.PositiveIntegerField()
    grade = models.CharField(max_length=1, choices=Grade.choices)
    disposition = models.CharField(max_length=20, choices=UNIT_DISPOSITIONS)
    reason = models.TextField(blank=True, help_text="What the person saw")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField()
    carried_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rma_id", "line_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1),
                name="return_decision_quantity_positive",
                violation_error_message="A triage decision covers at least one unit.",
            ),
            models.CheckConstraint(
                condition=~Q(grade="") & Q(disposition__in=["sellable", "rework", "nonconforming"]),
                name="return_decision_complete",
                violation_error_message="A triage decision needs a grade and a disposition.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.line_id}: {self.grade} {self.disposition}"
