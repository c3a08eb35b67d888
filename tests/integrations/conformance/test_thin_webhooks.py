"""Webhooks that only name their order (`Connector.order_reference`): the worker fetches the order through
`fetch_order`, never the webhook request; a fetch the platform fails is retried like any failed attempt, an order the
platform no longer has goes to the exception queue, and a 401 pauses the connection. Platforms whose webhooks carry
the whole order are not run here: `Connector.thin_webhooks` picks the platforms, and `test_webhook_shape.py`
checks that every connector's flag tells the truth about its own webhook payload."""

from __future__ import annotations

import json

import pytest

from integrations.ingest import delivery_process_safely
from integrations.models import ConnectionStatus, DeliveryState, InboundDelivery
from integrations.platforms import registry
from orders.models import Order
from tests.integrations.conformance.conftest import post_delivery, seeded
from tests.integrations.conftest import run_queued_tasks
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_http")]
THIN = [code for code in registry.codes() if registry.connector_for(code).thin_webhooks]


@pytest.fixture(params=THIN)
def connector(request):
    """Only the platforms whose webhooks name the order (overrides the conformance suite's every-platform fixture)."""
    return registry.connector_for(request.param)


def create_webhook(sim) -> tuple[bytes, dict[str, str]]:
    """An order on the platform and its create webhook, signed, not sent."""
    order = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]}, deliver=False)
    return sim.signed_delivery(sim.topic("create"), order)


def thin_delivery(connector, sim) -> tuple[str, bytes, dict[str, str]]:
    """An order on the platform and its create webhook, signed, not sent: (order id, body, headers)."""
    body, headers = create_webhook(sim)
    reference = connector.order_reference(json.loads(body))
    assert reference is not None, f"{connector.name} says its webhooks are thin, but this one carries the order"
    return reference, body, headers


def fetches(sim) -> int:
    return sum(1 for r in sim.ledger()["requests"] if r["method"] == "GET")


def test_the_worker_fetches_the_named_order_and_the_webhook_request_does_not(connector, platform_sim, connection):
    reference, body, headers = thin_delivery(connector, platform_sim)

    assert post_delivery(connection, body, headers).status_code == 200
    assert fetches(platform_sim) == 0, "the webhook request never calls the platform"
    run_queued_tasks()

    delivery = InboundDelivery.objects.get(connection=connection)
    assert (delivery.state, delivery.platform_order_id) == (DeliveryState.PROCESSED, reference)
    assert fetches(platform_sim) >= 1
    order = Order.objects.get(channel=connection.channel)
    assert order.platform_order_id == reference and [line.quantity for line in order.lines.all()] == [1]


def test_a_fetch_the_platform_fails_is_retried_and_the_order_arrives_once_it_answers(
    connector, platform_sim, connection
):
    reference, body, headers = thin_delivery(connector, platform_sim)
    platform_sim.add_fault("503", method="GET", times=2)  # every read of one attempt (the client tries twice)

    assert post_delivery(connection, body, headers).status_code == 200
    run_queued_tasks()

    delivery = InboundDelivery.objects.get(connection=connection)
    assert delivery.state == DeliveryState.RECEIVED and delivery.next_attempt_at is not None
    assert delivery.attempts == 1 and "HTTP 503" in delivery.outcome
    assert not Order.objects.filter(channel=connection.channel).exists()

    assert delivery_process_safely(delivery_id=delivery.pk) == DeliveryState.PROCESSED  # the retry, when due
    assert Order.objects.get(channel=connection.channel).platform_order_id == reference


def test_an_order_the_platform_no_longer_has_goes_to_the_exception_queue(connector, platform_sim, connection):
    reference, body, headers = thin_delivery(connector, platform_sim)
    del platform_sim.orders[int(reference)]  # deleted on the platform before the worker got to it

    assert post_delivery(connection, body, headers).status_code == 200
    run_queued_tasks()

    delivery = InboundDelivery.objects.get(connection=connection)
    assert delivery.state == DeliveryState.QUARANTINED and "404" in delivery.outcome
    item = ExceptionItem.objects.get(kind=ExceptionKind.WEBHOOK_QUARANTINE)
    assert item.state == ExceptionState.OPEN and item.reasons[0]["code"] == "order_not_found"
    assert not Order.objects.filter(channel=connection.channel).exists()


def test_a_401_on_the_fetch_pauses_the_connection_and_the_delivery_waits(connector, platform_sim, connection):
    _, body, headers = thin_delivery(connector, platform_sim)
    platform_sim.accept_credentials(connector.demo_credentials(seeded("rotated")))

    assert post_delivery(connection, body, headers).status_code == 200
    run_queued_tasks()

    connection.refresh_from_db()
    delivery = InboundDelivery.objects.get(connection=connection)
    assert connection.status == ConnectionStatus.PAUSED_CREDENTIALS
    assert delivery.state == DeliveryState.RECEIVED and delivery.next_attempt_at is not None
    assert ExceptionItem.objects.filter(kind=ExceptionKind.CREDENTIAL_EXPIRED, state=ExceptionState.OPEN).exists()
