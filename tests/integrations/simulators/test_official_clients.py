"""The simulators driven by each platform's own published client library (the developers' guide: where a platform
publishes one, the simulator must satisfy it, not only our client): Shopify's `ShopifyAPI`, WooCommerce's
`woocommerce` (over plain HTTP, so with OAuth 1.0a signatures) and BigCommerce's `bigcommerce` each list orders across
pages, fetch one, write a fulfilment (a fulfilment, a tracking note, a shipment) and are refused with a wrong
credential, exactly as they would against the real platform."""

from __future__ import annotations

import bigcommerce
import pytest
import shopify
from bigcommerce.connection import OAuthConnection
from bigcommerce.exception import ClientRequestException
from woocommerce import API as WooCommerceAPI

from integrations.platforms.bigcommerce.simulator import BigCommerceSimulator
from integrations.platforms.shopify.simulator import API_VERSION, ShopifySimulator
from integrations.platforms.woocommerce.simulator import WooCommerceSimulator

TOKEN = "shpat_official_library_0001"
CK, CS = "ck_official_library_0001", "cs_official_library_0001"


@pytest.fixture
def shopify_library():
    """ShopifyAPI pointed at a simulator (its `Session` only builds https://<shop>.myshopify.com sites, so the site and
    token header are set the way `activate_session` sets them); cleared afterwards (the library keeps them globally)."""
    with ShopifySimulator.running(access_token=TOKEN) as sim:
        shopify.ShopifyResource.set_site(f"{sim.url}/admin/api/{API_VERSION}")
        shopify.ShopifyResource.headers["X-Shopify-Access-Token"] = TOKEN
        try:
            yield sim
        finally:
            shopify.ShopifyResource.clear_session()


def test_shopify_api_lists_orders_across_cursor_pages(shopify_library):
    ids = {shopify_library.upsert_order({})["id"] for _ in range(7)}

    page = shopify.Order.find(limit=3)
    listed = [order.id for order in page]
    pages = 1
    while page.has_next_page():
        page = page.next_page()
        listed += [order.id for order in page]
        pages += 1

    assert pages == 3 and sorted(listed) == sorted(ids)


def test_shopify_api_fetches_one_order(shopify_library):
    order = shopify_library.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 2}]})

    fetched = shopify.Order.find(order["id"])

    assert fetched.id == order["id"]
    assert [(line.sku, line.quantity) for line in fetched.line_items] == [("TEE-BLK-M", 2)]


def test_shopify_api_fulfils_an_orders_fulfilment_order_once(shopify_library):
    order = shopify_library.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 2}]})
    (fulfilment_order,) = shopify.FulfillmentOrders.find(order_id=order["id"])

    def fulfil() -> shopify.FulfillmentV2:
        fulfilment = shopify.FulfillmentV2(
            {
                "line_items_by_fulfillment_order": [{"fulfillment_order_id": fulfilment_order.id}],
                "tracking_info": {"number": "1ZLIBRARY01", "company": "UPS"},
            }
        )
        fulfilment.save()
        return fulfilment

    first, second = fulfil(), fulfil()

    assert first.id and not first.errors.full_messages()
    assert "unfulfillable status" in " ".join(second.errors.full_messages())  # Shopify refuses a second one
    (done,) = shopify_library.ledger()["fulfillments"]
    assert done["tracking_numbers"] == ["1ZLIBRARY01"]
    assert shopify.Order.find(order["id"]).fulfillment_status == "fulfilled"


def test_shopify_api_refused_with_the_wrong_token_gets_401(shopify_library):
    from pyactiveresource.connection import UnauthorizedAccess

    shopify.ShopifyResource.headers["X-Shopify-Access-Token"] = "shpat_wrong"
    with pytest.raises(UnauthorizedAccess):
        shopify.Order.find()


@pytest.fixture
def woo():
    with WooCommerceSimulator.running(consumer_key=CK, consumer_secret=CS) as sim:
        yield sim


def woo_api(sim, secret: str = CS) -> WooCommerceAPI:
    """Over plain HTTP the library signs each request with OAuth 1.0a (HMAC-SHA256), as WooCommerce expects."""
    return WooCommerceAPI(url=sim.url, consumer_key=CK, consumer_secret=secret, version="wc/v3", timeout=5)


def test_woocommerce_library_lists_orders_across_pages_with_oauth1(woo):
    ids = {woo.upsert_order({})["id"] for _ in range(7)}
    api = woo_api(woo)

    first = api.get("orders", params={"per_page": 3, "page": 1})
    pages = int(first.headers["X-WP-TotalPages"])
    listed = [o["id"] for o in first.json()]
    for page in range(2, pages + 1):
        listed += [o["id"] for o in api.get("orders", params={"per_page": 3, "page": page}).json()]

    assert first.status_code == 200 and pages == 3
    assert sorted(listed) == sorted(ids)


