"""Each platform's connector against its simulator over real HTTP: webhook subscriptions through the platform's own
API (idempotent, and the simulator then delivers there), the bulk stock writes and reads, and the official example
orders from its fixtures."""

import contextlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.platforms.protocol import StockTarget
from integrations.platforms.registry import connector_for

TOKEN = "shpat_connector_test_01"
CK, CS = "ck_connector_test_01", "cs_connector_test_02"
CREDENTIALS = {"shopify": {"access_token": TOKEN}, "woocommerce": {"consumer_key": CK, "consumer_secret": CS}}


class Inbox:
    """A loopback endpoint that records what it is sent and answers 200."""

    def __init__(self):
        self.received = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                inbox.received.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/in/"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def inbox():
    found = Inbox()
    yield found
    found.close()


@contextlib.contextmanager
def running(code, **options):
    sim = connector_for(code).simulator(credentials=CREDENTIALS[code], **options).start()
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(params=["shopify", "woocommerce"])
def platform(request):
    connector = connector_for(request.param)
    sim = connector.simulator(credentials=CREDENTIALS[request.param], secret="app-secret-01", hang_seconds=1.0)
    sim.start()
    client = connector.client(base_url=sim.url, credentials=CREDENTIALS[request.param], read_timeout=3.0)
    yield connector, sim, client
    sim.stop()


def test_registering_webhooks_twice_subscribes_each_topic_once(platform, inbox):
    connector, sim, client = platform

    first = connector.register_webhooks(client, address=inbox.url, secret="whsec-ours-01")
    again = connector.register_webhooks(client, address=inbox.url, secret="whsec-ours-01")

    assert len(first) == len(connector.webhook_topics) and first == again
    subscribed = sim.ledger()["subscriptions"]
    assert sorted(s["topic"] for s in subscribed) == sorted(connector.webhook_topics)
    assert all(s["address"] == inbox.url for s in subscribed)
    assert "whsec-ours-01" not in repr(subscribed)


def test_a_subscribed_address_receives_orders_signed_so_the_connector_verifies_them(platform, inbox):
    connector, sim, client = platform
    connector.register_webhooks(client, address=inbox.url, secret="whsec-ours-01")
    inbox.received.clear()  # a platform may ping a new subscription

    sim.upsert_order({})

    ((headers, body),) = inbox.received
    meta = connector.delivery_meta(headers, body)
    assert connector.is_order_topic(meta.topic)
    # Shopify signs with the app's secret; WooCommerce with the secret each webhook was created with.
    secret = "app-secret-01" if connector.code == "shopify" else "whsec-ours-01"
    assert connector.signature_valid(body=body, headers=headers, secrets=[secret])
    assert not connector.signature_valid(body=body, headers=headers, secrets=["someone-else"])


def test_a_new_woocommerce_webhook_pings_its_delivery_url_unsigned(inbox):
    connector = connector_for("woocommerce")
    with running("woocommerce") as sim:
        client = connector.client(base_url=sim.url, credentials=CREDENTIALS["woocommerce"])
        connector.register_webhooks(client, address=inbox.url, secret="whsec-ours-01")

    pings = [body for headers, body in inbox.received if body.startswith(b"webhook_id=")]
    assert len(pings) == len(connector.webhook_topics)
    assert all(connector.is_handshake(body=body, headers={}) for body in pings)


def test_stock_published_in_bulk_reads_back_with_the_bulk_read(platform):
    connector, sim, client = platform
    location = "905684977" if connector.stock_needs_location else ""
    listings = ["7001", "7002", "7003"] if connector.code == "shopify" else ["301", "302", "410/411"]
    targets = [StockTarget(listing=listing, location=location) for listing in listings]

    written = connector.publish_stock_many(client, [(t, n) for t, n in zip(targets, (5, 0, 12), strict=True)])
    one = connector.publish_stock(client, target=targets[0], quantity=6)
    shown = connector.read_stock(client, targets)

    assert written == dict(zip(targets, (5, 0, 12), strict=True)) and one == 6
    assert shown == {targets[0]: 6, targets[1]: 0, targets[2]: 12}
    reads = [r for r in sim.ledger()["requests"] if r["method"] == "GET"]
    assert len(reads) <= 2  # one bulk read (WooCommerce: one product list, one variation)


def test_woocommerce_writes_many_numbers_in_one_batch_call():
    connector = connector_for("woocommerce")
    with running("woocommerce") as sim:
        client = connector.client(base_url=sim.url, credentials=CREDENTIALS["woocommerce"])
        writes = [(StockTarget(listing=str(500 + n)), n) for n in range(150)]

        done = connector.publish_stock_many(client, writes)

        posts = [r["path"] for r in sim.ledger()["requests"] if r["method"] == "POST"]
    assert done == dict(writes)
    assert posts == ["/wp-json/wc/v3/products/batch"] * 2  # 100 objects a call


def test_a_shopify_stock_write_without_a_location_is_refused_for_good():
    from integrations.http import PermanentError

    connector = connector_for("shopify")
    with pytest.raises(PermanentError, match="no Shopify location"):
        connector.publish_stock(None, target=StockTarget(listing="7001"), quantity=1)


def test_each_connectors_official_example_orders_come_from_its_fixtures():
    shopify, woo = connector_for("shopify").example_orders(), connector_for("woocommerce").example_orders()

    assert [o["id"] for o in shopify] == [450789469]
    assert woo[0]["id"] == 727 and woo[0]["date_modified_gmt"]
