"""Figures of the SLO pages as people read them: `99.25 %`, `1 h`, `5 min`."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django import template

register = template.Library()


@register.filter
def percent(value: Any, digits: int = 2) -> str:
    """A share (0–1) as a percentage with up to `digits` decimals, trailing zeros dropped; "—" for none. Never
    rounds a miss up to 100 %: 0.99996 reads 99.99 %."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    scaled = math.floor(float(value) * 100 * 10**digits) / 10**digits if value < 1 else float(value) * 100
    return f"{scaled:.{digits}f}".rstrip("0").rstrip(".") + " %"


@register.filter
def window(value: dt.timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    if minutes >= 60 and minutes % 60 == 0:
        return f"{minutes // 60} h"
    if minutes >= 1:
        return f"{minutes} min"
    return f"{int(value.total_seconds())} s"
