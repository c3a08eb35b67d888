"""End to end over real HTTP on loopback: the simulator's signed webhook through the hub's inbox into an accepted
order, a dropped webhook found by the reconciler through the platform client, and the shipment's hand-off through
the outbound queue into exactly one fulfilment on the simulator despite 429, 500, a timeout, apply-then-hang and
a worker killed after the platform's 200."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from integrations.outbox.models import MessageState, OutboundMessage
from integrations.outbox.senders import attempt, default_client_factory
from integrations.outbox.services import outbox_claim_due, outbox_drain
from integrations.platforms.shopify.simulator import ShopifySimulator
from tests.integrations.conftest import run_queued_tasks
from tests.integrations.factories import ConnectionFactory

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "shpss_e2e_signing_secret_01"
TOKEN = "shpat_e2e_access_token_01"


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def sleeps(settings):
    recorded = Sleeps()
    settings.OUTBOX_HTTP = {"connect_timeout": 1.0, "read_timeout": 1.0, "retry_attempts": 2, "sleep": recorded}
    return recorded


@pytest.fixture
def wired(live_server, brand, facility, stocked_sku, sleeps):
    """A Shopify connection whose simulator delivers webhooks to the live hub and answers its API calls."""
    connection = ConnectionFactory(
        brand=brand,
        platform="shopify",
        shop="acme-e2e.myshopify.com",
        secrets={"signing_secret": SECRET, "credentials": {"access_token": TOKEN}},
    )
    hub_url = f"{live_server.url}/webhooks/shopify/{connection.pk}/"
    with ShopifySimulator.running(
        access_token=TOKEN, secret=SECRET, shop_domain=connection.shop, hub_url=hub_url, hang_seconds=3.0
    ) as sim:
        connection.api_base_url = sim.url
        connection.save(update_fields=["api_base_url"])
        yield sim, connection


def test_a_simulator_order_is_accepted_and_its_hand_off_makes_one_fulfilment_through_every_fault(wired, sleeps):
    from orders.models import Order, OrderState
    from orders.services import (
        order_confirm_picked,
        order_pack,
        order_release_to_pick,
        shipment_create,
        shipment_hand_to_carrier,
    )

    sim, connection = wired
    created = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 2}]})
    assert sim.ledger()["webhooks"][-1]["status"] == 200
    run_queued_tasks()
    order = Order.objects.get(channel=connection.channel, platform_order_id=str(created["id"]))
    assert order.state == OrderState.ACCEPTED

    order = order_pack(
        order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None), actor=None
    )
    shipment = shipment_create(order=order, carrier="UPS", tracking_number="1ZE2E0001", actor=None)
    for fault in ("429", "500", "timeout", "apply_then_hang"):
        sim.add_fault(fault, method="POST", path="fulfillments.json", retry_after=1.0)
    shipment_hand_to_carrier(shipment=shipment, carrier_receipt="MANIFEST-1", handed_at=timezone.now(), actor=None)

    # The hand-off queued one write and kicked a worker: 429 (waited out), then 500 after sending (ambiguous).
    message = OutboundMessage.objects.get()
    assert run_queued_tasks() == 1
    message.refresh_from_db()
    assert sleeps == [1.0] and (message.attempts, message.ambiguous) == (1, True)
    outbox_drain(now=message.next_attempt_at)  # a timeout
    message.refresh_from_db()
    outbox_drain(now=message.next_attempt_at)  # applied, then no answer in time
    message.refresh_from_db()
    assert (message.state, message.attempts) == (MessageState.PENDING, 3)
    assert len(sim.ledger()["fulfillments"]) == 1

    # A worker takes it, reads back, and dies before recording; the next one takes over after the lease.
    killed_at = message.next_attempt_at
    (claimed,) = outbox_claim_due(now=killed_at)
    assert attempt(claimed, default_client_factory(connection)).kind == "sent"
    outbox_drain(now=killed_at + dt.timedelta(minutes=3))

    message.refresh_from_db()
    assert message.state == MessageState.SENT
    fulfillments = sim.ledger()["fulfillments"]
    assert len(fulfillments) == 1
    assert fulfillments[0]["tracking_numbers"] == ["1ZE2E0001"] and fulfillments[0]["tracking_company"] == "UPS"
    assert sim.ledger()["orders"][0]["fulfillment_status"] == "fulfilled"


def test_a_dropped_webhook_is_found_by_the_reconciler_through_the_platform_client(wired):
    from integrations.reconciler import reconcile_connection
    from orders.models import Order

    sim, connection = wired
    sim.add_fault("drop")
    created = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]})
    assert sim.ledger()["webhooks"][-1]["note"] == "dropped"
    assert not Order.objects.filter(channel=connection.channel).exists()

    run = reconcile_connection(connection=connection, full=True)
    run_queued_tasks()

    assert (run.outcome, run.missing) == ("ok", 1)
    assert Order.objects.filter(channel=connection.channel, platform_order_id=str(created["id"])).count() == 1


def test_the_woocommerce_ping_and_a_signed_order_reach_the_hub_which_answers_200(live_server, brand):
    from integrations.models import InboundDelivery
    from integrations.platforms.woocommerce.simulator import WooCommerceSimulator
    from tests.integrations.factories import WooConnectionFactory

    connection = WooConnectionFactory(brand=brand, shop="https://woo-e2e.example", secrets={"signing_secret": SECRET})
    hub_url = f"{live_server.url}/webhooks/woocommerce/{connection.pk}/"
    with WooCommerceSimulator.running(secret=SECRET, site_url=connection.shop, hub_url=hub_url) as sim:
        assert sim.ping() == 200
        assert not InboundDelivery.objects.exists()  # the handshake is answered, nothing is stored or processed

        sim.add_fault("duplicate")
        created = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]})

        assert [w["status"] for w in sim.ledger()["webhooks"][1:]] == [200, 200]
        delivery = InboundDelivery.objects.get(connection=connection)  # the duplicate changed nothing
        assert json.loads(bytes(delivery.body))["id"] == created["id"]
        sim.configure(secret="not-the-hubs-secret")
        sim.upsert_order({"id": created["id"], "status": "on-hold"})
        assert sim.ledger()["webhooks"][-1]["status"] == 401
        assert InboundDelivery.objects.filter(connection=connection).count() == 1


def test_a_woocommerce_order_handed_to_the_carrier_is_completed_with_one_tracking_note(
    live_server, brand, facility, stocked_sku, sleeps
):
    from integrations.platforms.woocommerce.simulator import WooCommerceSimulator
    from orders.models import Order, OrderState
    from orders.services import (
        order_confirm_picked,
        order_pack,
        order_release_to_pick,
        shipment_create,
        shipment_hand_to_carrier,
    )
    from tests.integrations.factories import WooConnectionFactory

    connection = WooConnectionFactory(
        brand=brand,
        shop="https://woo-ship.example",
        secrets={"signing_secret": SECRET, "credentials": {"consumer_key": "ck_e2e", "consumer_secret": "cs_e2e"}},
    )
    hub_url = f"{live_server.url}/webhooks/woocommerce/{connection.pk}/"
    with WooCommerceSimulator.running(
        consumer_key="ck_e2e",
        consumer_secret="cs_e2e",
        secret=SECRET,
        site_url=connection.shop,
        hub_url=hub_url,
        hang_seconds=3.0,
    ) as sim:
        connection.api_base_url = sim.url
        connection.save(update_fields=["api_base_url"])
        created = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]})
        run_queued_tasks()
        order = Order.objects.get(channel=connection.channel, platform_order_id=str(created["id"]))
        assert order.state == OrderState.ACCEPTED

        order = order_pack(
            order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None), actor=None
        )
        shipment = shipment_create(order=order, carrier="SEUR", tracking_number="SEUR-777", actor=None)
        sim.add_fault("apply_then_hang", method="POST", path="/notes")
        shipment_hand_to_carrier(shipment=shipment, carrier_receipt="MANIFEST-9", handed_at=timezone.now(), actor=None)
        run_queued_tasks()  # the kicked drain: the note lands, the answer does not
        message = OutboundMessage.objects.get()
        message.refresh_from_db()
        assert message.ambiguous and message.state == MessageState.PENDING
        outbox_drain(now=message.next_attempt_at)

        message.refresh_from_db()
        ledger = sim.ledger()
        assert message.state == MessageState.SENT
        assert [o["status"] for o in ledger["orders"]] == ["completed"]
        (note,) = ledger["notes"][str(created["id"])]
        assert "SEUR-777" in note["note"] and note["customer_note"] is True
