"""What is particular to BigCommerce beside the conformance suite: the Standard Webhooks signature's tolerance and its
refusals through the inbox (nothing processed), a replayed `hash`, interop with the Standard Webhooks reference
library, V2 paging to the 204, the rate-limit window's headers, shipments per leg and their tracking changes, and
webhook registration."""

from __future__ import annotations

import base64
import datetime as dt
import json
import time

import pytest
from django_q.models import OrmQ
from standardwebhooks import Webhook, WebhookVerificationError

from integrations.http import PermanentError, RateLimited, RetryPolicy
from integrations.models import AuditRecord, DeliveryState, InboundDelivery
from integrations.platforms.bigcommerce import events
from integrations.platforms.bigcommerce.events import TOLERANCE_SECONDS, standard_signature
from integrations.platforms.bigcommerce.simulator import BigCommerceSimulator
from integrations.platforms.protocol import FulfilmentWrite
from integrations.platforms.registry import connector_for
from orders.models import Order
from tests.integrations.conformance.conftest import post_delivery
from tests.integrations.conftest import run_queued_tasks
from tests.integrations.factories import ConnectionFactory

CLIENT_SECRET = "bc-app-client-secret-0001"
TOKEN = "bcaccesstoken0000000000000000001"
connector = connector_for("bigcommerce")


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def sim():
    with BigCommerceSimulator.running(access_token=TOKEN, secret=CLIENT_SECRET, hang_seconds=1.0) as running:
        yield running


def client_of(sim, **options):
    options.setdefault("sleep", Sleeps())
    options.setdefault("read_timeout", 2.0)
    base_url = connector.api_base_url(shop=sim.shop, api_base_url=sim.url)
    return connector.client(base_url=base_url, credentials={"access_token": TOKEN}, **options)


@pytest.fixture
def connection(db, brand, sim):
    return ConnectionFactory(
        brand=brand,
        platform="bigcommerce",
        shop=sim.shop,
        api_base_url=sim.url,
        secrets={"signing_secret": CLIENT_SECRET, "credentials": {"access_token": TOKEN}},
    )


def created_webhook(sim, **line):
    order = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1, **line}]}, deliver=False)
    return order, *sim.signed_delivery(sim.topic("create"), order)


def resigned(sim, body: bytes, headers: dict[str, str], *, secret: str = CLIENT_SECRET, at: float | None = None):
    """The same body under a new message id and timestamp (`at`, Unix seconds), signed with `secret`."""
    fresh = sim.signature_headers(body, secret, timestamp=int(at if at is not None else time.time()))
    return {**{k: v for k, v in headers.items() if not k.startswith("webhook-")}, **fresh}


# -- signatures ------------------------------------------------------------------------------------------------------


def test_the_signature_is_standard_webhooks_over_id_timestamp_and_raw_body(sim):
    _, body, headers = created_webhook(sim)
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body

    assert headers["webhook-signature"] == standard_signature(
        msg_id=headers["webhook-id"], timestamp=headers["webhook-timestamp"], body=body, secret=CLIENT_SECRET
    )
    assert signed.endswith(body) and connector.signature_valid(body=body, headers=headers, secrets=[CLIENT_SECRET])
    several = {**headers, "webhook-signature": "v1,AAAA v2,xyz " + headers["webhook-signature"]}
    assert connector.signature_valid(body=body, headers=several, secrets=[CLIENT_SECRET])  # any one v1 matches
    upper = {k.title(): v for k, v in headers.items()}  # header names in another case (a proxy)
    assert connector.signature_valid(body=body, headers=upper, secrets=[CLIENT_SECRET])


def test_the_standard_webhooks_reference_library_agrees_with_us_both_ways(sim):
    """BigCommerce's sample hands the library base64(client secret): the key is the client secret's own bytes."""
    library = Webhook(base64.b64encode(CLIENT_SECRET.encode()).decode())
    _, body, headers = created_webhook(sim)

    assert library.verify(body, headers, json_parse=False) is None  # the simulator signs as the library checks
    stamp = dt.datetime.now(dt.UTC)
    theirs = library.sign(msg_id="msg_library_1", timestamp=stamp, data=body)
    their_headers = {
        "webhook-id": "msg_library_1",
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": theirs,
    }
    assert connector.signature_valid(body=body, headers=their_headers, secrets=[CLIENT_SECRET])
    old = {**headers, **sim.signature_headers(body, CLIENT_SECRET, timestamp=int(time.time()) - 301)}
    with pytest.raises(WebhookVerificationError):
        library.verify(body, old, json_parse=False)
    assert not connector.signature_valid(body=body, headers=old, secrets=[CLIENT_SECRET])


