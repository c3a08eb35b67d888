"""Ingestion: a webhook becomes one canonical order through the mappings and orders' own service; idempotent,
newest state wins whatever the delivery order, an update before its create materialises the order once."""

import itertools

import pytest

from integrations.ingest import delivery_process
from integrations.models import DeliveryState, InboundDelivery
from inventory.models import StockLevel
from orders.models import Order, OrderState
from tests.integrations.conftest import dumps, run_queued_tasks, shopify_headers, shopify_order, woo_headers
from warehouse.models import ExceptionItem, ExceptionKind

pytestmark = pytest.mark.django_db


def deliver(client, connection, payload, *, webhook_id, topic="orders/updated"):
    body = dumps(payload)
    if connection.platform == "shopify":
        headers = shopify_headers(body, webhook_id=webhook_id, topic=topic)
    else:
        headers = woo_headers(body, delivery_id=webhook_id, topic=topic)
    response = client.post(
        f"/webhooks/{connection.platform}/{connection.pk}/", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 200
    return response


def version(n):
    """The n-th version of one order: a later one has a later updated_at, another city and another quantity."""
    return {"updated_at": f"2026-11-24T09:0{n}:00+00:00", "city": f"City {n}", "quantity": n + 1}


def payload(order_id, n, **extra):
    v = version(n)
    order = shopify_order(order_id, updated_at=v["updated_at"], quantity=v["quantity"], **extra)
    order["shipping_address"]["city"] = v["city"]
    return order


def test_an_order_created_by_webhook_is_accepted_and_allocated(client, shopify_connection, stocked_sku, facility):
    deliver(client, shopify_connection, shopify_order(5001, quantity=2), webhook_id="wh-5001", topic="orders/create")
    assert run_queued_tasks() == 1
    order = Order.objects.get(channel=shopify_connection.channel, platform_order_id="5001")
    assert order.state == OrderState.ACCEPTED
    assert order.platform_code == "shopify" and order.delivery_postal_code == "46002"
    assert StockLevel.objects.get(sku=stocked_sku, facility=facility).allocated == 2
    delivery = InboundDelivery.objects.get()
    assert delivery.state == DeliveryState.PROCESSED and delivery.order_id == order.pk


def test_a_task_run_twice_changes_nothing_the_second_time(client, shopify_connection, stocked_sku, facility):
    deliver(client, shopify_connection, shopify_order(5002), webhook_id="wh-5002", topic="orders/create")
    delivery = InboundDelivery.objects.get()
    assert delivery_process(delivery_id=delivery.pk) == DeliveryState.PROCESSED
    assert delivery_process(delivery_id=delivery.pk) == DeliveryState.PROCESSED  # at-least-once re-run
    assert Order.objects.count() == 1
    assert StockLevel.objects.get(sku=stocked_sku, facility=facility).allocated == 1


@pytest.mark.parametrize("permutation", list(itertools.permutations(range(4))), ids=lambda p: "".join(map(str, p)))
def test_every_permutation_of_create_and_three_updates_yields_the_newest_state(
    client, shopify_connection, stocked_sku, facility, permutation
):
    order_id = 6000
    for n in permutation:
        topic = "orders/create" if n == 0 else "orders/updated"
        deliver(client, shopify_connection, payload(order_id, n), webhook_id=f"wh-{order_id}-{n}", topic=topic)
        run_queued_tasks()
    order = Order.objects.get(channel=shopify_connection.channel, platform_order_id=str(order_id))
    assert order.delivery_city == "City 3"
    assert [line.quantity for line in order.lines.all()] == [4]
    assert order.source_updated_at.isoformat() == "2026-11-24T09:03:00+00:00"
    assert Order.objects.count() == 1
    assert order.state == OrderState.ACCEPTED
    assert StockLevel.objects.get(sku=stocked_sku, facility=facility).allocated == 4
    states = sorted(InboundDelivery.objects.values_list("state", flat=True))
    assert states.count(DeliveryState.PROCESSED) >= 1 and DeliveryState.FAILED not in states


def test_an_update_before_its_create_materialises_the_order_once(client, shopify_connection, stocked_sku):
    deliver(client, shopify_connection, payload(7000, 2), webhook_id="wh-upd", topic="orders/updated")
    deliver(client, shopify_connection, payload(7000, 0), webhook_id="wh-create", topic="orders/create")
    run_queued_tasks()
    order = Order.objects.get()
    assert order.delivery_city == "City 2"
    assert InboundDelivery.objects.get(delivery_id="wh-create").state == DeliveryState.STALE


def test_a_stale_payload_never_overwrites_a_newer_one(client, shopify_connection, stocked_sku):
    deliver(client, shopify_connection, payload(7100, 3), webhook_id="wh-new")
    run_queued_tasks()
    deliver(client, shopify_connection, payload(7100, 1), webhook_id="wh-old")
    run_queued_tasks()
    assert Order.objects.get().delivery_city == "City 3"
    assert InboundDelivery.objects.get(delivery_id="wh-old").state == DeliveryState.STALE


def test_a_platform_cancellation_cancels_the_order(client, shopify_connection, stocked_sku, facility):
    deliver(client, shopify_connection, payload(7200, 0), webhook_id="wh-c0", topic="orders/create")
    run_queued_tasks()
    cancelled = payload(7200, 1, cancelled_at="2026-11-24T09:01:00+00:00")
    deliver(client, shopify_connection, cancelled, webhook_id="wh-c1", topic="orders/cancelled")
    run_queued_tasks()
    assert Order.objects.get().state == OrderState.CANCELLED
    assert StockLevel.objects.get(sku=stocked_sku, facility=facility).allocated == 0


def test_a_woocommerce_order_is_ingested_through_its_own_mappings(client, woo_connection, stocked_sku):
    woo = {
        "id": 727,
        "status": "processing",
        "date_created_gmt": "2026-11-24T08:00:00",
        "date_modified_gmt": "2026-11-24T09:00:00",
        "billing": {"email": "john@example.com", "phone": "+1 415 555 0100"},
        "shipping": {"first_name": "John", "last_name": "Doe", "address_1": "969 Market", "address_2": "",
                     "city": "San Francisco", "state": "CA", "postcode": "94103", "country": "US"},
        "line_items": [{"id": 1, "name": "Tee", "sku": "TEE-BLK-M", "quantity": 3}],
    }  # fmt: skip
    deliver(client, woo_connection, woo, webhook_id="d-727", topic="order.created")
    run_queued_tasks()
    order = Order.objects.get(channel=woo_connection.channel)
    assert (order.platform_order_id, order.delivery_name, order.state) == ("727", "John Doe", OrderState.ACCEPTED)


def test_an_unknown_sku_holds_the_order_with_the_reason_named(client, shopify_connection, stocked_sku):
    deliver(client, shopify_connection, shopify_order(7300, sku="NOPE-1"), webhook_id="wh-7300", topic="orders/create")
    run_queued_tasks()
    order = Order.objects.get()
    assert order.state == OrderState.ON_HOLD
    item = ExceptionItem.objects.get(kind=ExceptionKind.ORDER_ON_HOLD)
    assert "NOPE-1" in str(item.reasons)
    assert InboundDelivery.objects.get().state == DeliveryState.PROCESSED
