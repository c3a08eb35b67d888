"""The platform clients and the shared HTTP client, against the simulators over real HTTP on loopback."""

import datetime as dt
import logging
import random

import pytest

from integrations.http import (
    AmbiguousWrite,
    AuthExpired,
    HttpClient,
    PermanentError,
    RateLimited,
    RetryPolicy,
    TransientError,
    parse_retry_after,
)
from integrations.platforms.shopify.client import graphql_throttle_wait, parse_headroom, shopify_client
from integrations.platforms.shopify.simulator import ShopifySimulator
from integrations.platforms.woocommerce.client import woocommerce_client
from integrations.platforms.woocommerce.simulator import WooCommerceSimulator

TOKEN = "shpat_canary_0f9e8d7c6b5a"
CK, CS = "ck_canary_1a2b3c4d", "cs_canary_5e6f7a8b"


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def shopify():
    with ShopifySimulator.running(access_token=TOKEN, hang_seconds=3.0) as sim:
        yield sim


@pytest.fixture
def woo():
    with WooCommerceSimulator.running(consumer_key=CK, consumer_secret=CS, hang_seconds=3.0) as sim:
        yield sim


def make_shopify(sim, **options):
    options.setdefault("sleep", Sleeps())
    options.setdefault("read_timeout", 1.0)
    options.setdefault("rng", random.Random(7))
    return shopify_client(base_url=sim.url, access_token=TOKEN, **options)


def make_woo(sim, **options):
    options.setdefault("sleep", Sleeps())
    options.setdefault("read_timeout", 1.0)
    return woocommerce_client(base_url=sim.url, consumer_key=CK, consumer_secret=CS, **options)


def test_shopify_lists_orders_changed_since_across_link_header_cursor_pages(shopify):
    old = shopify.upsert_order({"updated_at": "2026-01-01T00:00:00+00:00"})
    new_ids = {shopify.upsert_order({})["id"] for _ in range(7)}
    client = make_shopify(shopify)

    first = client.list_orders_page(updated_at_min=dt.datetime(2026, 6, 1, tzinfo=dt.UTC), limit=3)
    listed = list(client.list_orders_changed_since(dt.datetime(2026, 6, 1, tzinfo=dt.UTC), limit=3))

    assert "page_info=" in first.next_url
    assert [o["id"] for o in listed if o["id"] in new_ids] == [o["id"] for o in listed]
    assert {o["id"] for o in listed} == new_ids
    assert old["id"] in {o["id"] for o in client.list_orders_changed_since(None, limit=3)}
    gets = [r for r in shopify.ledger()["requests"] if r["path"].endswith("/orders.json")]
    assert len(gets) == 1 + 3 + 3  # one first page, then three pages twice


def test_reads_are_retried_with_exponential_backoff_and_jitter_on_500_503_and_timeouts(shopify):
    order = shopify.upsert_order({})
    for mode in ("500", "503", "timeout"):
        shopify.add_fault(mode, method="GET", path=f"/orders/{order['id']}.json")
    sleeps = Sleeps()
    client = make_shopify(shopify, sleep=sleeps, retry=RetryPolicy(attempts=4, base=0.5, jitter=0.2))

    fetched = client.get_order(order["id"])

    assert fetched["id"] == order["id"]
    assert len(sleeps) == 3
    for n, slept in enumerate(sleeps, start=1):
        assert 0.5 * 2 ** (n - 1) * 0.8 <= slept <= 0.5 * 2 ** (n - 1) * 1.2
    assert len(set(sleeps)) == 3


def test_reads_give_up_after_the_last_attempt_with_a_transient_error(shopify):
    order = shopify.upsert_order({})
    shopify.add_fault("503", method="GET", times=5)
    client = make_shopify(shopify, retry=RetryPolicy(attempts=3))

    with pytest.raises(TransientError) as raised:
        client.get_order(order["id"])
    assert raised.value.status_code == 503


def test_429_waits_the_retry_after_seconds_the_platform_asked_for(shopify):
    order = shopify.upsert_order({})
    shopify.add_fault("429", method="GET", retry_after=3.0)
    sleeps = Sleeps()
    client = make_shopify(shopify, sleep=sleeps)

    assert client.get_order(order["id"])["id"] == order["id"]
    assert sleeps == [3.0]


def test_a_platforms_own_rate_limit_header_is_waited_out_before_retry_after(shopify):
    """`retry_after_parser` (given by a connector whose platform names the wait in its own header) wins over
    `Retry-After`; when it reads nothing, `Retry-After` is waited as before."""
    order = shopify.upsert_order({})
    shopify.add_fault("429", method="GET", retry_after=3.0)
    shopify.add_fault("429", method="GET", retry_after=4.0)
    sleeps = Sleeps()
    asked = iter([0.25, None])
    client = make_shopify(shopify, sleep=sleeps)
    client.http.retry_after_parser = lambda headers: next(asked) if "Retry-After" in headers else None

    assert client.get_order(order["id"])["id"] == order["id"]
    assert sleeps == [0.25, 4.0]


