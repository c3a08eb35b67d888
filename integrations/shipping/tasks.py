"""django-q2 tasks of shipping (idempotent; scheduled in `integrations/shipping/schedules.py`)."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from integrations.shipping.models import Manifest
from integrations.shipping.services import handoff_record
from warehouse.errors import DomainError

logger = logging.getLogger(__name__)

LOOK_BACK = dt.timedelta(days=3)  # a manifest the carrier has not collected after three days is a person's problem


def shipping_pickups_check() -> int:
    """Ask the carriers about the parcels of recently closed manifests still waiting for their pickup scan, so the
    hand-off is recorded when the carrier collects, not when someone remembers to press the button. Returns how many
    shipments were handed over."""
    handed = 0
    manifests = Manifest.objects.filter(
        closed_at__gte=timezone.now() - LOOK_BACK, labels__voided_at__isnull=True, labels__picked_up_at__isnull=True
    ).distinct()
    for manifest in manifests.order_by("closed_at"):
        try:
            handed += len(handoff_record(actor=None, manifest=manifest).shipments)
        except DomainError as exc:  # not collected yet, or the carrier is down: the next run asks again
            logger.info("manifest %s: %s", manifest.pk, exc.reasons[0].code if exc.reasons else type(exc).__name__)
    return handed
