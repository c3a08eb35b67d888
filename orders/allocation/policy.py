"""The allocation order when demand outruns supply (seed 000 §04): first in, first out by paid time, with three
exceptions — wholesale/retail against contract reservations, pre-orders against scheduled inbound, and marketplace
SLA-bound orders (a marketplace's Prime orders; orders due inside their channel's ship-within window) ahead of DTC
orders with longer promises. What a channel is comes from its `SalesChannel` row, never from a platform's name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orders.allocation.models import AllocationPolicy, PriorityClass
from warehouse.models import SalesChannel

WHOLESALE_WORDS = {"wholesale", "retail", "b2b"}
PREORDER_WORDS = {"preorder", "pre-order", "pre_order"}
# The priority words a connector may normalise a marketplace's SLA flag to (a platform's own word for it is the
# connector's to translate: the core names no platform).
SLA_WORDS = {"prime", "sla", "marketplace_sla", "fbm_prime", "expedited"}
FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)


def priority_of(
    *,
    channel: SalesChannel | None,
    priority_class: str,
    paid_at: dt.datetime | None,
    deadline: dt.datetime | None = None,
) -> PriorityClass:
    """The policy class of one order, from its channel and the priority class its connector normalised: a
    marketplace's Prime/SLA-flagged order, or an order due inside its channel's SLA window, is marketplace SLA."""
    word = (priority_class or "").strip().lower()
    if word in WHOLESALE_WORDS:
        return PriorityClass.WHOLESALE
    if word in PREORDER_WORDS:
        return PriorityClass.PREORDER
    if word == PriorityClass.MARKETPLACE_SLA:
        return PriorityClass.MARKETPLACE_SLA
    if channel is None:
        return PriorityClass.STANDARD
    if word in SLA_WORDS and channel.is_marketplace:
        return PriorityClass.MARKETPLACE_SLA
    if channel.sla_window_hours:
        window = dt.timedelta(hours=channel.sla_window_hours)
        if deadline is None or paid_at is None or deadline - paid_at <= window:
            return PriorityClass.MARKETPLACE_SLA
    return PriorityClass.STANDARD


@dataclass(frozen=True)
class Ranked:
    rank: int
    paid_at: dt.datetime
    pk: int
    priority: PriorityClass


def rank(
    *,
    policy: AllocationPolicy,
    pk: int,
    channel: SalesChannel | None,
    priority_class: str,
    paid_at: dt.datetime | None,
    deadline: dt.datetime | None = None,
) -> Ranked:
    priority = priority_of(channel=channel, priority_class=priority_class, paid_at=paid_at, deadline=deadline)
    return Ranked(rank=policy.class_rank(priority), paid_at=paid_at or FAR_FUTURE, pk=pk, priority=priority)


def in_policy_order(*, policy: AllocationPolicy, items: Iterable[tuple[Any, Ranked]]) -> list[Any]:
    """Items sorted by class (policy order), then paid time (FIFO), then id (arrival)."""
    return [item for item, r in sorted(items, key=lambda pair: (pair[1].rank, pair[1].paid_at, pair[1].pk))]
