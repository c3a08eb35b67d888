"""django-q2 tasks of tracking (idempotent; they take no arguments or ids)."""

from __future__ import annotations

from integrations.tracking.services import manual_tracking_recheck_due, tracking_poll_due


def tracking_poll() -> dict[str, int]:
    run = tracking_poll_due()
    return {"polled": run.polled, "failed": run.failed, "subscribed": run.subscribed, "applied": run.applied}


def manual_tracking_recheck() -> dict[str, int]:
    return manual_tracking_recheck_due()
