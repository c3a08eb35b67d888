"""django-q2 schedules of publishing, applied by `python manage.py sync_schedules`."""

from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "publishing.publish_dirty",
        "func": "integrations.publishing.tasks.publish_dirty",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        "name": "publishing.check_divergence",
        "func": "integrations.publishing.tasks.check_divergence",
        "schedule_type": Schedule.MINUTES,
        "minutes": 60,
        "repeats": -1,
    },
]
