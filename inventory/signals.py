"""Signals other apps listen to, so inventory never imports them.

`stock_received` is sent with `brand=`, `facility=`, `sku_ids=` (a list) and `actor=` inside the receipt's
transaction, after the units are on hand. Orders subscribes to it to allocate the pre-orders that claimed the
inbound and to run the waiting-orders step for those SKUs at once (a listener's writes commit or roll back with the
receipt itself; a listener that raises undoes the receipt, so it must catch its own per-order refusals)."""

from django.dispatch import Signal

stock_received = Signal()
