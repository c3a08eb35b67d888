"""django-q2 task bodies of the SLO pages (scheduled in `reports/schedules.py`)."""

from reports.slo.evaluation import slo_evaluate
from reports.slo.rollup import slo_rollup


def slo_rollup_days() -> int:
    """Every 5 minutes: today's and yesterday's SLO rows rewritten."""
    return slo_rollup()


def slo_evaluate_burn() -> int:
    """Every minute: burn-rate warnings; an incident per connection and SLO that burns."""
    return len(slo_evaluate())
