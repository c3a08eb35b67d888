"""django-q2 schedules of the reports app, applied by `python manage.py sync_schedules`."""

SCHEDULES = [
    {
        # Hourly, each run overwriting today's row: the last run of a day leaves its closing stock.
        "name": "reports: storage snapshot",
        "func": "reports.tasks.storage_snapshot",
        "schedule_type": "I",
        "minutes": 60,
        "repeats": -1,
    },
    {
        "name": "reports: scheduled CSV exports",
        "func": "reports.tasks.scheduled_exports",
        "schedule_type": "D",
        "repeats": -1,
    },
]
