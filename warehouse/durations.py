"""Durations as people write them: `420 ms`, `3.7 s`, `42 s`, `2 min`, `1 h 05 min`, `3 days`.

One rule for every page and console column that shows a latency, an age or a time left (the `duration` template
filter, `warehouse.templatetags.durations`). A number stored in milliseconds (`latency_ms`, `duration_ms`) and a
`timedelta` read the same."""

from __future__ import annotations

import datetime as dt
import math


def duration_words(value: dt.timedelta | float | int | None, *, unit: str = "ms") -> str:
    """`value` is a timedelta, or a number of `unit` ("ms" or "s"); None (not measured) reads "—". Negative
    durations read as their size: the caller says "overdue by" or "ago"."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, dt.timedelta):
        seconds = abs(value.total_seconds())
    else:
        seconds = abs(float(value)) / (1000 if unit == "ms" else 1)
    if seconds < 1:
        return f"{round(seconds * 1000)} ms" if seconds < 0.9995 else "1.0 s"
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes:02d} min" if minutes else f"{hours} h"
    return f"{minutes // (24 * 60)} days"
