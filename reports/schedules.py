"""django-q2 schedules of the reports app, applied by `python manage.py sync_schedules`."""

from django_q.models import Schedule

SCHEDULES = [
    {
        # Hourly, each run overwriting today's row: the last run of a day leaves its closing stock.
        "name": "reports: storage snapshot",
        "func": "reports.tasks.storage_snapshot",
        "schedule_type": Schedule.MINUTES,
        "minutes": 60,
        "repeats": -1,
    },
    {
        "name": "reports: scheduled CSV exports",
        "func": "reports.tasks.scheduled_exports",
        "schedule_type": Schedule.DAILY,
        "repeats": -1,
    },
    {
        # The SLO pages read a daily rollup: today's row grows, so it is rewritten every 5 minutes.
        "name": "reports.slo_rollup",
        "func": "reports.slo.tasks.slo_rollup_days",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
        "repeats": -1,
    },
    {
        # The fast-burn warning's short window is 5 minutes: every minute, the minute rollup of the burn-rate windows,
        # then the evaluation (it fires within a minute).
        "name": "reports.slo_evaluate",
        "func": "reports.slo.tasks.slo_evaluate_burn",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
]
