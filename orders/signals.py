"""Signals other apps listen to, so orders never imports them (integrations queues the fulfilment write)."""

from django.dispatch import Signal

# Sent after commit with `shipment=` when a shipment is handed to the carrier.
shipment_handed_to_carrier = Signal()