def test_a_long_retry_after_is_raised_for_the_caller_to_schedule(shopify):
    order = shopify.upsert_order({})
    shopify.add_fault("429", method="GET", retry_after=90.0)
    client = make_shopify(shopify, retry=RetryPolicy(max_retry_after=30.0))

    with pytest.raises(RateLimited) as raised:
        client.get_order(order["id"])
    assert raised.value.retry_after == 90.0


def test_shopify_leaky_bucket_answers_429_with_retry_after_and_the_client_waits(shopify):
    shopify.configure(bucket_size=2, leak_per_second=0.0001)
    order = shopify.upsert_order({})
    sleeps = Sleeps()
    client = make_shopify(shopify, sleep=sleeps, retry=RetryPolicy(attempts=2))

    client.get_order(order["id"])
    client.get_order(order["id"])
    with pytest.raises(RateLimited):
        client.get_order(order["id"])
    assert sleeps == [2.0]


def test_rate_limit_headroom_comes_back_with_each_response(shopify):
    order = shopify.upsert_order({})
    client = make_shopify(shopify)

    client.get_order(order["id"])
    first = client.http.last_headroom
    response = client.http.get(f"/admin/api/2025-01/orders/{order['id']}.json")

    assert first is not None and first.limit == 40
    assert response.headroom is not None and response.headroom.used == first.used + 1
    assert response.headroom.source == "rest"
    graphql = parse_headroom(
        {},
        {"extensions": {"cost": {"throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 250}}}},
    )
    assert graphql is not None and graphql.remaining == 250 and graphql.fraction == 0.25


def test_graphql_throttled_answer_with_http_200_is_rate_limited():
    body = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": {
            "cost": {
                "requestedQueryCost": 752,
                "actualQueryCost": None,
                "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 652, "restoreRate": 50.0},
            }
        },
    }
    assert graphql_throttle_wait(body) == 2.0
    assert graphql_throttle_wait({"data": {}}) is None
    assert parse_retry_after("2.0") == 2.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


def test_expired_credentials_raise_auth_expired_without_retrying(shopify):
    order = shopify.upsert_order({})
    shopify.configure(access_token="shpat_rotated")
    sleeps = Sleeps()
    client = make_shopify(shopify, sleep=sleeps)

    with pytest.raises(AuthExpired) as raised:
        client.get_order(order["id"])
    assert raised.value.status_code == 401
    assert sleeps == []


def test_non_transient_4xx_raises_a_permanent_error_with_the_platform_body(woo):
    client = make_woo(woo)

    with pytest.raises(PermanentError) as raised:
        client.get_order(999999)
    assert raised.value.status == 404
    assert "woocommerce_rest_shop_order_invalid_id" in raised.value.body


def test_a_write_that_times_out_after_sending_is_ambiguous_and_not_retried_by_the_client(shopify):
    order = shopify.upsert_order({})
    shopify.add_fault("apply_then_hang", method="POST", path="fulfillments.json")
    client = make_shopify(shopify)

    with pytest.raises(AmbiguousWrite):
        client.create_fulfillment(order_id=order["id"], tracking_number="1Z999", tracking_company="UPS")

    ledger = shopify.ledger()
    assert len(ledger["fulfillments"]) == 1  # it landed
    assert len([r for r in ledger["requests"] if r["method"] == "POST"]) == 1


def test_a_write_answered_500_after_applying_is_ambiguous_and_reading_back_finds_it(shopify):
    order = shopify.upsert_order({})
    shopify.add_fault("apply_then_500", method="POST", path="fulfillments.json")
    client = make_shopify(shopify)

    with pytest.raises(AmbiguousWrite):
        client.create_fulfillment(order_id=order["id"], tracking_number="1Z999", tracking_company="UPS")
    again = client.create_fulfillment(order_id=order["id"], tracking_number="1Z999", tracking_company="UPS")

    assert again.created is False
    assert len(shopify.ledger()["fulfillments"]) == 1


def test_shopify_fulfilment_fulfils_the_open_fulfilment_orders_with_tracking(shopify):
    order = shopify.upsert_order({"line_items": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}]})
    client = make_shopify(shopify)

    done = client.create_fulfillment(
        order_id=order["id"], tracking_number="1Z1", tracking_company="UPS", idempotency_key="k" * 64
    )

    ledger = shopify.ledger()
    assert done.created and done.tracking_number == "1Z1"
    assert [f["tracking_numbers"] for f in ledger["fulfillments"]] == [["1Z1"]]
    assert ledger["fulfillments"][0]["idempotency_key"] == "k" * 64
    assert {li["quantity"] for li in ledger["fulfillments"][0]["line_items"]} == {2, 1}
    fo = ledger["fulfillment_orders"][str(order["id"])][0]
    assert fo["status"] == "closed"


