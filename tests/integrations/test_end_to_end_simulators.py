"""End to end against E's platform simulators on loopback (free ports): the hub runs under pytest-django's live
server, the simulator sends signed webhooks to it and answers the reconciler's pulls with real pagination."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import ConnectionStatus, DeliverySource, DeliveryState, InboundDelivery
from integrations.platforms.shopify.simulator import ShopifySimulator
from integrations.platforms.woocommerce.simulator import WooCommerceSimulator
from integrations.reconciler import reconcile_connection, reconcile_due
from inventory.models import StockLevel
from orders.models import Order, OrderEvent, OrderState
from tests.integrations.conftest import run_queued_tasks
from tests.integrations.factories import ConnectionFactory, WooConnectionFactory
from warehouse.models import ExceptionItem, ExceptionKind

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql,
]

SECRET = "shpss_e2e_signing_secret"


@pytest.fixture
def shopify(live_server, brand, stocked_sku):
    with ShopifySimulator.running(secret=SECRET, access_token="shpat_e2e", shop_domain="acme-e2e.myshopify.com") as sim:
        conn = ConnectionFactory(
            brand=brand, platform="shopify", shop=sim.shop_domain, api_base_url=sim.url,
            secrets={"signing_secret": SECRET, "credentials": {"access_token": "shpat_e2e"}},
        )  # fmt: skip
        sim.hub_url = f"{live_server.url}/webhooks/shopify/{conn.pk}/"
        yield sim, conn


@pytest.fixture
def woo(live_server, brand, stocked_sku):
    with WooCommerceSimulator.running(secret="woo_e2e_secret", site_url="https://woo-e2e.example") as sim:
        conn = WooConnectionFactory(
            brand=brand, shop=sim.site_url, api_base_url=sim.url,
            secrets={"signing_secret": "woo_e2e_secret",
                     "credentials": {"consumer_key": sim.consumer_key, "consumer_secret": sim.consumer_secret}},
        )  # fmt: skip
        sim.hub_url = f"{live_server.url}/webhooks/woocommerce/{conn.pk}/"
        yield sim, conn


def test_an_order_created_on_the_shopify_simulator_arrives_by_webhook_and_is_accepted_and_allocated(
    shopify, stocked_sku, facility
):
    sim, conn = shopify
    created = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 2}]})
    assert [w["status"] for w in sim.webhooks] == [200]
    assert run_queued_tasks() == 1
    order = Order.objects.get(channel=conn.channel, platform_order_id=str(created["id"]))
    assert order.state == OrderState.ACCEPTED
    assert StockLevel.objects.get(sku=stocked_sku, facility=facility).allocated == 2


def test_an_order_created_on_the_woocommerce_simulator_arrives_by_webhook_and_is_accepted(woo, stocked_sku):
    sim, conn = woo
    created = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]})
    assert [w["status"] for w in sim.webhooks] == [200]
    run_queued_tasks()
    order = Order.objects.get(channel=conn.channel, platform_order_id=str(created["id"]))
    assert order.state == OrderState.ACCEPTED


def test_duplicated_reordered_and_stale_webhooks_leave_one_order_in_the_newest_state(shopify):
    sim, conn = shopify
    sim.add_fault("duplicate", target="webhook")
    first = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]})
    sim.add_fault("reorder", target="webhook")
    sim.upsert_order({"id": first["id"], "note": "second"})
    sim.add_fault("stale_replay", target="webhook")
    sim.upsert_order({"id": first["id"], "note": "third"})
    run_queued_tasks()
    order = Order.objects.get(channel=conn.channel)
    assert order.special_handling == "third"
    assert Order.objects.count() == 1


def test_dropped_webhooks_are_found_by_the_reconciler_and_ingested_once(shopify):
    sim, conn = shopify
    t0 = timezone.now()
    sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]})  # delivered: the channel is alive
    run_queued_tasks()
    sim.add_fault("drop", target="webhook", times=3)
    dropped = [sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]}) for _ in range(3)]
    assert run_queued_tasks() == 0
    assert not Order.objects.filter(platform_order_id__in=[str(o["id"]) for o in dropped]).exists()

    # Within 15 minutes of simulated time a reconcile is due and finds them.
    conn.refresh_from_db()
    assert conn.pk in reconcile_due(now=t0 + dt.timedelta(minutes=10))
    run = reconcile_connection(connection=conn, now=t0 + dt.timedelta(minutes=10))
    assert (run.outcome, run.pulled, run.missing, run.replayed) == ("ok", 4, 3, 3)
    for order in Order.objects.filter(platform_order_id__in=[str(o["id"]) for o in dropped]):
        assert order.state == OrderState.ACCEPTED
        assert OrderEvent.objects.filter(order=order, message__icontains="found by the reconciler").exists()
    assert InboundDelivery.objects.filter(source=DeliverySource.RECONCILER, state=DeliveryState.PROCESSED).count() == 3

    conn.refresh_from_db()
    again = reconcile_connection(connection=conn, now=t0 + dt.timedelta(minutes=20))
    assert (again.missing, again.stale, again.replayed) == (0, 0, 0)
    assert Order.objects.filter(channel=conn.channel).count() == 4


def test_a_silent_channel_whose_pulls_find_orders_raises_channel_silent_and_falls_back_to_polling(shopify):
    sim, conn = shopify
    sim.add_fault("drop", target="webhook", times=2)
    sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]})
    sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]})
    later = timezone.now() + dt.timedelta(minutes=31)  # no webhook has arrived for more than 30 minutes
    run = reconcile_connection(connection=conn, now=later)
    assert run.missing == 2
    item = ExceptionItem.objects.get(kind=ExceptionKind.CHANNEL_SILENT)
    assert item.brand == conn.brand
    conn.refresh_from_db()
    assert conn.status == ConnectionStatus.POLLING_FALLBACK
