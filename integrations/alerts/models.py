"""Alert rules (thresholds as data), incidents and their timelines, recipients, maintenance windows, notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from integrations.alerts.runbooks import RUNBOOK_CHOICES
from integrations.models import Connection
from warehouse.models import Brand, ExceptionItem

OPERATE_INCIDENT = "alerts.operate_incident"


class Signal(models.TextChoices):
    """What a rule reads, per connection (`integrations.alerts.signals`)."""

    INGEST_RATE_DROP = "ingest_rate_drop", "Webhook ingest rate drop against the trailing hour (0–1)"
    INGEST_SUCCESS = "ingest_success", "Webhook ingest success (share answered 2xx)"
    HMAC_FAILURE_RATE = "hmac_failure_rate", "HMAC verification failure rate"
    RECONCILER_DELTA = "reconciler_delta", "Reconciler delta (records found missing or stale)"
    WRITE_LATENCY_OVER_BUDGET = "write_latency_over_budget", "Live write latency P95 ÷ the platform's budget"
    HEADROOM = "headroom", "Rate-limit headroom (share of the budget left)"
    DEAD_LETTERS = "dead_letters", "Dead-letter depth"
    DEAD_LETTERS_ADDED = "dead_letters_added", "Dead letters added in the window"
    CATALOG_DRIFT = "catalog_drift", "Catalog drift (SKUs missing weight, dimensions or HS code)"
    RECONCILER_FAILURES = "reconciler_failures", "Reconciler runs failed in a row"
    RECONCILER_SILENCE = "reconciler_silence", "Minutes since the reconciler's last success"
    CREDENTIALS_REFUSED = "credentials_refused", "Connection paused: credentials refused (1) or not (0)"
    OUTBOUND_BACKLOG = "outbound_backlog", "Outbound writes waiting (pending or in flight)"


class Comparison(models.TextChoices):
    ABOVE = "above", "above"
    BELOW = "below", "below"


class Severity(models.TextChoices):
    PAGE = "page", "Page the on-call"
    INVESTIGATE = "investigate", "Investigate"
    REVIEW = "review", "Review daily (never paged)"


class AlertRule(models.Model):
    """One alert: a signal, its threshold and how long it must hold. Seeded from seed 000 §07 (`rules.DEFAULTS`);
    administrators tune it in the console, and every change is kept (history)."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    signal = models.CharField(max_length=40, choices=Signal.choices)
    comparison = models.CharField(max_length=8, choices=Comparison.choices)
    threshold = models.FloatField()
    window_minutes = models.PositiveIntegerField(default=60, help_text="The trailing window the signal is read over")
    for_minutes = models.PositiveIntegerField(default=0, help_text="How long the threshold must be crossed")
    min_observations = models.PositiveIntegerField(
        default=1, help_text="Fewer observations in the window (requests, events) never alert"
    )
    evaluate_every_minutes = models.PositiveIntegerField(default=1, help_text="1440: reviewed once a day")
    severity = models.CharField(max_length=12, choices=Severity.choices, default=Severity.PAGE)
    group = models.SlugField(
        max_length=40, blank=True, help_text="Rules of one group on one connection: only the most severe opens"
    )
    runbook = models.CharField(max_length=40, choices=RUNBOOK_CHOICES)
    metric_backed = models.BooleanField(default=True, help_text="Closes itself when the signal recovers")
    enabled = models.BooleanField(default=True)
    brand_words = models.CharField(
        max_length=300, help_text="What a brand reads about an incident of this rule, in plain words"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def crossed(self, value: float) -> bool:
        return value > self.threshold if self.comparison == Comparison.ABOVE else value < self.threshold


class AlertState(models.Model):
    """Since when a rule's threshold has been crossed on a connection (for `for_minutes`), and when it was last
    evaluated (for rules reviewed daily)."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="states")
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    crossed_since = models.DateTimeField(null=True, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    value = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "connection"], name="one_alert_state_per_rule")]

    def __str__(self) -> str:
        return f"{self.rule_id}/{self.connection_id}: crossed since {self.crossed_since}"


class Incident(models.Model):
    """An alert that fired: the exception item (kind INCIDENT) people see in the queue, with what the alert knew,
    the runbook, who acknowledged or snoozed it, and the post-incident review a manager keeps on it."""

    rule = models.ForeignKey(AlertRule, on_delete=models.PROTECT, related_name="incidents")
    connection = models.ForeignKey(Connection, on_delete=models.PROTECT, related_name="incidents")
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="incidents")
    exception = models.OneToOneField(
        ExceptionItem, null=True, blank=True, on_delete=models.PROTECT, related_name="incident"
    )
    dedupe_key = models.CharField(max_length=200)
    severity = models.CharField(max_length=12, choices=Severity.choices)
    runbook = models.CharField(max_length=40, choices=RUNBOOK_CHOICES)
    title = models.CharField(max_length=300)
    brand_summary = models.CharField(max_length=300, help_text="Plain words for the brand (SLO pages, banners)")
    value = models.FloatField(help_text="The signal when it opened")
    threshold = models.FloatField()
    opened_at = models.DateTimeField(default=timezone.now, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=300, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    snooze_reason = models.CharField(max_length=300, blank=True)
    postmortem = models.JSONField(default=dict, blank=True, help_text="The runbook's review questions, answered")
    postmortem_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    postmortem_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key"], condition=models.Q(closed_at__isnull=True), name="one_open_incident_per_cause"
            )
        ]
        indexes = [models.Index(fields=["connection", "closed_at"], name="incident_connection_open")]
        permissions = [("operate_incident", "Can acknowledge, snooze and review incidents, and declare maintenance")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def snoozed(self, now: object = None) -> bool:
        at = now or timezone.now()
        return self.snoozed_until is not None and self.snoozed_until > at  # type: ignore[operator]


class EntryKind(models.TextChoices):
    OPENED = "opened", "Opened"
    RESPONSE = "response", "First-hour response"
    NOTIFIED = "notified", "Notified"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    SNOOZED = "snoozed", "Snoozed"
    RECOVERED = "recovered", "Recovered"
    REVIEW = "review", "Post-incident review"
    NOTE = "note", "Note"


class IncidentEntry(models.Model):
    """One line of an incident's timeline (append-only): what happened, what was done, by whom."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="entries")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    text = models.CharField(max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "incident entries"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text}"


class Recipient(models.Model):
    """Who is told when an incident opens: per brand (blank: every brand) and per rule (blank: every rule), by
    e-mail, by the on-call webhook, or both."""

    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(AlertRule, null=True, blank=True, on_delete=models.CASCADE, related_name="recipients")
    email = models.EmailField(blank=True)
    webhook_url = models.URLField(blank=True, help_text="The on-call URL: a signed POST (X-Hub-Alert-Signature)")
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~models.Q(email="", webhook_url=""), name="recipient_has_an_address")
        ]

    def __str__(self) -> str:
        return self.email or self.webhook_url


class MaintenanceWindow(models.Model):
    """A connection silenced between two times: no incident opens for it and nobody is told."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="maintenance_windows")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="maintenance_ends_after")
        ]

    def __str__(self) -> str:
        return f"{self.connection}: {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    WEBHOOK = "webhook", "On-call webhook"


class NotificationState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (retries exhausted)"


class Notification(models.Model):
    """One message about one incident to one address: unique, so an incident notifies each address once; retried
    with backoff until sent or out of attempts."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    target = models.CharField(max_length=500)
    state = models.CharField(max_length=8, choices=NotificationState.choices, default=NotificationState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "channel", "target"], name="notify_each_address_once")
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="notification_due")]

    def __str__(self) -> str:
        return f"{self.channel} → {self.target}: {self.state}"
