"""django-q2 tasks of tracking (idempotent; they take no arguments or ids)."""

from __future__ import annotations

from integrations.tracking.custody import carrier_events_apply
from integrations.tracking.services import carrier_events_apply_pending, manual_tracking_recheck_due, tracking_poll_due


def carrier_events_apply_task(pairs: list[list[str]]) -> int:
    """Woken by a webhook's statement: apply the stored events of these parcels (nothing if already applied)."""
    return sum(carrier_events_apply(carrier=c, tracking_number=n).events for c, n in pairs)


def carrier_events_sweep() -> int:
    return carrier_events_apply_pending()


def tracking_poll() -> dict[str, int]:
    run = tracking_poll_due()
    return {"polled": run.polled, "failed": run.failed, "subscribed": run.subscribed, "applied": run.applied}


def manual_tracking_recheck() -> dict[str, int]:
    return manual_tracking_recheck_due()