def test_woocommerce_library_fetches_one_order_with_oauth1(woo):
    order = woo.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 2}]})

    fetched = woo_api(woo).get(f"orders/{order['id']}")

    assert fetched.status_code == 200 and "oauth_signature=" in fetched.url  # signed, over plain HTTP
    assert [(line["sku"], line["quantity"]) for line in fetched.json()["line_items"]] == [("TEE-BLK-M", 2)]


def test_woocommerce_library_completes_an_order_with_a_tracking_note(woo):
    order = woo.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]})
    api = woo_api(woo)

    completed = api.put(f"orders/{order['id']}", {"status": "completed"})
    note = api.post(f"orders/{order['id']}/notes", {"note": "Shipped with UPS, tracking 1ZLIB", "customer_note": True})

    assert completed.status_code == 200 and completed.json()["status"] == "completed"
    assert note.status_code == 201
    (kept,) = woo.ledger()["notes"][str(order["id"])]
    assert kept["customer_note"] is True and "1ZLIB" in kept["note"]


def test_woocommerce_library_with_the_wrong_secret_or_a_replayed_request_gets_401(woo):
    import requests

    refused = woo_api(woo, secret="cs_wrong").get("orders")
    assert refused.status_code == 401
    assert refused.json()["code"] == "woocommerce_rest_authentication_error"

    signed = woo_api(woo).get("orders")  # a request as signed, sent again: its nonce was used
    assert signed.status_code == 200
    assert requests.get(signed.url, timeout=5).status_code == 401


BC_TOKEN, BC_CLIENT = "bclibrarytoken00000000000000001", "bclibraryclientid0000000000001"


class LoopbackConnection(OAuthConnection):
    """The library's connection with its one URL builder pointed at the simulator: it only builds
    `https://<host>/stores/<hash>/v2/...`; headers, paging, bodies and error handling are the library's own."""

    base = ""

    def full_path(self, url):
        return self.base + self.api_path.format(self.store_hash, url)


@pytest.fixture
def bigcommerce_library():
    """`bigcommerce.api.BigcommerceApi` with OAuth credentials (`X-Auth-Client`, `X-Auth-Token`) on the simulator."""
    with BigCommerceSimulator.running(access_token=BC_TOKEN, client_id=BC_CLIENT) as sim:
        api = bigcommerce.api.BigcommerceApi(client_id=BC_CLIENT, store_hash=sim.store_hash, access_token=BC_TOKEN)
        connection = LoopbackConnection(BC_CLIENT, sim.store_hash, BC_TOKEN)
        connection.base = sim.url
        api.connection = connection
        yield sim, api


def test_bigcommerce_library_lists_orders_across_pages_until_the_204(bigcommerce_library):
    sim, api = bigcommerce_library
    sim.configure(max_page_size=3)  # the store serves 3 a page whatever the library asks (it asks for 250)
    ids = [sim.upsert_order({})["id"] for _ in range(7)]

    listed = [order.id for order in api.Orders.iterall()]

    assert listed == ids
    assert sim.order_pages_served == 4  # 3 + 3 + 1, then the 204 that ends the library's loop
    assert [o.id for o in api.Orders.all(limit=3, page=3)] == ids[6:]


def test_bigcommerce_library_fetches_one_order_and_its_products(bigcommerce_library):
    sim, api = bigcommerce_library
    order = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 2}]})

    fetched = api.Orders.get(order["id"])

    assert fetched.id == order["id"] and fetched.status == "Awaiting Fulfillment"
    assert [(p.sku, p.quantity) for p in fetched.products()] == [("TEE-BLK-M", 2)]
    assert [a.zip for a in fetched.shipping_addresses()] == ["46002"]


def test_bigcommerce_library_writes_a_shipment_with_tracking(bigcommerce_library):
    sim, api = bigcommerce_library
    order = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 2}]})
    (product,) = api.OrderProducts.all(order["id"])
    (address,) = api.OrderShippingAddresses.all(order["id"])

    shipment = api.OrderShipments.create(
        order["id"],
        order_address_id=address.id,
        items=[{"order_product_id": product.id, "quantity": 2}],
        tracking_number="1ZBCLIB01",
        shipping_provider="ups",
    )

    assert shipment.id and shipment.tracking_number == "1ZBCLIB01"
    assert [s.id for s in api.OrderShipments.all(order["id"])] == [shipment.id]
    assert api.Orders.get(order["id"]).status == "Shipped"
    with pytest.raises(ClientRequestException):  # nothing left to ship: BigCommerce refuses a second one
        api.OrderShipments.create(order["id"], order_address_id=address.id,
                                  items=[{"order_product_id": product.id, "quantity": 1}])  # fmt: skip


def test_bigcommerce_library_with_the_wrong_token_is_refused_401(bigcommerce_library):
    sim, api = bigcommerce_library
    sim.upsert_order({})
    wrong = LoopbackConnection(BC_CLIENT, sim.store_hash, "bcwrongtoken")
    wrong.base = sim.url
    api.connection = wrong

    with pytest.raises(ClientRequestException) as refused:
        api.Orders.all()
    assert refused.value.response.status_code == 401
