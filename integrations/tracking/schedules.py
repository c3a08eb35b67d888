"""django-q2 schedules of tracking, applied by `manage.py sync_schedules`.

One dispatcher a minute rather than a schedule per carrier: each carrier's cadence is its connector's
`tracking_poll_minutes` (DHL Parcel DE every 30 min; UPS, which pushes Track Alert events, a 4-hourly sweep), checked
per shipment against its last poll, so a new carrier needs no new schedule."""

from django_q.models import Schedule

SCHEDULES = [
    {
        # The events are the truth: this applies what a lost wake-up task left.
        "name": "tracking.apply_pending",
        "func": "integrations.tracking.tasks.carrier_events_sweep",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        "name": "tracking.poll",
        "func": "integrations.tracking.tasks.tracking_poll",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
        "repeats": -1,
    },
    {
        # A manual entry is compared with the carrier's tracking as soon as the carrier's API answers again.
        "name": "tracking.manual_recheck",
        "func": "integrations.tracking.tasks.manual_tracking_recheck",
        "schedule_type": Schedule.MINUTES,
        "minutes": 5,
        "repeats": -1,
    },
]
