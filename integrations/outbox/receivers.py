"""Signal receivers: a shipment handed to the carrier queues exactly one fulfilment write to its channel.

The transactional outbox: the receiver runs inside the hand-off's transaction, so the outbox row commits with the
hand-off or not at all; only the worker's wake-up waits for the commit (`outbox.wake`). A process that dies between
the commit and that wake-up leaves the row pending, and the every-minute sweep sends it."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from integrations.outbox.services import shipment_fulfilment_enqueue
from orders.signals import shipment_handed_to_carrier


@receiver(shipment_handed_to_carrier, dispatch_uid="outbox.fulfilment_on_handoff")
def queue_fulfilment(sender: Any, shipment: Any, **kwargs: Any) -> None:
    shipment_fulfilment_enqueue(shipment=shipment)
