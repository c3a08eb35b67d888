"""50 concurrent copies of one signed delivery (threads, PostgreSQL, transaction=True) are stored once, each copy
answered 2xx, and processed into one order."""

import threading

import pytest
from django.db import close_old_connections, connection
from django.test import Client

from integrations.models import AuditRecord, DeliveryState, InboundDelivery
from tests.integrations.conftest import dumps, shopify_headers, shopify_order

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL"),
]

COPIES = 50


def race(worker, n=COPIES):
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        try:
            barrier.wait()
            results[i] = worker(i)
        except Exception as exc:  # asserted by the caller
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    close_old_connections()
    return results


def test_fifty_concurrent_copies_of_one_delivery_are_stored_once_and_all_answered_200(shopify_connection):
    body = dumps(shopify_order(4242))
    headers = shopify_headers(body, webhook_id="wh-race")
    url = f"/webhooks/shopify/{shopify_connection.pk}/"

    statuses = race(
        lambda i: Client().post(url, data=body, content_type="application/json", headers=headers).status_code
    )

    assert statuses == [200] * COPIES
    assert InboundDelivery.objects.filter(connection=shopify_connection).count() == 1
    outcomes = list(AuditRecord.objects.filter(connection=shopify_connection).values_list("outcome", flat=True))
    assert sorted(set(outcomes)) == ["accepted", "duplicate"] and outcomes.count("accepted") == 1
    assert InboundDelivery.objects.get().state == DeliveryState.RECEIVED
