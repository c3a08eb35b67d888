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
