"""The simulators driven by each platform's own published client library (the developers' guide: where a platform
publishes one, the simulator must satisfy it, not only our client): Shopify's `ShopifyAPI` and WooCommerce's
`woocommerce` list orders across pages and create a fulfilment exactly as they would against the real platform."""

from __future__ import annotations

import pytest
import shopify
from woocommerce import API as WooCommerceAPI

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
