"""Split orders on real transactions (their own file: a transactional test flushes the database, so it must not share a
file with tests that rely on migration data; pytest-django runs such files last): racing splits never oversell any
leg, and a Shopify split order becomes two partial fulfilments."""

import pytest

from orders.models import Order, OrderState, allocation_rows
from orders.services import (
    order_confirm_picked,
    order_pack,
    order_release_to_pick,
    shipment_create,
)
from tests.allocation.test_split_orders import hand_over, ingest, level, make_sites, receive
from tests.concurrency import race
from tests.factories import BrandFactory
from tests.inventory.factories import SkuFactory
from tests.orders.factories import line


@pytest.mark.concurrency
@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_racing_split_orders_never_oversell_any_leg():
    brand = BrandFactory(slug="split-race")
    nj, nv = make_sites()
    shirt, cap = SkuFactory(brand=brand, code="SHIRT"), SkuFactory(brand=brand, code="CAP")
    receive(shirt, nj, 4)
    receive(cap, nv, 4)
    threads = 10

    def worker(i):
        # Half want shirt+cap (a split), half only caps (Nevada alone): both compete for Nevada's caps.
        lines = (line("SHIRT", 1), line("CAP", 1)) if i % 2 == 0 else (line("CAP", 1),)
        return ingest(brand, *lines, pid=f"RACE-{i}").state

    states = race(worker, threads)

    assert not [s for s in states if isinstance(s, Exception)], states
    caps, shirts = level(cap, nv), level(shirt, nj)
    assert caps.allocated == 4 and caps.available == 0 and caps.on_hand == 4  # every cap promised once, no more
    accepted = Order.objects.filter(brand=brand, state=OrderState.ACCEPTED)
    assert sum(qty for o in accepted for sku_id, qty in o.allocated_stock() if sku_id == cap.pk) == 4
    split_accepted = sum(1 for o in accepted if len({(r.sku_id, r.facility_id) for r in allocation_rows(o)}) == 2)
    assert shirts.allocated == split_accepted <= 4  # a split never holds a shirt without its cap
    held = Order.objects.filter(brand=brand, state=OrderState.ON_HOLD)
    assert held.count() == threads - accepted.count() and held.count() >= threads - 4


@pytest.mark.django_db(transaction=True)
def test_a_shopify_split_order_becomes_two_partial_fulfilments_with_each_legs_lines(live_server, settings):
    from integrations.outbox.models import MessageState, OutboundMessage
    from integrations.platforms.shopify.simulator import ShopifySimulator
    from tests.integrations.conftest import run_queued_tasks
    from tests.integrations.factories import ConnectionFactory

    settings.OUTBOX_HTTP = {"connect_timeout": 1.0, "read_timeout": 2.0, "retry_attempts": 1}
    brand = BrandFactory(slug="split-shop")
    nj, nv = make_sites()
    shirt, cap = SkuFactory(brand=brand, code="SHIRT"), SkuFactory(brand=brand, code="CAP")
    receive(shirt, nj, 3)
    receive(cap, nv, 3)
    secret, token = "shpss_split_signing_01", "shpat_split_token_01"
    connection = ConnectionFactory(
        brand=brand, platform="shopify", shop="split.myshopify.com",
        secrets={"signing_secret": secret, "credentials": {"access_token": token}},
    )  # fmt: skip
    hub_url = f"{live_server.url}/webhooks/shopify/{connection.pk}/"
    with ShopifySimulator.running(
        access_token=token, secret=secret, shop_domain=connection.shop, hub_url=hub_url
    ) as sim:
        connection.api_base_url = sim.url
        connection.save(update_fields=["api_base_url"])
        created = sim.upsert_order({"line_items": [{"sku": "SHIRT", "quantity": 2}, {"sku": "CAP", "quantity": 1}]})
        run_queued_tasks()
        order = Order.objects.get(channel=connection.channel, platform_order_id=str(created["id"]))
        assert (
            order.state == OrderState.ACCEPTED and len({(r.sku_id, r.facility_id) for r in allocation_rows(order)}) == 2
        )

        order = order_pack(
            order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None), actor=None
        )
        for tracking, facility in (("1ZNJ0001", nj), ("1ZNV0001", nv)):
            shipment = shipment_create(order=order, carrier="UPS", tracking_number=tracking, facility=facility,
                                       actor=None)  # fmt: skip
            hand_over(shipment, f"MANIFEST-{facility.code}")
            run_queued_tasks()  # the kicked drain sends this leg's fulfilment

        assert set(OutboundMessage.objects.values_list("state", flat=True)) == {MessageState.SENT}
        ledger = sim.ledger()
        legs = [(f["tracking_number"], [(li["sku"], li["quantity"]) for li in f["line_items"]])
                for f in ledger["fulfillments"]]  # fmt: skip
        assert legs == [("1ZNJ0001", [("SHIRT", 2)]), ("1ZNV0001", [("CAP", 1)])]
        assert ledger["orders"][0]["fulfillment_status"] == "fulfilled"
        assert Order.objects.get(pk=order.pk).state == OrderState.DISPATCHED
