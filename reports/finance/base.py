"""What a finance report is: columns, rows for a filter, and the series its chart draws.

Rows are plain tuples in column order, produced lazily: the page takes the first `PAGE_ROWS`, an export streams them
all. Money is a Decimal, counts are ints, percentages are Decimals with two places."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from django.utils import timezone

from reports.finance.filters import ReportFilter

PAGE_ROWS = 500


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | int | money | percent | date


@dataclass(frozen=True)
class Series:
    """One chart: a value per label (a day, a month, a reason), drawn as bars."""

    title: str
    points: list[tuple[str, float]]
    unit: str = ""


class Report:
    slug: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    columns: ClassVar[list[Column]]

    def rows(self, f: ReportFilter) -> Iterator[tuple[Any, ...]]:
        raise NotImplementedError

    def chart(self, rows: list[tuple[Any, ...]]) -> Series:
        raise NotImplementedError

    def row_estimate(self, f: ReportFilter) -> int:
        """About how many rows an export would write (decides inline download or background job)."""
        return 0


def display(value: Any) -> str:
    """A cell as the page shows it: local time to the minute, ISO dates, "—" for nothing."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(100) * part / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def money(value: Decimal | int | None) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