def test_woocommerce_completes_the_order_and_adds_one_tracking_note(woo):
    order = woo.upsert_order({})
    client = make_woo(woo)

    first = client.complete_with_tracking(
        order_id=order["id"], tracking_number="9400X", carrier="USPS", idempotency_key="abc" * 20
    )
    second = client.complete_with_tracking(
        order_id=order["id"], tracking_number="9400X", carrier="USPS", idempotency_key="abc" * 20
    )

    ledger = woo.ledger()
    assert (first.created, second.created) == (True, False)
    assert ledger["orders"][0]["status"] == "completed"
    notes = ledger["notes"][str(order["id"])]
    assert len(notes) == 1 and "9400X" in notes[0]["note"] and notes[0]["customer_note"] is True


def test_woocommerce_updates_stock_of_a_product_and_a_variation(woo):
    client = make_woo(woo)

    client.update_stock(product_id=93, quantity=4)
    client.update_stock(product_id=22, variation_id=733, quantity=0)

    stock = {(s["product_id"], s["variation_id"]): s for s in woo.ledger()["stock"]}
    assert stock[(93, 0)]["stock_quantity"] == 4
    assert stock[(22, 733)]["stock_status"] == "outofstock"


def test_woocommerce_over_http_is_signed_with_oauth1_and_over_https_uses_basic_auth(woo):
    """WooCommerce refuses keys sent in the clear without TLS: the client signs each request over `http` (a fresh
    nonce per attempt, so a retried read is not refused as a replay) and uses Basic auth over `https`."""
    order = woo.upsert_order({})
    woo.add_fault("500", method="GET")
    client = make_woo(woo)

    assert client.get_order(order["id"])["id"] == order["id"]  # the retry was signed anew
    assert client.http.auth is None and client.http.session.auth is not None
    secure = woocommerce_client(base_url="https://shop.example", consumer_key=CK, consumer_secret=CS)
    assert secure.http.auth == (CK, CS) and secure.http.session.auth is None


def test_woocommerce_refuses_wrong_consumer_keys_with_its_error_body(woo):
    client = woocommerce_client(base_url=woo.url, consumer_key=CK, consumer_secret="cs_wrong_secret")

    with pytest.raises(AuthExpired):
        client.get_order(1)


def test_secrets_appear_in_no_log_line_exception_or_audited_exchange(woo, caplog):
    caplog.set_level(logging.DEBUG)
    exchanges = []
    client = make_woo(woo, on_exchange=exchanges.append)
    client.http.request("GET", f"/wp-json/wc/v3/orders?consumer_key={CK}&consumer_secret={CS}")
    woo.add_fault("500", times=9)
    with pytest.raises(TransientError) as raised:
        client.http.get("/wp-json/wc/v3/orders", params={"consumer_key": CK, "consumer_secret": CS})

    seen = caplog.text + str(raised.value) + repr(raised.value.__cause__) + repr(exchanges)
    assert exchanges  # over plain HTTP the keys sign each request (OAuth 1.0a in the query), never sent as they are
    assert CK not in seen and CS not in seen
    assert "[redacted]" in seen


def test_an_unreachable_platform_is_a_transient_error_after_bounded_retries():
    sleeps = Sleeps()
    client = HttpClient(base_url="http://127.0.0.1:9", sleep=sleeps, connect_timeout=0.2, retry=RetryPolicy(attempts=3))

    with pytest.raises(TransientError):
        client.get("/anything")
    assert len(sleeps) == 2


def test_graphql_cost_headroom_is_returned_and_a_throttled_answer_is_waited_out(shopify):
    import time

    client = make_shopify(shopify, sleep=time.sleep)

    assert client.graphql("{ shop { name } }", {"cost": 990})["shop"]["name"] == shopify.shop_domain
    drained = client.http.last_headroom
    assert drained.source == "graphql" and drained.remaining < 20 and drained.limit == 1000
    started = time.monotonic()
    client.graphql("{ shop { name } }", {"cost": 20})  # THROTTLED (HTTP 200) first, then served after the wait

    calls = [r for r in shopify.ledger()["requests"] if r["path"].endswith("graphql.json")]
    assert len(calls) >= 3  # the first query, at least one THROTTLED answer, then the one served
    assert time.monotonic() - started >= 0.1


def test_graphql_throttled_beyond_the_attempts_is_rate_limited(shopify):
    shopify.configure(graphql_restore=0.001)
    client = make_shopify(shopify, retry=RetryPolicy(attempts=2))
    client.graphql("{ shop { name } }", {"cost": 999})

    with pytest.raises(RateLimited) as raised:
        client.graphql("{ shop { name } }", {"cost": 50})
    assert raised.value.retry_after > 1


def test_a_503_with_retry_after_is_waited_for_that_long_not_the_backoff(shopify):
    order = shopify.upsert_order({})
    shopify.add_fault("503", method="GET", retry_after=7)
    sleeps = Sleeps()
    client = make_shopify(shopify, sleep=sleeps)

    assert client.get_order(order["id"])["id"] == order["id"]
    assert sleeps == [7.0]
