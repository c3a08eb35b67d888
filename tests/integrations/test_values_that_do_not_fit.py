"""Issue 11 §1: a channel's value that does not fit its column is never truncated. The order is held with the field
named, nothing of the value is stored (never a prefix), and the whole value stays in the stored delivery payload."""

import json

import pytest

from integrations.models import DeliveryState, InboundDelivery
from orders.models import Order, OrderState
from tests.integrations.conftest import dumps, run_queued_tasks, shopify_headers, shopify_order
from warehouse.models import ExceptionItem, ExceptionKind

pytestmark = pytest.mark.django_db


def _webhook(client, connection, payload, webhook_id):
    body = dumps(payload)
    headers = shopify_headers(body, webhook_id=webhook_id, topic="orders/create")
    response = client.post(
        f"/webhooks/shopify/{connection.pk}/", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 200
    assert run_queued_tasks() == 1


@pytest.mark.parametrize(
    ("where", "value", "column", "message"),
    [
        ("zip", "4" * 500, "delivery_postal_code", "postal_code: 500 characters, at most 20"),
        ("name", "N" * 5000, "delivery_name", "name: 5000 characters, at most 200"),
    ],
    ids=["zip-500", "name-5000"],
)
def test_a_webhook_value_that_does_not_fit_holds_the_order_naming_it_and_stores_no_prefix(
    client, shopify_connection, stocked_sku, where, value, column, message
):
    payload = shopify_order(7001)
    payload["shipping_address"][where] = value
    _webhook(client, shopify_connection, payload, "wh-7001")
    order = Order.objects.get(channel=shopify_connection.channel, platform_order_id="7001")
    assert order.state == OrderState.ON_HOLD
    assert {"code": "too_long", "message": message} in order.hold_reasons
    assert getattr(order, column) == ""  # never a prefix of the value
    item = ExceptionItem.objects.get(object_id=order.pk, kind=ExceptionKind.ORDER_ON_HOLD)
    assert message in json.dumps(item.detail)
    delivery = InboundDelivery.objects.get(connection=shopify_connection)
    assert delivery.state == DeliveryState.PROCESSED
    assert json.loads(bytes(delivery.body))["shipping_address"][where] == value  # the whole value is kept
    assert not order.allocation_rows.exists()


def test_a_webhook_update_with_an_over_long_value_holds_the_accepted_order(client, shopify_connection, stocked_sku):
    _webhook(client, shopify_connection, shopify_order(7002), "wh-7002-a")
    assert Order.objects.get(platform_order_id="7002").state == OrderState.ACCEPTED
    newer = shopify_order(7002, updated_at="2026-11-24T10:00:00+00:00")
    newer["shipping_address"]["city"] = "C" * 101
    _webhook(client, shopify_connection, newer, "wh-7002-b")
    order = Order.objects.get(platform_order_id="7002")
    assert order.state == OrderState.ON_HOLD
    assert {"code": "too_long", "message": "city: 101 characters, at most 100"} in order.hold_reasons
    assert order.delivery_city == "" and not order.allocation_rows.exists()
