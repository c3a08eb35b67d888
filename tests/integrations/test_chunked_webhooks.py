"""A webhook sent with `Transfer-Encoding: chunked` (no Content-Length) is read whole and its signature checked, through
gunicorn, the server production runs (Django's development server drops chunked bodies before the application)."""

import pytest
import requests

from integrations.models import AuditRecord, DeliveryState, InboundDelivery
from tests.gunicorn import gunicorn_url  # noqa: F401
from tests.integrations.conftest import dumps, shopify_headers, shopify_order

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def chunks(body: bytes, size: int = 100):
    """A generator body: requests sends it chunked, with no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_chunked_webhook_is_read_whole_verified_and_stored(gunicorn_url, shopify_connection):  # noqa: F811
    body = dumps(shopify_order(2001))
    url = f"{gunicorn_url}/webhooks/shopify/{shopify_connection.pk}/"
    headers = {**shopify_headers(body), "Content-Type": "application/json"}
    response = requests.post(url, data=chunks(body), headers=headers)
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.request.headers
    assert (response.status_code, response.json()) == (200, {"status": "accepted"})
    delivery = InboundDelivery.objects.get(connection=shopify_connection)
    assert bytes(delivery.body) == body and delivery.state == DeliveryState.RECEIVED


def test_a_chunked_webhook_with_a_wrong_signature_is_refused(gunicorn_url, shopify_connection):  # noqa: F811
    body = dumps(shopify_order(2002))
    headers = {**shopify_headers(dumps(shopify_order(9999))), "Content-Type": "application/json"}
    url = f"{gunicorn_url}/webhooks/shopify/{shopify_connection.pk}/"
    response = requests.post(url, data=chunks(body), headers=headers)
    assert (response.status_code, response.json()) == (401, {"status": "hmac_failed"})
    assert not InboundDelivery.objects.exists()
    assert AuditRecord.objects.get(connection=shopify_connection).outcome == "hmac_failed"


def test_a_chunked_body_past_the_limit_is_413_with_a_json_body(gunicorn_url, shopify_connection):  # noqa: F811
    body = b'{"padding": "' + b"x" * 3_000_000 + b'"}'
    url = f"{gunicorn_url}/webhooks/shopify/{shopify_connection.pk}/"
    response = requests.post(url, data=chunks(body, 65536), headers=shopify_headers(body))
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]
    assert not InboundDelivery.objects.exists()
