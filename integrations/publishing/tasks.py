"""django-q2 entry points of publishing. Thin and idempotent: a cycle only takes what is dirty; a read-back only
compares and queues absolute numbers."""

from __future__ import annotations

import logging

from integrations.http import HttpError
from integrations.models import Connection, ConnectionStatus, ExternalIdKind
from integrations.publishing.services import publishing_check_divergence, publishing_run_cycle

logger = logging.getLogger(__name__)


def publish_dirty() -> int:
    """Publish everything dirty (cycles of 2,000 SKUs until none is left); returns writes queued."""
    written = 0
    while True:
        result = publishing_run_cycle()
        written += result.written
        if result.claimed < 2000:
            return written


def check_divergence() -> int:
    """Read back every writable connection (the hourly diff of seed 000 §04); returns SKUs diverging."""
    diverged = 0
    for connection in Connection.objects.filter(
        status__in=[ConnectionStatus.ACTIVE, ConnectionStatus.POLLING_FALLBACK],
        external_ids__kind=ExternalIdKind.LISTING,
    ).distinct():
        try:
            diverged += len(publishing_check_divergence(connection=connection).diverged)
        except HttpError as exc:  # one channel down must not stop the others' read-back; retried next hour
            logger.warning("read-back of connection %s failed: %s", connection.pk, type(exc).__name__)
    return diverged
