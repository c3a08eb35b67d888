"""The WooCommerce simulator's products and variations over real HTTP (shapes, auth, WP error bodies, pagination,
stock written through the API or edited in the admin), and the client's stock read-back against it."""

import pytest
import requests
from requests_oauthlib import OAuth1

from integrations.http import PermanentError
from integrations.platforms.woocommerce.client import StockLevel, woocommerce_client
from integrations.platforms.woocommerce.simulator import WooCommerceSimulator

CK, CS = "ck_products_0001", "cs_products_0002"


def signed(secret: str = CS) -> OAuth1:
    """OAuth 1.0a in the query string, as WooCommerce wants it over plain HTTP."""
    return OAuth1(CK, client_secret=secret, signature_method="HMAC-SHA256", signature_type="query")


@pytest.fixture
def woo():
    with WooCommerceSimulator.running(consumer_key=CK, consumer_secret=CS) as sim:
        yield sim


def api(sim, path, method="GET", **kwargs):
    kwargs.setdefault("auth", signed())
    return requests.request(method, f"{sim.url}/wp-json/wc/v3/{path}", timeout=5, **kwargs)


def test_a_product_reads_back_the_number_last_written_through_the_api(woo):
    written = api(woo, "products/93", "PUT", json={"manage_stock": True, "stock_quantity": 7})
    read = api(woo, "products/93")

    assert written.status_code == read.status_code == 200
    body = read.json()
    assert (body["id"], body["manage_stock"], body["stock_quantity"], body["stock_status"]) == (93, True, 7, "instock")
    assert body["type"] == "simple" and body["_links"]["self"][0]["href"].endswith("/wp-json/wc/v3/products/93")
    assert api(woo, "products/93", "POST", json={"stock_quantity": 0}).json()["stock_status"] == "outofstock"
    assert api(woo, "products/93").json()["stock_quantity"] == 0


def test_a_variation_is_read_under_its_product(woo):
    woo.add_product(product_id=22, sku="TEE", variations=[{"id": 733, "sku": "TEE-BLK-M", "stock_quantity": 4}])

    variation = api(woo, "products/22/variations/733").json()
    parent = api(woo, "products/22").json()

    assert (variation["id"], variation["sku"], variation["stock_quantity"], variation["manage_stock"]) == (
        733,
        "TEE-BLK-M",
        4,
        True,
    )
    assert variation["_links"]["up"][0]["href"].endswith("/products/22")
    assert (parent["type"], parent["variations"], parent["manage_stock"], parent["stock_quantity"]) == (
        "variable",
        [733],
        False,
        None,
    )


def test_unknown_ids_and_bad_parameters_answer_with_wordpress_error_bodies(woo):
    woo.add_product(product_id=22, variations=[{"id": 733}])

    missing = api(woo, "products/999")
    missing_variation = api(woo, "products/22/variations/734")
    too_many = api(woo, "products", params={"per_page": 101})
    no_route = api(woo, "products/abc")
    bad_stock = api(woo, "products/22", "PUT", json={"stock_quantity": "lots"})

    assert missing.status_code == 404 and missing.json() == {
        "code": "woocommerce_rest_product_invalid_id",
        "message": "Invalid ID.",
        "data": {"status": 404},
    }
    assert missing_variation.status_code == 404
    assert missing_variation.json()["code"] == "woocommerce_rest_product_variation_invalid_id"
    assert too_many.status_code == 400 and too_many.json()["code"] == "rest_invalid_param"
    assert too_many.json()["data"]["params"] == {
        "per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"
    }
    assert no_route.status_code == 404 and no_route.json()["code"] == "rest_no_route"
    assert bad_stock.status_code == 400 and bad_stock.json()["message"] == "Invalid parameter(s): stock_quantity"


def test_products_need_the_consumer_key_signed_with_oauth1_over_plain_http(woo):
    woo.add_product(product_id=93)

    refused = api(woo, "products/93", auth=signed("cs_wrong"))
    by_query = requests.get(
        f"{woo.url}/wp-json/wc/v3/products/93", params={"consumer_key": CK, "consumer_secret": CS}, timeout=5
    )
    basic = api(woo, "products/93", auth=(CK, CS))

    assert refused.status_code == 401 and refused.json()["code"] == "woocommerce_rest_authentication_error"
    # WooCommerce takes keys in the clear (query string or Basic auth) over HTTPS only.
    assert by_query.status_code == basic.status_code == 401
    woo.configure(basic_auth_over_http=True)  # a site behind a TLS-terminating proxy
    assert api(woo, "products/93", auth=(CK, CS)).status_code == 200
    assert requests.get(by_query.url, timeout=5).status_code == 200


