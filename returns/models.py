"""Returns: authorisation, receipt into quarantine, triage and disposition (seed 001 "Object ownership: Return").

The returns system owns a return until it is triaged; the warehouse owns its disposition after. Returned units sit in
quarantine (never available) until triage records a grade and a disposition; only a sellable one is restocked.
State changes go through `returns.services`, which move the stock through the inventory services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from warehouse.fsm import guard
from warehouse.models import Brand, Facility

OPERATE = "returns.operate_return"
TRIAGE = "returns.triage_return"


class ReturnState(models.TextChoices):
    INITIATED = "initiated", "Initiated"
    AUTHORIZED = "authorized", "Authorized"
    SHIPPED_BACK = "shipped_back", "Shipped back"
    RECEIVED = "received", "Received (in quarantine)"
    TRIAGED = "triaged", "Triaged"
    RESTOCKED = "restocked", "Restocked"
    REWORKED = "reworked", "Reworked"
    DISPOSED = "disposed", "Disposed"


class Disposition(models.TextChoices):
    SELLABLE = "sellable", "Sellable: back to stock"
    REWORK = "rework", "Rework"
    NONCONFORMING = "nonconforming", "Nonconforming: dispose"


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
                condition=~Q(state__in=["restocked", "reworked", "disposed"]) | ~Q(disposition=""),
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
        permission=OPERATE,
    )  # fmt: skip
    def authorize(self) -> None:
        """The returns system approved the return."""

    @transition(field=state, source=ReturnState.AUTHORIZED, target=ReturnState.SHIPPED_BACK, permission=OPERATE)
    def mark_shipped_back(self) -> None:
        """The customer sent it back."""

    @transition(
        field=state, source=ReturnState.SHIPPED_BACK, target=ReturnState.RECEIVED,
        conditions=[_has_lines, _has_facility], permission=OPERATE,
    )  # fmt: skip
    def receive(self) -> None:
        """Logged in at the warehouse; its units go to quarantine."""

    @transition(
        field=state, source=ReturnState.RECEIVED, target=ReturnState.TRIAGED,
        conditions=[_has_grade, _has_disposition], permission=TRIAGE,
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


class ReturnLine(models.Model):
    """Units of one SKU on a return. A kit comes back as its components."""

    rma = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines", verbose_name="return")
    sku = models.ForeignKey("inventory.Sku", on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
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
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku_id}"
