"""Custody and tracking: carrier events in (Track Alert webhooks, polling), stored once and applied in time order to
shipments through orders' services; shipment status out to the channels through the outbox; manual tracking entry
with its re-check. See docs/tracking.md."""
