"""`/metrics` (issue 18, item 1): every connector metric of seed 000 §07 and seed 001's signals, in the Prometheus
text format, with the values of a known fixture: real deliveries through the inbox, real writes to a platform
simulator through the outbox, a dead letter each way."""

import datetime as dt

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from integrations.delivery_lifecycle import dead_letter
from integrations.metrics.families import FAMILIES
from integrations.models import InboundDelivery, ReconcileRun
from integrations.outbox.models import ConnectionCircuit, MessageKind, OutboundMessage
from integrations.outbox.services import outbound_enqueue, outbox_drain
from integrations.platforms.registry import connector_for
from integrations.publishing.models import PublishedLevel
from orders.models import Order
from tests.integrations.conftest import SHOPIFY_SECRET, dumps, run_queued_tasks, shopify_headers, shopify_order
from tests.integrations.factories import ConnectionFactory
from tests.integrations.outbox.conftest import TOKEN
from tests.inventory.factories import DefinedSkuFactory
from warehouse.errors import Reason

pytestmark = pytest.mark.django_db

SCRAPE_TOKEN = "metrics-scrape-token-7f3a-0c9d1e2b"


def scrape(client, token=SCRAPE_TOKEN, **extra):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"} if token else {}, **extra)


def parsed(body: bytes) -> dict:
    """{family name: {(label items...): value}} from the exposition, through the official parser."""
    found: dict = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(families, name, **labels):
    return families[name][tuple(sorted((k, str(v)) for k, v in labels.items()))]


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    settings.METRICS_ALLOWED_IPS = []
    return SCRAPE_TOKEN


@pytest.fixture
def shop(shopify_sim, brand):
    """A Shopify connection whose API is the simulator and whose webhooks are signed with SHOPIFY_SECRET."""
    return ConnectionFactory(
        brand=brand,
        platform="shopify",
        api_base_url=shopify_sim.url,
        secrets={"credentials": {"access_token": TOKEN}, "signing_secret": SHOPIFY_SECRET},
    )


def post_webhook(client, connection, payload, **headers):
    body = dumps(payload)
    return client.post(
        f"/webhooks/shopify/{connection.pk}/",
        data=body,
        content_type="application/json",
        headers=shopify_headers(body, **headers),
    )


@pytest.fixture
def traffic(client, shop, woo_connection, shopify_sim, stocked_sku):
    """Five webhooks (three orders, one topic the platform was not subscribed for, one with a bad signature), one
    write confirmed by the simulator and one it refused, a reconcile run, a drifting SKU and a diverging level."""
    for n, (order_id, sku) in enumerate([(1001, "TEE-BLK-M"), (1002, "TEE-BLK-M"), (1003, "NO-SUCH-SKU")]):
        assert post_webhook(client, shop, shopify_order(order_id, sku=sku), webhook_id=f"w{n}").status_code == 200
    assert post_webhook(client, shop, {"id": 1}, webhook_id="w-app", topic="app/uninstalled").status_code == 200
    assert post_webhook(client, shop, shopify_order(1004), webhook_id="w-bad", secret="wrong").status_code == 401
    run_queued_tasks()
    assert Order.objects.filter(connection=shop).count() == 3

    platform_order = shopify_sim.upsert_order({})
    sent = outbound_enqueue(
        connection=shop,
        kind=MessageKind.FULFILMENT,
        payload={"order_id": str(platform_order["id"]), "tracking_number": "1Z0001", "carrier": "UPS"},
    )
    refused = outbound_enqueue(
        connection=shop,
        kind=MessageKind.FULFILMENT,
        payload={"order_id": "424242", "tracking_number": "1Z0002", "carrier": "UPS"},  # not on the platform: 404
    )
    outbox_drain(now=timezone.now(), connection_id=shop.pk)
    assert OutboundMessage.objects.get(pk=sent.pk).state == "sent"
    assert OutboundMessage.objects.get(pk=refused.pk).state == "dead"

    ignored = InboundDelivery.objects.get(connection=shop, topic="app/uninstalled")
    dead_letter(delivery=ignored, reason=Reason("ingest_failed", "test"))  # an inbound dead letter

    ReconcileRun.objects.create(connection=shop, missing=2, stale=1, outcome="ok")
    DefinedSkuFactory(brand=shop.brand, code="NEW-TEE")  # no weight, dimensions or HS code
    PublishedLevel.objects.create(
        connection=shop, sku=stocked_sku, quantity=100, pushed_at=timezone.now(), channel_quantity=80
    )
    return shop


