"""Concurrent orders from several channels competing for the last units never oversell (reliability.md): threads
released together by a Barrier ingest one order each through `order_ingest`; the canary — a naive read-then-write
allocation under the same load — must be shown to oversell, or this test proves nothing."""

import pytest
from django.db import transaction

from inventory.models import StockLevel
from inventory.services import stock_receive
from orders.models import Order, OrderState
from orders.services import order_ingest
from tests.concurrency import race
from tests.factories import BrandFactory, FacilityFactory, SalesChannelFactory
from tests.inventory.factories import SkuFactory
from tests.orders.factories import CanonicalOrderFactory, line

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql,
]

THREADS = 12
UNITS = 5


def _race(worker, n=THREADS):
    return race(worker, n)


@pytest.fixture
def promo():
    brand = BrandFactory(slug="promo")
    facility = FacilityFactory(code="PROMO1")
    sku = SkuFactory(brand=brand, code="HOT")
    stock_receive(sku=sku, facility=facility, quantity=UNITS, event_id="rcv-hot", actor=None)
    channels = [SalesChannelFactory(brand=brand), SalesChannelFactory(brand=brand, platform_code="woocommerce")]
    return brand, facility, sku, channels


def test_concurrent_orders_from_two_channels_for_the_last_units_never_oversell(promo):
    brand, facility, sku, channels = promo

    def ingest(i):
        channel = channels[i % 2]
        canonical = CanonicalOrderFactory(platform_order_id=f"promo-{i}", lines=(line("HOT", 1),))
        return order_ingest(canonical=canonical, brand=brand, channel=channel).order.state

    states = _race(ingest)

    assert not [s for s in states if isinstance(s, Exception)], states
    level = StockLevel.objects.get(sku=sku, facility=facility)
    accepted = Order.objects.filter(brand=brand, state=OrderState.ACCEPTED).count()
    assert accepted == UNITS == level.allocated
    assert level.available == 0
    held = Order.objects.filter(brand=brand, state=OrderState.ON_HOLD)
    assert held.count() == THREADS - UNITS
    assert all(o.hold_reasons[0]["code"] == "short" for o in held)
    assert {o.channel_id for o in Order.objects.filter(brand=brand)} == {c.pk for c in channels}


def _naive_accept(*, sku, facility):
    """The canary: read what is available, decide in Python, write the new number back (a lost update)."""
    with transaction.atomic():
        level = StockLevel.objects.get(sku=sku, facility=facility)
        if level.on_hand - level.allocated < 1:
            return False
        level.allocated += 1
        level.save(update_fields=["allocated"])
        return True


def test_the_naive_read_then_write_canary_oversells_under_the_same_race(promo):
    _, facility, sku, _ = promo
    oversold_rounds = 0
    for _round in range(5):
        StockLevel.objects.filter(sku=sku, facility=facility).update(allocated=0)
        results = _race(lambda i: _naive_accept(sku=sku, facility=facility))
        granted = sum(1 for r in results if r is True)
        if granted > UNITS:
            oversold_rounds += 1
    assert oversold_rounds > 0, "the canary never oversold: the race is not exercising concurrency"
