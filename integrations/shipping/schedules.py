"""django-q2 schedules of shipping, applied by `manage.py sync_schedules`."""

from django_q.models import Schedule

SCHEDULES = [
    {
        # The carrier's pickup scan on a closed manifest hands its shipments over without waiting for a person.
        "name": "shipping.pickups_check",
        "func": "integrations.shipping.tasks.shipping_pickups_check",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
        "repeats": -1,
    },
]
