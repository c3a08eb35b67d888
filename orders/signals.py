"""Signals other apps listen to, so orders never imports them (integrations queues the fulfilment write).

They are sent synchronously inside the transaction of the state change: a listener's writes (the outbox row of the
platform write it causes) commit or roll back with the change itself. Work outside the database (waking a worker)
belongs in the listener's own `transaction.on_commit`."""

from django.dispatch import Signal

# Sent with `shipment=` inside the hand-off's transaction when a shipment is handed to the carrier.
shipment_handed_to_carrier = Signal()
