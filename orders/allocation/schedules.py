"""django-q2 schedules of allocation, applied by `python manage.py sync_schedules`."""

from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "allocation.run_waiting",
        "func": "orders.allocation.tasks.run_waiting",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
]
