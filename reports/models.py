"""The reports app's tables, each in its report's package."""

from reports.slo.models import SloDay, SloMinute

__all__ = ["SloDay", "SloMinute"]
