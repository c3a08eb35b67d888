"""django-q2 schedules of the connector framework, applied by `manage.py sync_schedules`.

One dispatcher a minute rather than a schedule per connection: each connection's cadence (10 min by default, the
fallback cadence in polling fallback) lives on the connection, so a runbook switch takes effect at the next minute
without rewriting schedules. Pulls re-read `reconcile_overlap_minutes` before the watermark."""

from django_q.models import Schedule

SCHEDULES = [
    {
        # The delivery row is the truth; this wakes workers for retries that fell due and for lost tasks.
        "name": "integrations.inbound_deliveries_sweep",
        "func": "integrations.tasks.inbound_deliveries_sweep",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        "name": "integrations.reconcile_due_connections",
        "func": "integrations.tasks.reconcile_due_connections",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        "name": "integrations.reconcile_full_diff_due",
        "func": "integrations.tasks.reconcile_full_diff_due",
        "schedule_type": Schedule.HOURLY,
        "repeats": -1,
    },
    {
        # One-minute rollups of the connector metrics for the pages; each run also rewrites the few minutes before.
        "name": "integrations.metrics_rollup",
        "func": "integrations.tasks.metrics_rollup_minutes",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        "name": "integrations.metrics_summarise",
        "func": "integrations.tasks.metrics_summarise_hours",
        "schedule_type": Schedule.HOURLY,
        "repeats": -1,
    },
    {
        # Alerts (issue 18): every rule against its signal, incidents opened and closed, due notifications woken.
        "name": "integrations.alerts_evaluate",
        "func": "integrations.alerts.tasks.alerts_evaluate_due",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
]