@pytest.mark.parametrize("offset", [-TOLERANCE_SECONDS - 1, TOLERANCE_SECONDS + 1, -3600, 86400])
def test_a_signature_outside_five_minutes_is_refused_and_inside_it_is_valid(sim, offset):
    _, body, headers = created_webhook(sim)
    now = time.time()
    edge = -TOLERANCE_SECONDS + 5 if offset < 0 else TOLERANCE_SECONDS - 5

    assert not connector.signature_valid(body=body, headers=resigned(sim, body, headers, at=now + offset),
                                         secrets=[CLIENT_SECRET])  # fmt: skip
    assert connector.signature_valid(body=body, headers=resigned(sim, body, headers, at=now + edge),
                                     secrets=[CLIENT_SECRET])  # fmt: skip
    # A captured delivery, replayed as it is after the window, is refused.
    assert not events.signature_valid(body=body, headers=headers, secrets=[CLIENT_SECRET], now=now + 301)


@pytest.mark.parametrize("stamp", ["", "1e9", "-5", "١٧٠٠٠٠٠٠٠٠", "17000000000000000000000000000"])
def test_a_timestamp_that_is_not_whole_unix_seconds_is_refused(sim, stamp):
    _, body, headers = created_webhook(sim)
    signature = standard_signature(msg_id=headers["webhook-id"], timestamp=stamp, body=body, secret=CLIENT_SECRET)

    bad = {**headers, "webhook-timestamp": stamp, "webhook-signature": signature}
    assert not connector.signature_valid(body=body, headers=bad, secrets=[CLIENT_SECRET])


@pytest.mark.django_db
def test_past_the_tolerance_or_with_another_secret_the_inbox_refuses_401_and_processes_nothing(sim, connection):
    _, body, headers = created_webhook(sim)
    late = resigned(sim, body, headers, at=time.time() - TOLERANCE_SECONDS - 30)
    other = resigned(sim, body, headers, secret="another-apps-client-secret")
    early = resigned(sim, body, headers, at=time.time() + TOLERANCE_SECONDS + 30)

    assert [post_delivery(connection, body, h).status_code for h in (late, other, early)] == [401, 401, 401]

    assert not InboundDelivery.objects.exists() and not OrmQ.objects.exists()
    assert not Order.objects.exists()
    audited = list(AuditRecord.objects.filter(connection=connection).values_list("outcome", "status_code"))
    assert audited == [("hmac_failed", 401)] * 3
    assert [r for r in sim.ledger()["requests"] if r["method"] == "GET"] == [], "nothing was fetched"


@pytest.mark.django_db
def test_a_replayed_hash_is_a_duplicate_processed_once_even_with_a_fresh_signature(sim, connection):
    order, body, headers = created_webhook(sim)
    replay = resigned(sim, body, headers)  # another message id, a valid signature: the same event (hash)
    refired = json.loads(body) | {"created_at": json.loads(body)["created_at"] + 1}  # fired again: same hash
    refired_body = json.dumps(refired, separators=(",", ":")).encode()

    first = post_delivery(connection, body, headers)
    again = post_delivery(connection, body, replay)
    twice = post_delivery(connection, refired_body, resigned(sim, refired_body, headers))
    run_queued_tasks()

    assert [first.status_code, again.status_code, twice.status_code] == [200, 200, 200]  # acknowledged, not retried
    (delivery,) = InboundDelivery.objects.filter(connection=connection)
    assert delivery.delivery_id == f"hash:{json.loads(body)['hash']}" and delivery.state == DeliveryState.PROCESSED
    inbound = AuditRecord.objects.filter(connection=connection, direction="inbound").order_by("pk")
    outcomes = list(inbound.values_list("outcome"))
    assert outcomes == [("accepted",), ("duplicate",), ("duplicate",)]
    assert Order.objects.get(channel=connection.channel).platform_order_id == str(order["id"])
    order_reads = [r for r in sim.ledger()["requests"] if r["path"].endswith(f"/v2/orders/{order['id']}")]
    assert len(order_reads) == 1, "the order was fetched once: the replays were never processed"


