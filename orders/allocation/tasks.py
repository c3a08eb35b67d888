"""django-q2 entry points of allocation. Idempotent: accepting an already-accepted order changes nothing."""

from __future__ import annotations

from orders.services.waiting import allocation_run_waiting_everywhere


def run_waiting() -> int:
    """Offer arrived stock to orders held short, in policy order; returns orders accepted."""
    return allocation_run_waiting_everywhere()
