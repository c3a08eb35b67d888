"""django-q2 schedules of the orders app, applied by `python manage.py sync_schedules`."""

SCHEDULES = [
    {
        "name": "orders: picking stalled for 4 hours",
        "func": "orders.tasks.orders_check_picking_stalled",
        "schedule_type": "I",
        "minutes": 15,
        "repeats": -1,
    },
    {
        "name": "orders: carrier acknowledgement missing after 24 hours",
        "func": "orders.tasks.shipments_check_carrier_ack",
        "schedule_type": "I",
        "minutes": 30,
        "repeats": -1,
    },
    {
        "name": "orders: allocation rows against the allocated bucket",
        "func": "orders.tasks.orders_check_allocation_rows",
        "schedule_type": "I",
        "minutes": 60,
        "repeats": -1,
    },
]
