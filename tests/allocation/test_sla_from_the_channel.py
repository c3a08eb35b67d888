"""Issue 12: which orders are marketplace SLA is the channel's to say (seed 000 §04 "Marketplace SLA-bound orders
(Amazon FBM Prime, TikTok Shop within the 72-hour window)"): a marketplace's Prime/SLA-flagged orders, and orders
due inside their channel's ship-within window. A platform's name decides nothing."""

import datetime as dt

import pytest

from orders.allocation.models import PriorityClass
from orders.allocation.policy import priority_of
from warehouse.models import SalesChannel

PAID = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def channel(code="shopify", *, marketplace=False, window=None):
    return SalesChannel(platform_code=code, name=code, is_marketplace=marketplace, sla_window_hours=window)


@pytest.mark.parametrize(
    ("the_channel", "word", "due_in_hours", "expected"),
    [
        (channel("amazon", marketplace=True), "prime", None, PriorityClass.MARKETPLACE_SLA),
        (channel("amazon", marketplace=True), "standard", None, PriorityClass.STANDARD),
        (channel("amazon"), "prime", None, PriorityClass.STANDARD),  # named amazon, yet not a marketplace here
        (channel("shopify", marketplace=True), "prime", None, PriorityClass.MARKETPLACE_SLA),
        (channel("tiktok", window=72), "standard", 48, PriorityClass.MARKETPLACE_SLA),
        (channel("tiktok", window=72), "standard", 96, PriorityClass.STANDARD),  # a longer promise: no hurry
        (channel("tiktok", window=72), "standard", None, PriorityClass.MARKETPLACE_SLA),
        (channel("tiktok"), "standard", 48, PriorityClass.STANDARD),
        (None, "prime", None, PriorityClass.STANDARD),  # a manual order has no channel to be SLA-bound by
        (None, "marketplace_sla", None, PriorityClass.MARKETPLACE_SLA),  # its connector said so outright
        (channel("amazon", marketplace=True), "wholesale", None, PriorityClass.WHOLESALE),
    ],
)
def test_the_marketplace_sla_class_follows_the_channel(the_channel, word, due_in_hours, expected):
    deadline = PAID + dt.timedelta(hours=due_in_hours) if due_in_hours is not None else None

    assert priority_of(channel=the_channel, priority_class=word, paid_at=PAID, deadline=deadline) == expected
