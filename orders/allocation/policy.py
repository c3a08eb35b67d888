"""The allocation order when demand outruns supply (seed 000 §04): first in, first out by paid time, with three
exceptions — wholesale/retail against contract reservations, pre-orders against scheduled inbound, and marketplace
SLA-bound orders (Amazon FBM Prime, TikTok Shop within 72 h) ahead of DTC orders with longer promises."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from orders.allocation.models import AllocationPolicy, PriorityClass

WHOLESALE_WORDS = {"wholesale", "retail", "b2b"}
PREORDER_WORDS = {"preorder", "pre-order", "pre_order"}
SLA_WORDS = {"prime", "sla", "marketplace_sla", "amazon_fbm_prime", "fbm_prime", "expedited"}
FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)


def priority_of(
    *,
    policy: AllocationPolicy,
    platform: str,
    priority_class: str,
    paid_at: dt.datetime | None,
    deadline: dt.datetime | None = None,
) -> PriorityClass:
    """The policy class of one order, from its channel and the priority class its connector normalised."""
    word = (priority_class or "").strip().lower()
    if word in WHOLESALE_WORDS:
        return PriorityClass.WHOLESALE
    if word in PREORDER_WORDS:
        return PriorityClass.PREORDER
    if word == PriorityClass.MARKETPLACE_SLA or (word in SLA_WORDS and platform in policy.prime_platforms):
        return PriorityClass.MARKETPLACE_SLA
    if platform in policy.window_platforms:
        window = dt.timedelta(hours=policy.marketplace_window_hours)
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
    platform: str,
    priority_class: str,
    paid_at: dt.datetime | None,
    deadline: dt.datetime | None = None,
) -> Ranked:
    priority = priority_of(
        policy=policy, platform=platform, priority_class=priority_class, paid_at=paid_at, deadline=deadline
    )
    return Ranked(rank=policy.class_rank(priority), paid_at=paid_at or FAR_FUTURE, pk=pk, priority=priority)


def in_policy_order(*, policy: AllocationPolicy, items: Iterable[tuple[Any, Ranked]]) -> list[Any]:
    """Items sorted by class (policy order), then paid time (FIFO), then id (arrival)."""
    return [item for item, r in sorted(items, key=lambda pair: (pair[1].rank, pair[1].paid_at, pair[1].pk))]