def test_the_products_list_filters_by_sku_and_include_and_pages_with_wp_headers(woo):
    for n in range(1, 8):
        woo.add_product(product_id=500 + n, sku=f"SKU-{n}", stock_quantity=n)

    first = api(woo, "products", params={"per_page": 3, "orderby": "id", "order": "asc"})
    last = api(woo, "products", params={"per_page": 3, "page": 3, "orderby": "id", "order": "asc"})
    beyond = api(woo, "products", params={"per_page": 3, "page": 4})
    by_sku = api(woo, "products", params={"sku": "SKU-2,SKU-5"})
    included = api(woo, "products", params={"include": "503,501,507", "orderby": "include", "order": "asc"})

    assert [p["id"] for p in first.json()] == [501, 502, 503]
    assert (first.headers["X-WP-Total"], first.headers["X-WP-TotalPages"]) == ("7", "3")
    assert 'rel="next"' in first.headers["Link"] and "page=2" in first.headers["Link"]
    assert [p["id"] for p in last.json()] == [507] and 'rel="prev"' in last.headers["Link"]
    assert "next" not in last.headers["Link"]
    assert beyond.status_code == 200 and beyond.json() == []
    assert sorted(p["sku"] for p in by_sku.json()) == ["SKU-2", "SKU-5"] and by_sku.headers["X-WP-Total"] == "2"
    assert [p["id"] for p in included.json()] == [503, 501, 507]
    assert [p["id"] for p in api(woo, "products").json()] == [507, 506, 505, 504, 503, 502, 501]  # date, id desc


def test_switching_stock_management_off_clears_the_number(woo):
    api(woo, "products/93", "PUT", json={"manage_stock": True, "stock_quantity": 5})

    body = api(woo, "products/93", "PUT", json={"manage_stock": False, "stock_quantity": 9}).json()

    assert (body["manage_stock"], body["stock_quantity"]) == (False, None)
    assert woo.ledger()["stock"] == []  # only managed stock is listed


def test_a_manual_edit_in_the_admin_is_what_the_api_then_shows_and_is_in_the_ledger(woo):
    api(woo, "products/300", "PUT", json={"manage_stock": True, "stock_quantity": 50})

    edited = requests.post(f"{woo.url}/_sim/stock", json={"product_id": 300, "stock_quantity": 80}, timeout=5)
    unknown = requests.post(f"{woo.url}/_sim/stock", json={"product_id": 301, "stock_quantity": 1}, timeout=5)

    assert edited.status_code == 200 and edited.json()["stock_quantity"] == 80
    assert unknown.status_code == 404
    assert api(woo, "products/300").json()["stock_quantity"] == 80
    history = [(h["product_id"], h["via"], h["stock_quantity"]) for h in woo.ledger()["stock_history"]]
    assert history == [(300, "api", 50), (300, "admin", 80)]
    assert woo.ledger()["stock"] == [
        {
            "id": 300,
            "product_id": 300,
            "variation_id": 0,
            "sku": "",
            "manage_stock": True,
            "stock_quantity": 80,
            "stock_status": "instock",
        }
    ]


def test_products_can_be_seeded_over_http(woo):
    created = requests.post(
        f"{woo.url}/_sim/products",
        json={"sku": "MUG", "stock_quantity": 3, "variations": [{"sku": "MUG-RED", "stock_quantity": 1}]},
        timeout=5,
    )

    assert created.status_code == 201
    product = created.json()
    assert product["sku"] == "MUG" and product["stock_quantity"] == 3 and len(product["variations"]) == 1
    assert api(woo, "products", params={"sku": "MUG"}).json()[0]["id"] == product["id"]


def test_the_client_reads_stock_for_products_across_pages_and_for_variations(woo):
    for n in range(1, 6):
        woo.add_product(product_id=300 + n, sku=f"P-{n}", stock_quantity=10 * n)
    woo.add_product(product_id=400, variations=[{"id": 40001, "stock_quantity": 2}])
    exchanges = []
    client = woocommerce_client(base_url=woo.url, consumer_key=CK, consumer_secret=CS, on_exchange=exchanges.append)

    levels = client.stock_levels([(301, None), (303, None), (305, None), (999, None), (400, 40001)], per_page=2)

    assert levels == {
        (301, None): StockLevel(301, None, 10, True, "instock", "P-1"),
        (303, None): StockLevel(303, None, 30, True, "instock", "P-3"),
        (305, None): StockLevel(305, None, 50, True, "instock", "P-5"),
        (400, 40001): StockLevel(400, 40001, 2, True, "instock", ""),
    }
    listed = [e.url for e in exchanges if "/products?" in e.url]
    assert len(listed) == 2 and all("include=301,303,305,999" in url for url in listed)  # two pages of two
    assert [p["sku"] for p in client.list_products(sku=["P-2", "P-4"], per_page=1)] == ["P-2", "P-4"]


def test_the_client_leaves_out_a_variation_the_shop_no_longer_has_but_raises_other_errors(woo):
    client = woocommerce_client(base_url=woo.url, consumer_key=CK, consumer_secret=CS)
    woo.add_product(product_id=400, variations=[{"id": 40001, "stock_quantity": 2}])

    assert client.stock_levels([(400, 40002)]) == {}
    woo.add_fault("422", method="GET", path="/variations/40001")
    with pytest.raises(PermanentError):
        client.stock_levels([(400, 40001)])
