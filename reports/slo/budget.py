"""Attainment, error budget and burn rate of an SLO, and the multi-window, multi-burn-rate warnings of the SRE
workbook (chapter 5, "Alerting on SLOs"), with their factors stated once in `BURN_ALERTS`.

- attainment = good ÷ valid over the 30 days;
- the error budget is the share of valid units allowed to be bad, 1 − target; *budget left* is the part of it not
  spent yet: 1 − (bad ÷ valid) ÷ (1 − target) (below 0: overspent);
- the burn rate over a window is (bad ÷ valid in the window) ÷ (1 − target): 1 spends the budget exactly over the
  30 days, 14.4 spends 2 % of it in an hour.

A warning fires when the burn rate over both its long and its short window reaches its factor: the long window says
the budget really is burning, the short one that it still is (so the warning stops soon after the burning does)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet, Sum

from reports.slo.measures import SLOS, Counts, Slo
from reports.slo.models import SloMinute

PERIOD = dt.timedelta(days=30)


@dataclass(frozen=True)
class BurnAlert:
    key: str
    words: str
    factor: float
    long: dt.timedelta
    short: dt.timedelta


BURN_ALERTS: tuple[BurnAlert, ...] = (
    BurnAlert("fast", "fast burn", 14.4, dt.timedelta(hours=1), dt.timedelta(minutes=5)),  # 2 % of the budget in 1 h
    BurnAlert("slow", "slow burn", 6.0, dt.timedelta(hours=6), dt.timedelta(minutes=30)),  # 5 % of it in 6 h
)
WINDOWS: tuple[dt.timedelta, ...] = tuple(sorted({w for a in BURN_ALERTS for w in (a.long, a.short)}))


@dataclass(frozen=True)
class Budget:
    target: float
    valid: int
    good: int

    @property
    def bad(self) -> int:
        return self.valid - self.good

    @property
    def attainment(self) -> float | None:
        return self.good / self.valid if self.valid else None

    @property
    def allowed_bad(self) -> float:
        """The error budget in units: how many of the valid units may be bad."""
        return (1 - self.target) * self.valid

    @property
    def budget_left(self) -> float | None:
        """The share of the error budget not spent (1: untouched, 0: all spent, below 0: overspent)."""
        return 1 - self.bad / self.allowed_bad if self.valid else None

    @property
    def burn_rate(self) -> float | None:
        return burn_rate(self.target, self.valid, self.good)

    @property
    def met(self) -> bool | None:
        attained = self.attainment
        return None if attained is None else attained >= self.target


def burn_rate(target: float, valid: int, good: int) -> float | None:
    """(bad ÷ valid) ÷ (1 − target); None without valid units."""
    return ((valid - good) / valid) / (1 - target) if valid else None


def budget_of(target: float, counts: list[Counts]) -> Budget:
    return Budget(target, sum(c.valid for c in counts), sum(c.good for c in counts))


@dataclass(frozen=True)
class Burning:
    connection_id: int
    slo: Slo
    alert: BurnAlert
    long_rate: float
    short_rate: float


Rates = dict[int, dict[dt.timedelta, float | None]]  # connection → window → burn rate (None: nothing counted)


def window_sums(ids: list[int], until: dt.datetime) -> QuerySet[SloMinute, dict[str, Any]]:
    """Valid and good units per SLO and connection over each window ending at `until` (`valid_<i>`, `good_<i>` for
    WINDOWS[i])."""
    sums = {}
    for i, window in enumerate(WINDOWS):
        in_window = Q(minute__gte=until - window)
        sums[f"valid_{i}"] = Sum("valid", filter=in_window)
        sums[f"good_{i}"] = Sum("good", filter=in_window)
    return (
        SloMinute.objects.filter(connection_id__in=ids, minute__gte=until - max(WINDOWS), minute__lt=until)
        .values("slo", "connection_id")
        .annotate(**sums)
        .order_by()
    )


def burn_rates(ids: list[int], now: dt.datetime) -> dict[str, Rates]:
    """Each SLO's burn rate per connection over each window ending at the last whole minute, from the minute rollup
    (one query, summed per window in the database)."""
    until = now.replace(second=0, microsecond=0)
    counted = {(r["slo"], r["connection_id"]): r for r in window_sums(ids, until)}
    rates: dict[str, Rates] = {}
    for slo in SLOS:
        rates[slo.key] = {}
        for cid in ids:
            row = counted.get((slo.key, cid), {})
            rates[slo.key][cid] = {
                w: burn_rate(slo.target, row.get(f"valid_{i}") or 0, row.get(f"good_{i}") or 0)
                for i, w in enumerate(WINDOWS)
            }
    return rates


def burning(slo: Slo, rates: Rates) -> list[Burning]:
    """The warnings that fire, the fastest per connection only (a fast burn is a slow one too)."""
    found = []
    for cid, by_window in sorted(rates.items()):
        for alert in BURN_ALERTS:
            long, short = by_window.get(alert.long), by_window.get(alert.short)
            if long is not None and short is not None and long >= alert.factor and short >= alert.factor:
                found.append(Burning(cid, slo, alert, long, short))
                break
    return found
