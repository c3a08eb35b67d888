"""django-q2 schedules of the inventory app, applied by `python manage.py sync_schedules`."""

SCHEDULES = [
    {
        "name": "inventory: verify the movement ledger",
        "func": "inventory.tasks.verify_ledger",
        "schedule_type": "I",
        "minutes": 60,
        "repeats": -1,
    },
    {
        "name": "inventory: catalog drift",
        "func": "inventory.tasks.catalog_drift_check",
        "schedule_type": "D",
        "repeats": -1,
    },
]
