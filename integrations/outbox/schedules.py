"""django-q2 schedules of the outbound queue, applied by `manage.py sync_schedules`."""

from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "outbox.drain_due",
        "func": "integrations.outbox.tasks.outbox_drain_due",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
]
