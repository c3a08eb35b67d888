"""django-q2 entry points of the inventory app. Thin: they call services and are safe to re-run."""

from inventory.services import catalog_drift_open_exceptions, inventory_verify_ledger


def verify_ledger() -> int:
    """Scheduled invariant check: re-derive every bucket from the ledger; returns the number of drifting rows."""
    return len(inventory_verify_ledger())


def catalog_drift_check() -> int:
    """Scheduled: one exception per SKU missing weight, dimensions or HS code; returns how many SKUs drift."""
    return catalog_drift_open_exceptions()
