"""The platform simulators: real HTTP servers on loopback, their ledger, control endpoints, signed webhooks and
webhook faults."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from requests_oauthlib import OAuth1

from integrations.platforms.base import base64_hmac_sha256_valid
from integrations.platforms.shopify.simulator import ShopifySimulator
from integrations.platforms.woocommerce.simulator import WooCommerceSimulator

SECRET = "whsec_simulator_test_0001"


class Hub:
    """A loopback receiver standing in for the hub's webhook endpoint: records each delivery as it arrived."""

    def __init__(self):
        self.received = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hub.received.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/"

    def orders(self):
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def hub():
    receiver = Hub()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def shopify(hub):
    with ShopifySimulator.running(hub_url=hub.url, secret=SECRET, shop_domain="acme.myshopify.com") as sim:
        yield sim


@pytest.fixture
def woo(hub):
    with WooCommerceSimulator.running(hub_url=hub.url, secret=SECRET, site_url="https://woo.example") as sim:
        yield sim


def test_an_order_created_on_the_shopify_simulator_arrives_as_a_signed_webhook_with_shopify_headers(shopify, hub):
    created = requests.post(f"{shopify.url}/_sim/orders", json={"line_items": [{"sku": "TEE", "quantity": 2}]}).json()

    ((headers, body),) = hub.received
    assert base64_hmac_sha256_valid(body=body, signature=headers["X-Shopify-Hmac-Sha256"].encode(), secrets=[SECRET])
    assert not base64_hmac_sha256_valid(body=body, signature=headers["X-Shopify-Hmac-Sha256"].encode(), secrets=["x"])
    assert headers["X-Shopify-Topic"] == "orders/create"
    assert headers["X-Shopify-Shop-Domain"] == "acme.myshopify.com"
    for name in ("X-Shopify-Webhook-Id", "X-Shopify-Triggered-At", "X-Shopify-Event-Id", "X-Shopify-API-Version"):
        assert headers[name]
    assert json.loads(body)["id"] == created["order"]["id"]
    assert json.loads(body)["line_items"][0]["quantity"] == 2


def test_an_order_updated_on_the_woocommerce_simulator_arrives_signed_with_wc_headers(woo, hub):
    order = woo.upsert_order({})
    woo.upsert_order({"id": order["id"], "status": "on-hold"})

    (_, first), (headers, body) = hub.received
    assert base64_hmac_sha256_valid(body=body, signature=headers["X-WC-Webhook-Signature"].encode(), secrets=[SECRET])
    assert headers["X-WC-Webhook-Topic"] == "order.updated"
    assert (headers["X-WC-Webhook-Resource"], headers["X-WC-Webhook-Event"]) == ("order", "updated")
    assert headers["X-WC-Webhook-Source"] == "https://woo.example/"
    assert headers["X-WC-Webhook-ID"] and headers["X-WC-Webhook-Delivery-ID"]
    assert json.loads(body)["status"] == "on-hold"
    assert json.loads(body)["date_modified_gmt"] > json.loads(first)["date_modified_gmt"]


def test_a_dropped_webhook_never_arrives_but_the_order_is_on_the_platform(shopify, hub):
    shopify.add_fault("drop")
    order = shopify.upsert_order({})

    assert hub.received == []
    assert [o["id"] for o in shopify.ledger()["orders"]] == [order["id"]]
    assert shopify.ledger()["webhooks"][0]["note"] == "dropped"


def test_a_duplicated_webhook_arrives_twice_with_the_same_ids(shopify, hub):
    shopify.add_fault("duplicate")
    shopify.upsert_order({})

    (h1, b1), (h2, b2) = hub.received
    assert b1 == b2
    assert h1["X-Shopify-Webhook-Id"] == h2["X-Shopify-Webhook-Id"]
    assert h1["X-Shopify-Event-Id"] == h2["X-Shopify-Event-Id"]


def test_a_reordered_webhook_arrives_after_the_next_one(shopify, hub):
    shopify.add_fault("reorder")
    order = shopify.upsert_order({})
    shopify.upsert_order({"id": order["id"], "note": "gift wrap"})

    assert [h["X-Shopify-Topic"] for h, _ in hub.received] == ["orders/updated", "orders/create"]


def test_a_stale_replay_re_sends_the_previous_version_after_the_newer_one(woo, hub):
    order = woo.upsert_order({})
    woo.add_fault("stale_replay")
    woo.upsert_order({"id": order["id"], "status": "completed"})

    statuses = [o["status"] for o in hub.orders()]
    assert statuses == ["processing", "completed", "processing"]
    ids = [h["X-WC-Webhook-Delivery-ID"] for h, _ in hub.received]
    assert len(set(ids)) == 3


def test_a_delayed_webhook_arrives_later(shopify, hub):
    shopify.add_fault("delay", seconds=0.3)
    shopify.upsert_order({})
    assert hub.received == []
    deadline = time.monotonic() + 5
    while not hub.received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(hub.received) == 1


