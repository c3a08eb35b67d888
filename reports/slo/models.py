"""The daily rollup the SLO pages and statements read, so a page never scans a million orders."""

from __future__ import annotations

from django.db import models


class SloDay(models.Model):
    """One SLI of one connection over one UTC day (`reports.slo.rollup`): the units counted that day (minutes with
    events, or events) and how many were good, and the events behind them. A plain connection id, not a foreign
    key: the numbers outlive nothing and lock nothing."""

    connection_id = models.PositiveBigIntegerField()
    slo = models.CharField(max_length=20, help_text="reports.slo.measures.SLOS key")
    day = models.DateField()
    valid = models.PositiveIntegerField(default=0, help_text="Units counted: minutes with events, or events")
    good = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0, help_text="Orders, writes or records counted")
    missed = models.PositiveIntegerField(default=0, help_text="Of them, those that missed the threshold")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["day", "connection_id", "slo"]
        constraints = [
            models.UniqueConstraint(fields=["connection_id", "slo", "day"], name="one_slo_row_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.slo} {self.connection_id} {self.day}: {self.good}/{self.valid}"


class SloMinute(models.Model):
    """One SLI of one connection over one minute, for the burn-rate windows (the last 6 hours): written every minute
    by the evaluation (`reports.slo.rollup.slo_minutes_rollup`), kept `KEEP_MINUTES`. Only minutes with something
    counted have a row."""

    connection_id = models.PositiveBigIntegerField()
    slo = models.CharField(max_length=20, help_text="reports.slo.measures.SLOS key")
    minute = models.DateTimeField()
    valid = models.PositiveIntegerField(default=0)
    good = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["minute", "connection_id", "slo"]
        constraints = [
            models.UniqueConstraint(fields=["connection_id", "minute", "slo"], name="one_slo_row_per_minute"),
        ]
        indexes = [models.Index(fields=["minute"], name="slo_minute_at")]

    def __str__(self) -> str:
        return f"{self.slo} {self.connection_id} {self.minute:%Y-%m-%d %H:%M}: {self.good}/{self.valid}"
