"""The webhook inbox against reliability.md's bad-input table, through the real test client with real HMAC. Signature
vectors, rotation windows and a good delivery stored once are tested for every platform by the conformance suite
(tests/integrations/conformance/test_signatures.py)."""

import pytest
from django.db import connection as db

from integrations import metrics
from integrations.models import AuditRecord, DeliveryState, InboundDelivery
from tests.integrations.conftest import (
    dumps,
    shopify_headers,
    shopify_order,
)
from warehouse.models import ExceptionItem, ExceptionKind

pytestmark = pytest.mark.django_db


def url(conn):
    return f"/webhooks/{conn.platform}/{conn.pk}/"


def post(client, conn, body: bytes, headers, content_type="application/json"):
    return client.post(url(conn), data=body, content_type=content_type, headers=headers)


BODY = dumps(shopify_order())


def test_a_duplicate_delivery_answers_200_and_changes_nothing(client, shopify_connection):
    assert post(client, shopify_connection, BODY, shopify_headers(BODY)).status_code == 200
    before = list(InboundDelivery.objects.values())
    response = post(client, shopify_connection, BODY, shopify_headers(BODY))
    assert response.status_code == 200 and response.json()["status"] == "duplicate"
    assert list(InboundDelivery.objects.values()) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param(b'{"id": 1, "line_items": [', "invalid_json", id="invalid-json"),
        pytest.param(b'{"id": 1, "note": "\xff\xfe"}', "invalid_utf8", id="invalid-utf8"),
        pytest.param(b'{"id": 1, "note": "a\\u0000b"}', "nul_character", id="escaped-nul"),
        pytest.param(b'{"id": 1, "note": "a\x00b"}', "nul_character", id="raw-nul"),
        pytest.param(b"[" * 10_000 + b"]" * 10_000, "too_deep", id="10k-deep"),
        pytest.param(b'["not", "an", "object"]', "not_an_object", id="array"),
    ],
)
def test_a_verified_but_unreadable_body_is_kept_raw_and_quarantined_with_200(client, shopify_connection, body, code):
    response = post(client, shopify_connection, body, shopify_headers(body))
    assert response.status_code == 200
    delivery = InboundDelivery.objects.get()
    assert delivery.state == DeliveryState.QUARANTINED
    assert bytes(delivery.body) == body
    item = ExceptionItem.objects.get(kind=ExceptionKind.WEBHOOK_QUARANTINE)
    assert item.reasons[0]["code"] == code and item.brand == shopify_connection.brand


def test_an_oversize_body_gets_413_and_is_not_stored(client, shopify_connection):
    body = b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = post(client, shopify_connection, body, shopify_headers(body))
    assert response.status_code == 413
    assert not InboundDelivery.objects.exists()


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_on_a_webhook_url_get_405(client, shopify_connection, method):
    response = getattr(client, method)(url(shopify_connection))
    assert response.status_code == 405
    assert not InboundDelivery.objects.exists()


def test_an_unknown_topic_is_stored_counted_and_ignored(client, shopify_connection):
    body = dumps({"id": 5, "title": "a product"})
    response = post(client, shopify_connection, body, shopify_headers(body, topic="products/update"))
    assert response.status_code == 200
    delivery = InboundDelivery.objects.get()
    assert delivery.state == DeliveryState.IGNORED
    assert metrics.unknown_topic_count(shopify_connection) == 1


def test_woocommerce_creation_ping_gets_200_and_nothing_is_processed(client, woo_connection):
    response = client.post(url(woo_connection), data="webhook_id=15", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert not InboundDelivery.objects.exists()
    assert AuditRecord.objects.get(connection=woo_connection).outcome == "ping"


def test_a_woocommerce_form_body_with_a_signature_is_not_a_ping(client, woo_connection):
    body = b"webhook_id=15"
    headers = {"X-WC-Webhook-Signature": "bm90LXZhbGlk"}
    response = post(client, woo_connection, body, headers, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 401


def test_unknown_connection_or_platform_mismatch_gets_404(client, shopify_connection, woo_connection):
    assert (
        client.post(
            f"/webhooks/shopify/{woo_connection.pk}/",
            data=BODY,
            content_type="application/json",
            headers=shopify_headers(BODY),
        ).status_code
        == 404
    )
    assert client.post("/webhooks/nosuch/1/", data=BODY, content_type="application/json").status_code == 404


@pytest.mark.postgresql
def test_a_database_error_while_storing_answers_503(client, shopify_connection):
    with db.cursor() as cur:
        cur.execute(
            "CREATE FUNCTION test_refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END; $$ "
            "LANGUAGE plpgsql; CREATE TRIGGER refuse BEFORE INSERT ON integrations_inbounddelivery "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse();"
        )
    response = post(client, shopify_connection, BODY, shopify_headers(BODY))
    assert response.status_code == 503
    assert not InboundDelivery.objects.exists()


def test_a_verified_order_delivery_enqueues_one_processing_task_and_a_duplicate_none(client, shopify_connection):
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    assert post(client, shopify_connection, BODY, shopify_headers(BODY)).status_code == 200
    assert post(client, shopify_connection, BODY, shopify_headers(BODY)).status_code == 200
    (row,) = OrmQ.objects.all()
    task = SignedPackage.loads(row.payload)
    assert task["func"] in (
        "integrations.tasks.inbound_delivery_process_key",
        "integrations.tasks.inbound_delivery_process",
    )
    delivery = InboundDelivery.objects.get()
    if task["func"].endswith("_key"):
        assert tuple(task["args"]) == (shopify_connection.pk, delivery.delivery_id)
    else:
        assert tuple(task["args"]) == (delivery.pk,)


def test_an_unknown_topic_enqueues_nothing(client, shopify_connection):
    from django_q.models import OrmQ

    body = dumps({"id": 5})
    assert post(client, shopify_connection, body, shopify_headers(body, topic="products/update")).status_code == 200
    assert not OrmQ.objects.exists()
