"""`{% load durations %}` … `{{ record.latency_ms|duration }}` or `{{ some_timedelta|duration }}`."""

from __future__ import annotations

from typing import Any

from django import template

from warehouse.durations import duration_words

register = template.Library()


@register.filter
def duration(value: Any, unit: str = "ms") -> str:
    """A duration in words; a value that is not a number or a timedelta is shown as it is."""
    try:
        return duration_words(value, unit=unit)
    except (TypeError, ValueError):
        return str(value)
