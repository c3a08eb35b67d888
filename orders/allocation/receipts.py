"""Arriving stock reaches the orders waiting for it (issue 16 §1): a receipt of expected inbound
(`inventory.signals.stock_received`, sent inside the receipt's transaction) allocates the pre-orders that claimed a
scheduled inbound referring to a received line, in that same transaction, and offers the received SKUs to the orders
held short at that facility as soon as the receipt commits, instead of at the next minute's sweep.

The orders act as the system (actor None), as the scheduled sweep does: the receiving person's permission was checked
by the receipt, and accepting orders is not theirs to be refused (a refusal would leave a claimer held silently)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from typing import Any

from django.db import transaction

from orders.allocation.models import ScheduledInbound
from orders.services.waiting import allocation_run_waiting, scheduled_inbound_arrived
from warehouse.models import Brand, Facility

logger = logging.getLogger(__name__)


def on_stock_received(
    sender: Any, *, brand: Brand, facility: Facility, sku_ids: Iterable[int], inbound: Any = None, **_: Any
) -> None:
    """The receiver of `stock_received`. A replay of the same event changes nothing: a received schedule stays
    received and its accepted claimers are no longer held; the waiting run accepts only what now fits."""
    received = sorted(set(sku_ids))
    if not received:
        return
    if inbound is not None:
        # A line's SKU is unique on its inbound, so (inbound, SKU) names the received line. Its first units are the
        # schedule's arrival; a later receipt on the line (or this event again) finds it received and leaves its
        # claimers still short to the waiting run below, which offers ready pre-orders first and only what fits
        # (accepting them blindly would re-validate and hold each again: history and timeline noise on a replay).
        schedules = ScheduledInbound.objects.filter(
            expected_line__inbound_id=inbound.pk, expected_line__sku_id__in=received, received=False
        ).order_by("pk")
        for schedule in schedules:
            scheduled_inbound_arrived(inbound=schedule, actor=None)
    # On commit, not inside the receipt: the run locks waiting orders after the receipt already holds the stock row
    # (intake locks the order first, then stock: inside, the two would deadlock), it would stretch the receipt's
    # transaction over every order it accepts, and an error in one order would undo the receipt. Robust: the units
    # are received whatever happens; an order this run misses is offered again by the minute's sweep.
    transaction.on_commit(partial(_run_waiting, brand.pk, facility.pk, received), robust=True)


def _run_waiting(brand_id: int, facility_id: int, sku_ids: list[int]) -> None:
    brand, facility = Brand.objects.get(pk=brand_id), Facility.objects.get(pk=facility_id)
    run = allocation_run_waiting(brand=brand, facility=facility, actor=None, sku_ids=sku_ids)
    if run.accepted:
        logger.info("receipt at facility %s: %d waiting order(s) accepted", facility.code, len(run.accepted))
