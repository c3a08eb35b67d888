"""Twenty workers deliver the same order at once (a webhook retried while the reconciler replays it): on PostgreSQL
the unique constraint and the row lock make it one order, allocated once, with one "received" line."""

import datetime as dt

import pytest

from inventory.models import Movement, MovementKind, StockLevel
from orders.models import Order, OrderEvent, OrderEventKind, OrderLine, OrderState
from orders.services import order_ingest
from tests.concurrency import race
from tests.factories import BrandFactory, FacilityFactory, SalesChannelFactory
from tests.orders.factories import T0, CanonicalAddressFactory, CanonicalOrderFactory, line, stocked_sku

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql,
]

THREADS = 20


def _race(worker, n=THREADS):
    return race(worker, n)


@pytest.fixture
def shop():
    brand = BrandFactory(slug="race-orders")
    facility = FacilityFactory(code="RACE-O")
    sku = stocked_sku(brand=brand, facility=facility, code="RACE-TEE", units=100)
    return brand, SalesChannelFactory(brand=brand), sku, facility


@pytest.mark.parametrize("via", ["channel", "file"])
def test_twenty_workers_ingesting_the_same_order_make_one_order(shop, via):
    """From a sales channel the key is (channel, id); from a file it is (brand, source, id)."""
    brand, channel, sku, facility = shop
    canonical = CanonicalOrderFactory(platform_order_id="RACE-1", lines=(line("RACE-TEE", 3),))
    source = {"channel": channel} if via == "channel" else {"source": "file"}

    results = _race(lambda i: order_ingest(canonical=canonical, brand=brand, **source))

    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert sum(r.created for r in results) == 1
    assert len({r.order.pk for r in results}) == 1
    order = Order.objects.get()
    assert order.state == OrderState.ACCEPTED
    assert OrderLine.objects.count() == 1
    assert OrderEvent.objects.filter(kind=OrderEventKind.RECEIVED).count() == 1
    assert Movement.objects.filter(kind=MovementKind.ALLOCATE).count() == 1
    assert StockLevel.objects.get(sku=sku, facility=facility).allocated == 3


def test_twenty_workers_delivering_twenty_versions_leave_the_newest(shop):
    brand, channel, sku, facility = shop

    def version(i):
        return CanonicalOrderFactory(
            platform_order_id="RACE-2",
            updated_at=T0 + dt.timedelta(minutes=i),
            address=CanonicalAddressFactory(street1=f"Carrer {i}"),
            lines=(line("RACE-TEE", i + 1),),
        )

    results = _race(lambda i: order_ingest(canonical=version(i), brand=brand, channel=channel))

    assert [r for r in results if isinstance(r, Exception)] == []
    order = Order.objects.get()
    assert order.source_updated_at == T0 + dt.timedelta(minutes=THREADS - 1)
    assert order.delivery_street1 == f"Carrer {THREADS - 1}"
    assert order.lines.get().quantity == THREADS
    assert StockLevel.objects.get(sku=sku, facility=facility).allocated == THREADS
