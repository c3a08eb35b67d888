"""The reports app's tables, each in its report's package."""

from reports.slo.models import SloDay

__all__ = ["SloDay"]
