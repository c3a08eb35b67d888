"""django-q2 schedules of the inventory app, applied by `python manage.py sync_schedules`."""

SCHEDULES = [
    {
        "name": "inventory: verify the movement ledger",
        "func": "inventory.tasks.verify_ledger",
        "schedule_type": "I",
        "minutes": 60,
        "repeats": -1,
    },
]
