"""Signal receivers: a shipment handed to the carrier queues exactly one fulfilment write to its channel."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from integrations.outbox.services import shipment_fulfilment_enqueue
from orders.signals import shipment_handed_to_carrier

logger = logging.getLogger(__name__)


@receiver(shipment_handed_to_carrier, dispatch_uid="outbox.fulfilment_on_handoff")
def queue_fulfilment(sender: Any, shipment: Any, **kwargs: Any) -> None:
    shipment_fulfilment_enqueue(shipment=shipment)
