"""The publisher never publishes a number read before a stock change committed: allocations race in threads while
a publisher cycles; after one more cycle every (SKU, connection) holds exactly the WMS number (PostgreSQL)."""

import threading

import pytest
from django.db import close_old_connections, connection

from integrations.publishing.models import DirtyStock, PublishedLevel
from integrations.publishing.pool import sellable
from integrations.publishing.services import publishing_run_cycle
from inventory.services import stock_allocate, stock_receive
from tests.factories import BrandFactory, FacilityFactory
from tests.integrations.factories import ConnectionFactory, WooConnectionFactory
from tests.inventory.factories import SkuFactory
from tests.publishing.factories import ListingFactory

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql,
]

THREADS = 6
PER_THREAD = 12


def test_publishing_while_allocations_race_ends_with_every_channel_on_the_wms_number():
    brand, facility = BrandFactory(slug="race-pub"), FacilityFactory(code="RACEPUB")
    channels = [ConnectionFactory(brand=brand), WooConnectionFactory(brand=brand)]
    skus = [SkuFactory(brand=brand, code=f"RP-{i}") for i in range(3)]
    for sku in skus:
        stock_receive(sku=sku, facility=facility, quantity=30, event_id=f"rcv-{sku.code}", actor=None)
        for conn in channels:
            ListingFactory(connection=conn, sku=sku, location="905684977")
    barrier = threading.Barrier(THREADS + 1)
    done = threading.Event()
    errors: list[Exception] = []

    def allocator(i):
        try:
            barrier.wait()
            for n in range(PER_THREAD):
                stock_allocate(facility=facility, lines=[(skus[(i + n) % 3], 1)], event_id=f"a-{i}-{n}", actor=None)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def publisher():
        try:
            barrier.wait()
            while not done.is_set():
                publishing_run_cycle()
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=allocator, args=(i,)) for i in range(THREADS)]
    pub = threading.Thread(target=publisher)
    for thread in [*threads, pub]:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    pub.join(timeout=60)
    close_old_connections()
    assert not errors, errors

    publishing_run_cycle()  # the one cycle after the last event

    assert not DirtyStock.objects.exists()
    truth = sellable(skus)
    assert sum(truth.values()) == 3 * 30 - THREADS * PER_THREAD
    published = {(lvl.connection_id, lvl.sku_id): lvl.quantity for lvl in PublishedLevel.objects.all()}
    assert published == {(c.pk, s.pk): truth[s.pk] for c in channels for s in skus}
