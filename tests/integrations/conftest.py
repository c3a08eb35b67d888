import json

import pytest

from integrations.connection_cache import connection_cache_clear
from integrations.platforms.base import sign
from tests.integrations.factories import ConnectionFactory, WooConnectionFactory

SHOPIFY_SECRET = "shpss_test_signing_secret_0001"
WOO_SECRET = "woo-webhook-secret-0001"


@pytest.fixture(autouse=True)
def _fresh_connection_cache():
    """The inbox caches connections per process for a few seconds; each test starts from the database."""
    connection_cache_clear()
    yield
    connection_cache_clear()


@pytest.fixture
def shopify_connection(brand):
    return ConnectionFactory(brand=brand, platform="shopify", secrets={"signing_secret": SHOPIFY_SECRET})


@pytest.fixture
def woo_connection(brand):
    return WooConnectionFactory(brand=brand, secrets={"signing_secret": WOO_SECRET})


def shopify_headers(body: bytes, *, secret=SHOPIFY_SECRET, webhook_id="wh-1", topic="orders/create", **extra):
    headers = {
        "X-Shopify-Hmac-Sha256": sign(body=body, secret=secret),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "acme.myshopify.com",
        "X-Shopify-Api-Version": "2025-01",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": f"ev-{webhook_id}",
        "X-Shopify-Triggered-At": "2026-11-24T09:00:00.000Z",
    }
    headers.update(extra)
    return headers


def woo_headers(body: bytes, *, secret=WOO_SECRET, delivery_id="d-1", topic="order.created"):
    return {
        "X-WC-Webhook-Signature": sign(body=body, secret=secret),
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": topic.split(".")[-1],
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": delivery_id,
        "X-WC-Webhook-Source": "https://woo.example/",
    }


def shopify_order(order_id=1001, *, updated_at="2026-11-24T09:00:00+00:00", sku="TEE-BLK-M", quantity=1, **extra):
    order = {
        "id": order_id,
        "name": f"#{order_id}",
        "email": "ana@example.com",
        "created_at": "2026-11-24T08:59:00+00:00",
        "processed_at": "2026-11-24T08:59:00+00:00",
        "updated_at": updated_at,
        "financial_status": "paid",
        "cancelled_at": None,
        "note": "",
        "shipping_address": {
            "name": "Ana Garcia",
            "address1": "Carrer de la Pau 3",
            "address2": "",
            "zip": "46002",
            "city": "Valencia",
            "province_code": "V",
            "country_code": "ES",
            "phone": "+34 600 000 000",
        },
        "line_items": [{"id": 1, "sku": sku, "quantity": quantity, "name": "Tee"}],
    }
    order.update(extra)
    return order


def dumps(payload) -> bytes:
    return json.dumps(payload).encode()


@pytest.fixture
def stocked_sku(brand, facility):
    """TEE-BLK-M with 100 units on hand at the brand's only facility."""
    from inventory.services import stock_receive
    from tests.inventory.factories import SkuFactory

    sku = SkuFactory(brand=brand, code="TEE-BLK-M")
    stock_receive(sku=sku, facility=facility, quantity=100, event_id="rcv-tee", actor=None)
    return sku


def run_queued_tasks() -> int:
    """Run what the inbox enqueued, the way a django-q2 worker would: load each signed package, call its function
    with its arguments, delete the row. Returns how many ran."""
    from importlib import import_module

    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    ran = 0
    for row in OrmQ.objects.order_by("id"):
        task = SignedPackage.loads(row.payload)
        module, name = task["func"].rsplit(".", 1)
        getattr(import_module(module), name)(*task["args"], **task.get("kwargs", {}))
        row.delete()
        ran += 1
    return ran