def test_metrics_exports_every_family_with_the_values_of_a_known_fixture(client, token, traffic, woo_connection):
    shop = traffic
    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    families = parsed(response.content)

    for family in FAMILIES:  # every family has series here
        assert family.name in families, family.name
        assert family.platform_name in families or not family.platform_family, family.platform_name
    s, w = {"platform": "shopify", "connection": shop.pk}, {"platform": "woocommerce", "connection": woo_connection.pk}

    # ingest rate: deliveries per second over 5 minutes, per subscribed topic; anything else is "other"
    rate = "hub_webhook_ingest_events_per_second"
    assert value(families, rate, **s, topic="orders/create") == pytest.approx(3 / 300)
    assert value(families, rate, **s, topic="other") == pytest.approx(1 / 300)
    assert value(families, rate, **s, topic="orders/cancelled") == 0
    for topic in connector_for("woocommerce").webhook_topics:  # a silent connection shows zeros, not nothing
        assert value(families, rate, **w, topic=topic) == 0

    # four requests answered 200, one refused for its signature
    assert value(families, "hub_webhook_ingest_success_ratio", **s) == pytest.approx(4 / 5)
    assert value(families, "hub_webhook_hmac_failure_ratio", **s) == pytest.approx(1 / 5)
    assert value(families, "hub_platform_webhook_ingest_success_ratio", platform="shopify") == pytest.approx(4 / 5)
    assert value(families, "hub_platform_webhook_hmac_failure_ratio", platform="shopify") == pytest.approx(1 / 5)

    assert value(families, "hub_reconciler_delta_records", **s) == 3
    assert value(families, "hub_reconciler_delta_records", **w) == 0

    message = OutboundMessage.objects.get(state="sent")
    latency = (message.sent_at - message.created_at).total_seconds()
    assert value(families, "hub_outbound_write_latency_p95_seconds", **s) == pytest.approx(latency)
    assert value(families, "hub_outbound_write_latency_p50_seconds", **s) == pytest.approx(latency)
    assert value(families, "hub_platform_outbound_write_latency_p95_seconds", platform="shopify") == pytest.approx(
        latency
    )

    circuit = ConnectionCircuit.objects.get(connection=shop)
    assert circuit.headroom_fraction is not None and 0 < circuit.headroom_fraction <= 1
    assert value(families, "hub_rate_limit_headroom_ratio", **s) == pytest.approx(circuit.headroom_fraction)

    assert value(families, "hub_dead_letter_depth", **s, direction="outbound") == 1
    assert value(families, "hub_dead_letter_depth", **s, direction="inbound") == 1
    assert value(families, "hub_dead_letter_depth", **w, direction="outbound") == 0

    assert value(families, "hub_catalog_drift_skus", **s) == 1
    assert value(families, "hub_catalog_drift_skus", **w) == 1  # the same brand's catalog

    lags = sorted(
        (order.created_at - order.placed_at).total_seconds() for order in Order.objects.filter(connection=shop)
    )
    assert value(families, "hub_order_lag_p50_seconds", **s) == pytest.approx(lags[1])
    assert value(families, "hub_order_lag_p95_seconds", **s) == pytest.approx(lags[2])
    assert lags[0] > 24 * 3600  # placed on 24 November, ingested today: a lag of days, in seconds

    assert value(families, "hub_inventory_divergence_skus", **s) == 1  # 80 shown against 100 pushed: beyond ±5 %
    assert value(families, "hub_inventory_divergence_skus", **w) == 0

    assert value(families, "hub_webhook_failures", **s, reason="refused") == 1
    assert value(families, "hub_webhook_failures", **s, reason="dead_letter") == 1
    assert value(families, "hub_webhook_failures", **s, reason="quarantined") == 0

    queue = "hub_exception_queue_depth"
    assert value(families, queue, kind="dead_letter") == 1
    assert value(families, queue, kind="inbound_dead_letter") == 1
    assert value(families, queue, kind="order_on_hold") == 1  # order 1003's unknown SKU
    assert value(families, queue, kind="picking_stalled") == 0

    info = families["hub_connection_info"]
    assert info[tuple(sorted({"platform": "shopify", "connection": str(shop.pk), "name": shop.name,
                              "brand": shop.brand.name, "status": "active"}.items()))] == 1  # fmt: skip


