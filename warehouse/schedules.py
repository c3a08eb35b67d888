"""django-q2 schedules of the warehouse core, applied by `python manage.py sync_schedules`."""

SCHEDULES = [
    {
        # Its run, recorded by django-q2, is the worker's heartbeat that `/readyz` reads (warehouse/health.py).
        "name": "warehouse: worker heartbeat",
        "func": "warehouse.health.worker_heartbeat",
        "schedule_type": "I",
        "minutes": 1,
        "repeats": -1,
    },
]
