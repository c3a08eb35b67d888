"""50 concurrent copies of one signed delivery (threads, PostgreSQL, transaction=True) are stored once, each copy
answered 2xx, and processed into one order."""

import pytest
from django.test import Client

from integrations.models import AuditRecord, DeliveryState, InboundDelivery
from tests.concurrency import race
from tests.integrations.conftest import dumps, shopify_headers, shopify_order

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql,
]

COPIES = 50


def test_fifty_concurrent_copies_of_one_delivery_are_stored_once_and_all_answered_200(shopify_connection):
    body = dumps(shopify_order(4242))
    headers = shopify_headers(body, webhook_id="wh-race")
    url = f"/webhooks/shopify/{shopify_connection.pk}/"

    statuses = race(
        lambda i: Client().post(url, data=body, content_type="application/json", headers=headers).status_code,
        COPIES,
    )

    assert statuses == [200] * COPIES
    assert InboundDelivery.objects.filter(connection=shopify_connection).count() == 1
    outcomes = list(AuditRecord.objects.filter(connection=shopify_connection).values_list("outcome", flat=True))
    assert sorted(set(outcomes)) == ["accepted", "duplicate"] and outcomes.count("accepted") == 1
    assert InboundDelivery.objects.get().state == DeliveryState.RECEIVED


def test_fifty_concurrent_copies_of_one_delivery_end_as_one_accepted_order(shopify_connection, stocked_sku, facility):
    from inventory.models import StockLevel
    from orders.models import Order, OrderState
    from tests.integrations.conftest import run_queued_tasks

    body = dumps(shopify_order(4343, quantity=3))
    headers = shopify_headers(body, webhook_id="wh-race-2")
    url = f"/webhooks/shopify/{shopify_connection.pk}/"
    statuses = race(
        lambda i: Client().post(url, data=body, content_type="application/json", headers=headers).status_code,
        COPIES,
    )
    assert statuses == [200] * COPIES
    assert run_queued_tasks() == 1
    order = Order.objects.get(channel=shopify_connection.channel, platform_order_id="4343")
    assert order.state == OrderState.ACCEPTED
    assert StockLevel.objects.get(sku=stocked_sku, facility=facility).allocated == 3


def test_fifty_distinct_deliveries_of_one_order_processed_concurrently_make_one_order(
    shopify_connection, stocked_sku, facility
):
    """The platform sends orders/create, orders/paid, orders/updated... for one order at once; workers race."""
    from integrations.ingest import delivery_process_safely
    from inventory.models import StockLevel
    from orders.models import Order

    ids = []
    for n in range(COPIES):
        minute, second = divmod(n, 60)
        ids.append(
            InboundDelivery.objects.create(
                connection=shopify_connection,
                delivery_id=f"wh-many-{n}",
                topic="orders/updated",
                body=dumps(
                    shopify_order(4444, updated_at=f"2026-11-24T09:{minute:02d}:{second:02d}+00:00", note=f"v{n}")
                ),
            ).pk
        )
    results = race(lambda i: delivery_process_safely(delivery_id=ids[i]), COPIES)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Order.objects.filter(channel=shopify_connection.channel, platform_order_id="4444").count() == 1
    order = Order.objects.get(channel=shopify_connection.channel, platform_order_id="4444")
    assert order.special_handling == f"v{COPIES - 1}"  # the newest version won, whatever order the workers ran in
    assert StockLevel.objects.get(sku=stocked_sku, facility=facility).allocated == 1
    assert set(InboundDelivery.objects.values_list("state", flat=True)) <= {
        DeliveryState.PROCESSED,
        DeliveryState.STALE,
    }