def test_a_windowed_number_leaves_the_window(client, token, traffic):
    later = timezone.now() + dt.timedelta(hours=2)
    from integrations.metrics.exporter import exposition

    families = parsed(exposition(now=later))
    s = {"platform": "shopify", "connection": traffic.pk}
    assert value(families, "hub_webhook_ingest_events_per_second", **s, topic="orders/create") == 0
    assert value(families, "hub_reconciler_delta_records", **s) == 0
    assert "hub_order_lag_p50_seconds" not in families  # no order arrived in the last hour: no percentile
    assert value(families, "hub_dead_letter_depth", **s, direction="outbound") == 1  # a reading of state stays


# --- refused without its token --------------------------------------------------------------------------------


def test_metrics_are_refused_without_the_token_or_with_a_wrong_one_and_name_no_metric(client, token, shop):
    for response in (scrape(client, token=None), scrape(client, token="wrong-token"), scrape(client, token="")):
        assert response.status_code == 401
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert b"hub_" not in response.content and b"# HELP" not in response.content
    basic = client.get("/metrics", headers={"Authorization": f"Basic {SCRAPE_TOKEN}"})
    assert basic.status_code == 401
    assert scrape(client).status_code == 200


def test_an_allowed_scrape_address_needs_no_token_and_others_are_refused(client, settings, shop):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    refused = client.get("/metrics", REMOTE_ADDR="192.168.1.5")
    assert refused.status_code == 403 and b"hub_" not in refused.content
    forwarded = client.get("/metrics", REMOTE_ADDR="192.168.1.5", headers={"X-Forwarded-For": "10.1.2.3"})
    assert forwarded.status_code == 403  # the forwarded-for header is the client's to write
    allowed = client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    assert allowed.status_code == 200 and b"hub_connection_info" in allowed.content


def test_with_neither_a_token_nor_an_allowlist_every_scrape_is_refused(client, settings, shop):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


def test_the_exposition_is_gauges_with_help_and_no_order_ids(client, token, traffic):
    body = scrape(client).content.decode()
    kinds = {family.name: family.type for family in text_string_to_metric_families(body)}
    assert set(kinds.values()) <= {"gauge", "info"}
    assert all(name.startswith("hub_") for name in kinds)
    assert body.count("# HELP hub_") == len(kinds)
    for order_id in Order.objects.values_list("platform_order_id", flat=True):
        assert f'"{order_id}"' not in body


def test_metrics_answer_get_only(client, token):
    response = client.post("/metrics", headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert response.status_code == 405


def test_the_deployment_check_warns_of_a_short_token_and_a_loopback_allowlist(settings):
    from integrations.checks import check_metrics_access

    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", []
    assert check_metrics_access() == []  # closed: every scrape refused
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = SCRAPE_TOKEN, ["127.0.0.1", "not-an-address", "10.0.0.0/8"]
    assert [m.id for m in check_metrics_access()] == ["integrations.W012", "integrations.W011"]
    settings.METRICS_TOKEN = "short"
    assert "integrations.W010" in [m.id for m in check_metrics_access()]
