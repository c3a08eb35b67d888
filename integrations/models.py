"""Connections to channels and ERPs, and the connector framework's records: the webhook inbox, the audit log and the
reconciler's runs. Secrets are `SealedField`s and are excluded from history."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from integrations.platforms.registry import UnknownPlatform, connector_for, is_registered
from integrations.vault import Sealed, SealedField
from warehouse.models import Brand, SalesChannel

SECRET_FIELDS = ["credentials", "signing_secret", "previous_signing_secret"]


def platform_check(code: str) -> None:
    """A `ValidationError` on `platform`, naming the platforms on offer, unless `code` is registered."""
    try:
        connector_for(code)
    except UnknownPlatform as exc:
        raise ValidationError({"platform": str(exc)}, code="unknown_platform") from None


def platform_name(code: str) -> str:
    return connector_for(code).name if is_registered(code) else code


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    POLLING_FALLBACK = "polling_fallback", "Polling fallback"
    PAUSED_CREDENTIALS = "paused_credentials", "Paused: credentials"
    DISABLED = "disabled", "Disabled"


class Connection(models.Model):
    """Integrations' record of one sales channel: the credentials, webhook secrets, mappings and reconciler state of
    one brand's account on one platform (a shop, a site, a seller account). The channel itself (brand, platform,
    name, marketplace or not) is the core's `warehouse.SalesChannel`; orders point at the channel, never here.
    `brand`, `platform` and `name` read through to it. Create both with `services.connection_create`.

    `platform` (the channel's) is a code of the connector registry (`integrations.platforms.registry`): a connection
    for a platform with no registered connector cannot be saved. `credentials` (a JSON object of the shape the
    platform's connector names in `credential_fields`) and the webhook signing secrets are sealed at rest and
    write-only: set them through `integrations.services`, read them with `credentials_get()` /
    `signing_secrets_valid()` at the moment of use."""

    channel = models.OneToOneField(SalesChannel, on_delete=models.PROTECT, related_name="connection")
    shop = models.CharField(max_length=255, help_text="The shop as its platform names it (a domain, a site URL)")
    status = models.CharField(max_length=20, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    api_base_url = models.CharField(
        max_length=255, blank=True, help_text="Base URL of the platform's API (empty: derived from the shop)"
    )
    credentials = SealedField(help_text="Sealed JSON object; never shown")
    credentials_fingerprint = models.CharField(max_length=8, blank=True, editable=False)
    signing_secret = SealedField(help_text="Webhook signing secret; sealed, never shown")
    signing_secret_fingerprint = models.CharField(max_length=8, blank=True, editable=False)
    previous_signing_secret = SealedField(help_text="Still accepted until previous_valid_until")
    previous_valid_until = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(default=list, blank=True, help_text="Platform permission scopes granted")

    reconcile_every_minutes = models.PositiveSmallIntegerField(default=10)
    fallback_reconcile_every_minutes = models.PositiveSmallIntegerField(
        default=2, help_text="Reconciler cadence while the connection is in polling fallback"
    )
    reconcile_overlap_minutes = models.PositiveSmallIntegerField(
        default=5, help_text="Each pull re-reads this much before the watermark, so late writes are not missed"
    )
    silent_after_minutes = models.PositiveSmallIntegerField(default=30)
    reconcile_watermark = models.DateTimeField(null=True, blank=True)
    last_reconciled_at = models.DateTimeField(null=True, blank=True)
    last_full_diff_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=300, blank=True)

    field_mapping = models.JSONField(
        default=dict, blank=True, help_text="Canonical field → source path; empty uses the platform's default"
    )
    status_mapping = models.JSONField(
        default=dict, blank=True, help_text="Platform status → canonical status; empty uses the platform's default"
    )

    # Secrets never reach history rows; the fingerprints do, so a rotation is still visible there.
    history = HistoricalRecords(
        excluded_fields=[*SECRET_FIELDS, "reconcile_watermark", "last_reconciled_at", "last_full_diff_at"]
    )

    class Meta:
        ordering = ["channel__brand__name", "channel__name"]
        permissions = [("manage_connection_secrets", "Can set connection credentials and signing secrets")]

    def __str__(self) -> str:
        return f"{self.name} ({self.platform_name})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuses a channel whose platform has no registered connector (whatever the caller validated): such a
        connection could only fail at run time."""
        fields = kwargs.get("update_fields")
        if fields is None or "channel" in fields:
            platform_check(self.platform)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        if self.channel_id is None:
            return
        platform_check(self.platform)
        problem = shop_taken_problem(platform=self.platform, shop=self.shop, exclude_pk=self.pk)
        if problem:
            raise ValidationError({"shop": problem})

    # The channel's identity, read through (load connections with `select_related("channel__brand")`).
    @property
    def brand(self) -> Brand:
        return self.channel.brand

    @property
    def brand_id(self) -> int:
        return self.channel.brand_id

    @property
    def platform(self) -> str:
        return self.channel.platform_code

    @property
    def name(self) -> str:
        return self.channel.name

    @property
    def platform_name(self) -> str:
        """The platform's display name from its connector (the code itself when none is registered)."""
        return platform_name(self.platform)

    def credentials_get(self) -> dict[str, Any]:
        """The decrypted credentials, for the moment of use. Never log, store or return the result."""
        sealed = self.credentials
        if not isinstance(sealed, Sealed):
            return {}
        value = json.loads(sealed.reveal())
        return value if isinstance(value, dict) else {}

    def signing_secrets_valid(self, *, at: dt.datetime | None = None) -> list[str]:
        """The secrets a delivery may be signed with now: the current one, and the previous one inside its window."""
        at = at or timezone.now()
        found: list[str] = []
        if isinstance(self.signing_secret, Sealed):
            found.append(self.signing_secret.reveal())
        if (
            isinstance(self.previous_signing_secret, Sealed)
            and self.previous_valid_until is not None
            and at < self.previous_valid_until
        ):
            found.append(self.previous_signing_secret.reveal())
        return found

    def secret_values(self) -> list[str]:
        """Every secret string this connection holds (for redaction of audit bodies)."""
        values: list[str] = []
        for sealed in (self.signing_secret, self.previous_signing_secret):
            if isinstance(sealed, Sealed):
                values.append(sealed.reveal())
        for value in self.credentials_get().values():
            if isinstance(value, str) and value:
                values.append(value)
        return values

    @property
    def credential_id(self) -> str:
        """What the audit log names as the credential used: the fingerprint, never the secret."""
        return self.credentials_fingerprint

    @property
    def is_active_for_writes(self) -> bool:
        return self.status in (ConnectionStatus.ACTIVE, ConnectionStatus.POLLING_FALLBACK)

    @property
    def reconcile_cadence_minutes(self) -> int:
        if self.status == ConnectionStatus.POLLING_FALLBACK:
            return int(self.fallback_reconcile_every_minutes)
        return int(self.reconcile_every_minutes)


def shop_taken_problem(*, platform: str, shop: str, exclude_pk: int | None = None) -> str:
    """A shop is one connection per platform (two would double every webhook and every write). The platform lives on
    the channel, so no table constraint can say it: this is the one place the rule is checked (`Connection.clean`,
    the admin form and `services.connection_create`, which holds a lock on the pair while it checks)."""
    taken = Connection.objects.filter(channel__platform_code=platform, shop=shop)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if shop and taken.exists():
        return f"This {platform} shop already has a connection."
    return ""


class ExternalIdKind(models.TextChoices):
    LISTING = "listing", "Listing of a SKU"
    LOCATION = "location", "Location of a facility"


class ExternalId(models.Model):
    """What one of our records is called on one connection's platform: a SKU's listing (`local_id` = the SKU's id),
    a facility's location (`local_id` = the facility's id). The one mapping table for every platform: each connector
    decides how its ids are written (`Connector.external_id_problem`, e.g. "product/variation") and is the only
    code that reads them; no column means different things on different platforms."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="external_ids")
    kind = models.CharField(max_length=10, choices=ExternalIdKind.choices)
    local_id = models.PositiveBigIntegerField(help_text="The SKU's id (a listing) or the facility's id (a location)")
    external_id = models.CharField(max_length=200, help_text="The platform's id, as its connector writes it")
    history = HistoricalRecords()

    class Meta:
        ordering = ["connection_id", "kind", "local_id"]
        verbose_name = "external id"
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind", "local_id"],
                name="one_external_id_per_record_and_connection",
                violation_error_message="This record already has an id on this connection.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.local_id} on {self.connection_id}: {self.external_id}"

    def clean(self) -> None:
        super().clean()
        if self.connection_id is None or not self.kind:
            return
        problem = connector_for(self.connection.platform).external_id_problem(kind=self.kind, value=self.external_id)
        if problem:
            raise ValidationError({"external_id": problem})


class DeliverySource(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    RECONCILER = "reconciler", "Reconciler"


class DeliveryState(models.TextChoices):
    RECEIVED = "received", "Received, waiting for processing"
    PROCESSED = "processed", "Processed"
    STALE = "stale", "Dropped: older than what we have"
    IGNORED = "ignored", "Ignored: topic not handled"
    QUARANTINED = "quarantined", "Quarantined: body unreadable"
    DEAD_LETTER = "dead_letter", "Dead letter: failed, waiting for a re-run"
    FAILED = "failed", "Failed (before dead letters; re-run like a dead letter)"


# What an administrator may re-run after a fix.
RERUNNABLE = (DeliveryState.DEAD_LETTER, DeliveryState.FAILED)


class InboundDelivery(models.Model):
    """One verified delivery from a platform (or one record the reconciler pulled), kept raw.

    Unique per (connection, delivery id): a duplicate delivery finds this row and changes nothing. The body is the
    raw bytes as received, so an unreadable body (invalid UTF-8, `\\u0000`) is kept for people to look at.

    The row is the source of truth of its own processing (`integrations.delivery_lifecycle`): it stays `received`
    until it is processed, held, quarantined or dead-lettered; a queued task only wakes a worker for it, and the
    sweeper wakes one again when that task is lost or a retry falls due (`next_attempt_at`)."""

    # Every index is paid on each webhook's insert: the connection is the first column of the unique constraint and of
    # both composite indexes below, so neither it nor the platform order id has an index of its own.
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="deliveries", db_index=False)
    source = models.CharField(max_length=12, choices=DeliverySource.choices, default=DeliverySource.WEBHOOK)
    delivery_id = models.CharField(max_length=200)
    event_id = models.CharField(max_length=200, blank=True)
    topic = models.CharField(max_length=120, blank=True)
    headers = models.JSONField(default=dict, blank=True, help_text="Delivery headers, signatures removed")
    body = models.BinaryField()
    received_at = models.DateTimeField(default=timezone.now)
    triggered_at = models.DateTimeField(null=True, blank=True)
    platform_order_id = models.CharField(max_length=100, blank=True)
    platform_updated_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=DeliveryState.choices, default=DeliveryState.RECEIVED)
    outcome = models.CharField(max_length=300, blank=True)
    order_id = models.BigIntegerField(null=True, blank=True, help_text="The WMS order this delivery created or updated")
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When the sweeper wakes a worker for it again (a retry, or a lost task)"
    )
    reruns = models.PositiveSmallIntegerField(default=0, db_default=0, help_text="Times an administrator re-ran it")

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "inbound deliveries"
        permissions = [("rerun_inbounddelivery", "Can re-run dead-lettered inbound deliveries")]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "delivery_id"],
                name="one_delivery_per_connection",
                violation_error_message="This delivery was already received.",
            )
        ]
        indexes = [
            models.Index(fields=["connection", "source", "received_at"], name="delivery_recent"),
            models.Index(fields=["connection", "platform_order_id", "state"], name="delivery_order"),
            # Only rows still to do: small, so the sweeper's minute-by-minute look costs nothing on a big table.
            models.Index(fields=["received_at"], name="delivery_pending", condition=models.Q(state="received")),
            # Only rows in trouble (the dead-letter depth and failed-webhook metrics): small, like the one above.
            models.Index(
                fields=["connection", "processed_at"],
                name="delivery_trouble",
                condition=models.Q(state__in=["dead_letter", "failed", "quarantined"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic or 'delivery'} {self.delivery_id} ({self.state})"

    @property
    def receipt_lag(self) -> dt.timedelta | None:
        if self.triggered_at is None:
            return None
        return self.received_at - self.triggered_at


class AuditDirection(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class AuditRecord(models.Model):
    """Every inbound and outbound payload: who (credential fingerprint), where, outcome, latency, the body with
    secrets redacted. Append-only: PostgreSQL refuses UPDATE and DELETE on this table (migration 0002)."""

    connection = models.ForeignKey(
        Connection, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_records", db_index=False
    )
    carrier_account = models.ForeignKey(
        "carriers.CarrierAccount", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_records"
    )
    direction = models.CharField(max_length=8, choices=AuditDirection.choices)
    method = models.CharField(max_length=10, blank=True)
    endpoint = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=40)
    credential_fingerprint = models.CharField(max_length=8, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    body_truncated = models.BooleanField(default=False)
    detail = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        # One row per webhook: no index the reads do not need (the connection leads the composite; outcome needs no
        # LIKE index).
        indexes = [
            models.Index(fields=["connection", "direction", "at"], name="audit_connection_at"),
            models.Index(fields=["outcome"], name="audit_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.method} {self.endpoint} → {self.status_code} ({self.outcome})"


class ReconcileRun(models.Model):
    """One reconciler pass: what it pulled, what the WMS lacked or had older, what it replayed."""

    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="reconcile_runs")
    full = models.BooleanField(default=False, help_text="A full diff rather than changes since the watermark")
    since = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pulled = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)
    stale = models.PositiveIntegerField(default=0)
    replayed = models.PositiveIntegerField(default=0)
    duration_ms = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=20, default="running")
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["connection", "started_at"], name="reconcile_connection_at")]

    def __str__(self) -> str:
        return f"reconcile {self.connection_id} {self.started_at:%Y-%m-%d %H:%M}: {self.missing} missing"


class MetricRollup(models.Model):
    """One connector metric's value over one period, for the pages (`integrations.metrics.rollups`). Labels as on
    `/metrics`: the platform, the connection's id (0: the warehouse's own number, e.g. the exception queue) and one
    bounded second label (a topic, a direction, a reason, an exception kind). A plain id, not a foreign key: history
    outlives nothing and locks nothing."""

    metric = models.CharField(max_length=60, help_text="The family's key (integrations.metrics.families)")
    platform = models.CharField(max_length=20, blank=True)
    connection_id = models.PositiveBigIntegerField(default=0, help_text="0: not one connection's number")
    label = models.CharField(max_length=60, blank=True, help_text="Topic, direction, reason or exception kind")
    value = models.FloatField()
    count = models.PositiveBigIntegerField(default=0, help_text="Observations the value stands on")
    total = models.FloatField(default=0, help_text="Their sum (failures of a ratio, seconds of a latency)")

    class Meta:
        abstract = True


class MetricMinute(MetricRollup):
    """A minute's value: kept 90 days, then summarised into `MetricHour`."""

    minute = models.DateTimeField()

    class Meta:
        ordering = ["minute", "metric", "connection_id", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "platform", "connection_id", "label", "minute"], name="one_metric_row_per_minute"
            )
        ]
        indexes = [models.Index(fields=["minute"], name="metric_minute_at")]

    def __str__(self) -> str:
        return f"{self.metric} {self.connection_id} {self.label} {self.minute:%Y-%m-%d %H:%M}: {self.value}"


class MetricHour(MetricRollup):
    """An hour's value, summarised from its minutes once they are 90 days old."""

    hour = models.DateTimeField()

    class Meta:
        ordering = ["hour", "metric", "connection_id", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["metric", "platform", "connection_id", "label", "hour"], name="one_metric_row_per_hour"
            )
        ]
        indexes = [models.Index(fields=["hour"], name="metric_hour_at")]

    def __str__(self) -> str:
        return f"{self.metric} {self.connection_id} {self.label} {self.hour:%Y-%m-%d %H}h: {self.value}"


# The onboarding checklist's model lives beside its rules; imported here so that Django registers it.
from integrations.onboarding import OnboardingItem  # noqa: E402, F401
