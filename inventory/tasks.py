"""django-q2 entry points of the inventory app. Thin: they call services and are safe to re-run."""

from inventory.services import inventory_verify_ledger


def verify_ledger() -> int:
    """Scheduled invariant check: re-derive every bucket from the ledger; returns the number of drifting rows."""
    return len(inventory_verify_ledger())