def test_faults_and_ledger_are_driven_over_http(shopify):
    base = shopify.url
    order = requests.post(f"{base}/_sim/orders", json={}).json()["order"]
    assert requests.post(f"{base}/_sim/faults", json={"mode": "503", "method": "GET"}).status_code == 201
    assert requests.post(f"{base}/_sim/faults", json={"mode": "bogus"}).status_code == 400

    url = f"{base}/admin/api/2025-01/orders/{order['id']}.json"
    headers = {"X-Shopify-Access-Token": shopify.access_token}
    first, second = requests.get(url, headers=headers), requests.get(url, headers=headers)

    assert (first.status_code, second.status_code) == (503, 200)
    ledger = requests.get(f"{base}/_sim/ledger").json()
    assert [r["fault"] for r in ledger["requests"]] == ["503", ""]
    assert ledger["orders"][0]["id"] == order["id"]


def test_the_simulator_refuses_a_missing_token_and_unknown_paths_with_shopify_error_bodies(shopify):
    order = shopify.upsert_order({})
    url = f"{shopify.url}/admin/api/2025-01/orders/{order['id']}.json"

    refused = requests.get(url)
    missing = requests.get(
        f"{shopify.url}/admin/api/2025-01/orders/1.json", headers={"X-Shopify-Access-Token": "shpat_simulator"}
    )
    legacy = requests.post(
        f"{shopify.url}/admin/api/2025-01/orders/{order['id']}/fulfillments.json",
        json={},
        headers={"X-Shopify-Access-Token": "shpat_simulator"},
    )

    assert refused.status_code == 401 and "Invalid API key" in refused.json()["errors"]
    assert missing.status_code == 404 and missing.json() == {"errors": "Not Found"}
    assert legacy.status_code == 404
    assert refused.headers["X-Shopify-Shop-Api-Call-Limit"].endswith("/40")


def test_a_second_fulfilment_of_a_closed_fulfilment_order_is_refused_like_shopify(shopify):
    order = shopify.upsert_order({})
    fo_id = shopify.fulfillment_orders[order["id"]][0]["id"]
    url = f"{shopify.url}/admin/api/2025-01/fulfillments.json"
    headers = {"X-Shopify-Access-Token": "shpat_simulator"}
    body = {"fulfillment": {"line_items_by_fulfillment_order": [{"fulfillment_order_id": fo_id}]}}

    first = requests.post(url, json=body, headers=headers)
    second = requests.post(url, json=body, headers=headers)

    assert first.status_code == 201
    assert second.status_code == 422 and "unfulfillable" in second.json()["errors"][0]
    assert len(shopify.ledger()["fulfillments"]) == 1


def test_woocommerce_per_page_above_100_is_refused_with_a_wp_error(woo):
    reply = requests.get(
        f"{woo.url}/wp-json/wc/v3/orders",
        params={"per_page": 101},
        auth=OAuth1("ck_simulator", "cs_simulator", signature_method="HMAC-SHA256", signature_type="query"),
    )

    assert reply.status_code == 400
    assert reply.json()["code"] == "rest_invalid_param"


def test_run_simulator_command_serves_on_the_given_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_simulator", "woocommerce", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}" in line
        ledger = requests.get(f"http://127.0.0.1:{port}/_sim/ledger", timeout=5).json()
        assert ledger["platform"] == "woocommerce"
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=10)


def test_the_woocommerce_creation_ping_is_an_unsigned_form_body(woo, hub):
    status = requests.post(f"{woo.url}/_sim/ping").json()["status"]

    ((headers, body),) = hub.received
    assert status == 200
    assert body == b"webhook_id=7"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert not any(name.startswith("X-WC-Webhook-Signature") for name in headers)


@pytest.mark.django_db
def test_a_simulator_mirrors_a_connections_credentials_secret_and_inbox(brand):
    from integrations.management.commands.run_simulator import options_from_connection
    from integrations.platforms.registry import connector_for
    from tests.integrations.factories import ConnectionFactory, WooConnectionFactory

    shop = ConnectionFactory(
        brand=brand, secrets={"signing_secret": "whsec-mirror", "credentials": {"access_token": "shpat-mirror"}}
    )
    woo = WooConnectionFactory(
        brand=brand,
        secrets={"signing_secret": "woo-mirror", "credentials": {"consumer_key": "ck_m", "consumer_secret": "cs_m"}},
    )

    shop_options = options_from_connection(shop, hub_base="http://127.0.0.1:8000/")
    woo_options = options_from_connection(woo, hub_base="http://127.0.0.1:8000")

    assert shop_options == {
        "shop": shop.shop,
        "credentials": {"access_token": "shpat-mirror"},
        "secret": "whsec-mirror",
        "hub_url": f"http://127.0.0.1:8000/webhooks/shopify/{shop.pk}/",
    }
    woo_sim = connector_for("woocommerce").simulator(**woo_options)
    assert (woo_sim.consumer_key, woo_sim.consumer_secret, woo_sim.site_url, woo_sim.secret) == (
        "ck_m",
        "cs_m",
        woo.shop,
        "woo-mirror",
    )
    sim = connector_for("shopify").simulator(**shop_options).start()
    try:
        assert sim.access_token == "shpat-mirror" and sim.secret == "whsec-mirror" and sim.shop_domain == shop.shop
    finally:
        sim.stop()