def test_delivery_meta_keys_on_the_hash_and_falls_back_to_the_message_id(sim):
    _, body, headers = created_webhook(sim)
    payload = json.loads(body)

    meta = connector.delivery_meta(headers, body)
    assert (meta.delivery_id, meta.event_id, meta.topic) == (
        f"hash:{payload['hash']}", headers["webhook-id"], "store/order/created",
    )  # fmt: skip
    assert meta.triggered_at == dt.datetime.fromtimestamp(payload["created_at"], tz=dt.UTC)
    without = json.dumps({k: v for k, v in payload.items() if k != "hash"}).encode()
    assert connector.delivery_meta(headers, without).delivery_id == headers["webhook-id"]
    assert connector.delivery_meta(headers, b"not json").topic == ""
    assert connector.order_reference(payload) == str(payload["data"]["id"])
    shipment_hook = {**payload, "scope": "store/shipment/created", "data": {"type": "shipment", "id": 12}}
    assert connector.order_reference(shipment_hook) is None and not connector.is_order_topic("store/shipment/created")


# -- orders, paging, rate limits ---------------------------------------------------------------------------------


def test_orders_are_listed_page_by_page_until_the_204(sim):
    sim.configure(max_page_size=2)
    created = [sim.upsert_order({}, deliver=False)["id"] for _ in range(5)]
    client = client_of(sim)

    listed = [order["id"] for order in client.list_orders_changed_since(None)]

    assert listed == created
    pages = [r for r in sim.ledger()["requests"] if r["path"].endswith("/v2/orders")]
    assert len(pages) == 4  # 2 + 2 + 1, then the empty page
    assert client.list_orders_page(since=None, page=4) == []


def test_every_answer_carries_the_window_headroom_and_a_spent_quota_waits_the_reset(sim):
    order = sim.upsert_order({}, deliver=False)
    sleeps = Sleeps()
    client = client_of(sim, sleep=lambda seconds: (sleeps.append(seconds), time.sleep(seconds)))

    client.get_order(order["id"])
    assert client.http.last_headroom.limit == 450 and client.http.last_headroom.used >= 1

    sim.configure(requests_quota=2, window_ms=1500)
    time.sleep(1.6)  # a fresh window of two requests
    assert client.get_order(order["id"])["id"] == order["id"]  # the third call is refused, waited out, sent again

    assert len(sleeps) == 1 and 0 < sleeps[0] <= 1.5  # X-Rate-Limit-Time-Reset-Ms, not the 1 s default


def test_an_injected_429_names_its_wait_only_in_x_rate_limit_time_reset_ms(sim):
    order = sim.upsert_order({}, deliver=False)
    sim.add_fault("429", method="GET", retry_after=2.5)
    sleeps = Sleeps()

    assert client_of(sim, sleep=sleeps).get_order(order["id"])["id"] == order["id"]
    assert sleeps == [2.5]

    sim.add_fault("429", method="GET", retry_after=90)
    with pytest.raises(RateLimited) as raised:
        client_of(sim, retry=RetryPolicy(max_retry_after=30)).get_order(order["id"])
    assert raised.value.retry_after == 90


# -- shipments -------------------------------------------------------------------------------------------------------


def write(order_id, tracking="1ZBC0001", key="key-one-0000000001", **more):
    return FulfilmentWrite(order_id=str(order_id), tracking_number=tracking, carrier="UPS", idempotency_key=key, **more)


