"""Outbound messages and per-connection circuits.

A message is one write to one platform. Its idempotency key is fixed when it is created (unique per connection),
so enqueueing the same business fact twice finds the first row, and every attempt — first, retry, replay — carries
the same key. States: pending → in_flight → sent; in_flight → pending (retry), → dead (retries exhausted or a
non-transient refusal); dead → pending (replay, same key) or → discarded (with a reason)."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from integrations.models import Connection
from warehouse.fsm import guard

MANAGE_DEADLETTER = "outbox.manage_deadletter"


class MessageKind(models.TextChoices):
    FULFILMENT = "fulfilment", "Fulfilment with tracking"
    TRACKING = "tracking", "Tracking update"
    INVENTORY = "inventory", "Inventory level"
    STATUS = "status", "Shipment status (in transit, delivered)"


class MessageState(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_FLIGHT = "in_flight", "In flight"
    SENT = "sent", "Sent"
    DEAD = "dead", "Dead letter"
    DISCARDED = "discarded", "Discarded"


@guard("not_due", "the message is not due yet, or another worker holds its lease")
def _claimable(message: OutboundMessage) -> bool:
    now = timezone.now() if message.claim_at is None else message.claim_at
    if message.state == MessageState.PENDING:
        return message.next_attempt_at <= now
    return message.lease_until is not None and message.lease_until <= now


@guard("reason_required", "discarding a dead letter needs a reason")
def _has_discard_reason(message: OutboundMessage) -> bool:
    return bool((message.discard_reason or "").strip())


class OutboundMessage(FSMModelMixin, models.Model):
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="outbound_messages")
    platform = models.CharField(max_length=20, db_index=True, help_text="Copied from the connection")
    kind = models.CharField(max_length=12, choices=MessageKind.choices)
    payload = models.JSONField(help_text="The business payload (no secrets)")
    idempotency_key = models.CharField(max_length=64, help_text="Fixed at creation; every attempt carries it")
    state = FSMField(default=MessageState.PENDING, choices=MessageState.choices, protected=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True, help_text="An in-flight row is reclaimed after this")
    ambiguous = models.BooleanField(default=False, help_text="An earlier attempt may have landed: read back first")
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, help_text="Redacted")
    result = models.JSONField(default=dict, blank=True, help_text="What the platform answered (ids)")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="A dead letter pushed out of the bounded queue (kept, counted)"
    )
    discard_reason = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=100, blank=True, help_text="What produced it, e.g. shipment:42")
    history = HistoricalRecords(excluded_fields=["lease_until"])

    # Set by the worker before `claim`: the guard compares the current lease with the worker's clock (tests move
    # it), then the transition takes the new lease.
    claim_at: dt.datetime | None = None
    claim_lease: dt.datetime | None = None

    class Meta:
        ordering = ["next_attempt_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "idempotency_key"],
                name="one_message_per_key",
                violation_error_message="This write is already queued.",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["platform", "state", "archived_at", "dead_at"], name="outbox_deadletters"),
            # The outbound write latency metric reads the writes confirmed in a window.
            models.Index(fields=["connection", "sent_at"], name="outbox_sent", condition=models.Q(state="sent")),
        ]
        permissions = [
            ("manage_deadletter", "Can replay or discard dead letters"),
            ("force_outboundmessage_transition", "Can force an outbound message transition"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.platform} ({self.state}, {self.attempts} attempts)"

    @transition(
        field=state, source=[MessageState.PENDING, MessageState.IN_FLIGHT], target=MessageState.IN_FLIGHT,
        conditions=[_claimable],
    )  # fmt: skip
    def claim(self) -> None:
        """A worker takes the message for one attempt (a lapsed lease means its worker died: take it over)."""
        self.lease_until = self.claim_lease

    @transition(field=state, source=MessageState.IN_FLIGHT, target=MessageState.SENT)
    def mark_sent(self) -> None:
        """The platform confirmed the write (or reading back showed it had landed)."""

    @transition(field=state, source=MessageState.IN_FLIGHT, target=MessageState.PENDING)
    def retry_later(self) -> None:
        """A transient failure: wait for `next_attempt_at`."""

    @transition(field=state, source=MessageState.IN_FLIGHT, target=MessageState.DEAD)
    def kill(self) -> None:
        """Retries exhausted or the platform refused for good: into the platform's dead-letter queue."""

    @transition(field=state, source=MessageState.DEAD, target=MessageState.PENDING, permission=MANAGE_DEADLETTER)
    def replay(self) -> None:
        """A person sends the dead letter again, with the same idempotency key."""

    @transition(
        field=state, source=MessageState.DEAD, target=MessageState.DISCARDED, conditions=[_has_discard_reason],
        permission=MANAGE_DEADLETTER,
    )  # fmt: skip
    def discard(self) -> None:
        """A person decided the write is not needed any more, and said why."""


class ConnectionCircuit(models.Model):
    """Per-connection back-off: while `open_until` is ahead, that connection's messages wait (no retry storm) and
    other connections' messages go on. Also the rate-limit headroom the platform reported at the last write."""

    connection = models.OneToOneField(Connection, on_delete=models.CASCADE, primary_key=True, related_name="+")
    consecutive_failures = models.PositiveIntegerField(default=0)
    open_until = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    headroom_remaining = models.FloatField(null=True, blank=True, help_text="Rate-limit budget left at the last call")
    headroom_limit = models.FloatField(null=True, blank=True)
    headroom_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"circuit {self.connection_id}: {self.consecutive_failures} failures, open until {self.open_until}"

    @classmethod
    def close(cls, connection_id: int) -> None:
        """The connection's writes go through again (a success, or a resume after its credentials were rotated)."""
        cls.objects.filter(connection_id=connection_id).update(consecutive_failures=0, open_until=None, last_error="")

    @property
    def headroom_fraction(self) -> float | None:
        if self.headroom_remaining is None or not self.headroom_limit:
            return None
        return self.headroom_remaining / self.headroom_limit