def test_each_leg_ships_its_lines_and_the_order_is_partially_shipped_until_the_last(sim):
    order = sim.upsert_order(
        {"line_items": [{"sku": "TEE-BLK-M", "quantity": 2}, {"sku": "MUG-WHT", "quantity": 1}]}, deliver=False
    )
    tee, mug = order["products"]
    client = client_of(sim)

    first = connector.write_fulfilment(
        client, write(order["id"], key="leg-one-000000001", lines=[{"line_item_id": tee["id"], "quantity": 2}])
    )
    assert sim.orders[order["id"]]["status_id"] == 3  # Partially Shipped
    again = connector.write_fulfilment(
        client, write(order["id"], key="leg-one-000000001", lines=[{"line_item_id": tee["id"], "quantity": 2}])
    )
    last = connector.write_fulfilment(
        client, write(order["id"], "1ZBC0002", key="leg-two-000000002", lines=[{"sku": "MUG-WHT", "quantity": 1}])
    )

    assert (first.created, again.created, again.external_id == first.external_id, last.created) == (
        True, False, True, True,
    )  # fmt: skip
    shipped = sim.fulfilments_of(order["id"])
    assert [(s["tracking_number"], [(i["order_product_id"], i["quantity"]) for i in s["items"]]) for s in shipped] == [
        ("1ZBC0001", [(tee["id"], 2)]),
        ("1ZBC0002", [(mug["id"], 1)]),
    ]
    assert sim.orders[order["id"]]["status_id"] == 2  # Shipped
    assert all(s["shipping_provider"] == "ups" for s in shipped)


def test_a_changed_tracking_number_updates_the_shipment_and_an_overlong_one_is_refused(sim):
    order = sim.upsert_order({}, deliver=False)
    client = client_of(sim)
    connector.write_fulfilment(client, write(order["id"]))

    changed = connector.write_tracking(client, write(order["id"], "1ZBC0099", previous_tracking_number="1ZBC0001"))

    (shipment,) = sim.fulfilments_of(order["id"])
    assert shipment["tracking_number"] == "1ZBC0099" and changed.external_id == str(shipment["id"])
    other = sim.upsert_order({}, deliver=False)
    with pytest.raises(PermanentError) as refused:
        connector.write_fulfilment(client, write(other["id"], "1Z" * 26))
    assert refused.value.status_code == 400 and "50" in refused.value.body
    assert sim.fulfilments_of(other["id"]) == []


def test_an_order_shipped_by_someone_else_is_refused_rather_than_shipped_twice(sim):
    order = sim.upsert_order({}, deliver=False)
    client = client_of(sim)
    connector.write_fulfilment(client, write(order["id"], key="theirs-0000000001"))

    with pytest.raises(PermanentError, match="already shipped"):
        connector.write_fulfilment(client, write(order["id"], key="ours-00000000002"))
    assert len(sim.fulfilments_of(order["id"])) == 1


# -- webhook registration --------------------------------------------------------------------------------------------


def test_registering_twice_creates_each_hook_once_and_switches_a_deactivated_one_back_on(sim):
    client = client_of(sim)
    address = "https://hub.example/webhooks/bigcommerce/7/"

    first = connector.register_webhooks(client, address=address, secret="ignored")
    sim.subscriptions[0]["active"] = False  # BigCommerce deactivated it after days of failures
    again = connector.register_webhooks(client, address=address, secret="ignored")

    assert first == again and len(first) == 2
    hooks = client.hooks()
    assert sorted(h["scope"] for h in hooks) == ["store/order/created", "store/order/updated"]
    assert all(h["is_active"] and h["destination"] == address for h in hooks)
    with pytest.raises(PermanentError) as refused:  # BigCommerce delivers to HTTPS only (loopback aside, for tests)
        client.create_hook(scope="store/order/created", destination="http://hub.example/webhooks/")
    assert refused.value.status_code == 422


@pytest.mark.django_db
def test_the_api_root_is_the_store_on_the_bigcommerce_api_host_and_credentials_go_nowhere_else(brand):
    from integrations.connections import ApiHostRefused, client_for

    secrets = {"credentials": {"access_token": TOKEN}}
    live = ConnectionFactory(brand=brand, platform="bigcommerce", shop="abc123", api_base_url="", secrets=secrets)
    stray = ConnectionFactory(
        brand=brand, platform="bigcommerce", shop="def456", api_base_url="https://collector.example", secrets=secrets
    )

    assert client_for(live).http.base_url == "https://api.bigcommerce.com/stores/abc123"
    assert client_for(live).http.auth_headers["X-Auth-Token"] == TOKEN
    with pytest.raises(ApiHostRefused):
        client_for(stray)
    assert connector.external_id_problem(kind="listing", value="7001") == ""
    assert connector.external_id_problem(kind="listing", value="93/411") != ""
    assert connector.external_id_problem(kind="location", value="x") != ""
