"""Signature vectors, good and bad, for every registered connector: through `Connector.signature_valid` over the raw
bytes, and through the inbox's HTTP endpoint (a bad one is 401, audited, and nothing is stored or queued).

The simulator signs deliveries as its platform does (`signed_delivery`); a vector is that delivery with its signature
header(s) (`Connector.signature_headers`) missing or replaced."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

import pytest
from django.utils import timezone

from integrations import metrics
from integrations.connection_cache import connection_cache_clear
from integrations.models import AuditRecord, Connection, InboundDelivery
from integrations.services import connection_set_signing_secret
from tests.integrations.conformance.conftest import SIGNING_SECRET, post_delivery

pytestmark = pytest.mark.django_db

ROTATED = "conformance-rotated-secret-0002"


def order_delivery(sim, *, secret: str = SIGNING_SECRET, body: bytes | None = None):
    """A signed order-created delivery as the platform sends it: (body, headers)."""
    order = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]}, deliver=False)
    return sim.signed_delivery(sim.topic("create"), order, secret=secret, body=body)


def with_signature(connector, headers, value: str | None) -> dict[str, str]:
    """The headers with every signature header replaced by `value` (None: removed)."""
    names = {k for k in headers if k.lower() in connector.signature_headers}
    assert names, "the simulator's delivery carries the connector's signature header"
    kept = {k: v for k, v in headers.items() if k not in names}
    return kept if value is None else {**kept, **dict.fromkeys(names, value)}


def signature_of(connector, headers) -> str:
    (value,) = [v for k, v in headers.items() if k.lower() in connector.signature_headers]
    return value


def as_hex(signature: str) -> str:
    """The same digest written in hex instead of base64 (a common integration mistake)."""
    try:
        return base64.b64decode(signature, validate=True).hex()
    except (binascii.Error, ValueError):
        return signature.encode().hex()


BAD_VECTORS = ["missing", "wrong", "hex", "non-ascii", "latin-1", "empty", "10KB", "reserialised"]


def bad_vector(connector, sim, vector: str) -> tuple[bytes, dict[str, str]]:
    body, headers = order_delivery(sim)
    if vector == "missing":
        return body, with_signature(connector, headers, None)
    if vector == "wrong":
        _, other = order_delivery(sim, secret="not-the-secret", body=body)
        return body, other
    if vector == "hex":
        return body, with_signature(connector, headers, as_hex(signature_of(connector, headers)))
    if vector == "non-ascii":
        return body, with_signature(connector, headers, "sïgnätüre☃==")
    if vector == "latin-1":
        return body, with_signature(connector, headers, "é" * 44)
    if vector == "empty":
        return body, with_signature(connector, headers, "")
    if vector == "10KB":
        return body, with_signature(connector, headers, "A" * 10_240)
    assert vector == "reserialised"
    # The same data in other bytes (keys sorted, spaces): signed as sent, then re-serialised on the way.
    reserialised = json.dumps(json.loads(body), sort_keys=True, indent=1).encode()
    assert reserialised != body and json.loads(reserialised) == json.loads(body)
    return reserialised, headers


def test_a_delivery_signed_as_the_platform_signs_is_valid(connector, platform_sim):
    body, headers = order_delivery(platform_sim)

    assert connector.signature_valid(body=body, headers=headers, secrets=[SIGNING_SECRET])
    assert connector.signature_valid(body=body, headers=headers, secrets=["an-older-secret", SIGNING_SECRET])
    assert not connector.signature_valid(body=body, headers=headers, secrets=[])
    assert not connector.signature_valid(body=body, headers=headers, secrets=["not-the-secret"])
    assert not connector.is_handshake(body=body, headers=headers)


@pytest.mark.parametrize("vector", BAD_VECTORS)
def test_a_bad_signature_is_invalid(connector, platform_sim, vector):
    body, headers = bad_vector(connector, platform_sim, vector)

    assert not connector.signature_valid(body=body, headers=headers, secrets=[SIGNING_SECRET])


def test_every_bad_signature_gets_401_through_the_inbox_is_audited_and_nothing_is_stored(
    connector, platform_sim, connection
):
    from django_q.models import OrmQ

    for vector in BAD_VECTORS:
        body, headers = bad_vector(connector, platform_sim, vector)
        response = post_delivery(connection, body, headers)
        assert response.status_code == 401, vector

    assert not InboundDelivery.objects.exists()
    assert not OrmQ.objects.exists()
    rows = AuditRecord.objects.filter(connection=connection)
    assert [(r.outcome, r.status_code) for r in rows] == [("hmac_failed", 401)] * len(BAD_VECTORS)
    assert metrics.hmac_failures(connection) == len(BAD_VECTORS)
    stored = repr([(r.headers, r.body) for r in rows])
    assert SIGNING_SECRET not in stored
    assert not any(name in {k.lower() for r in rows for k in r.headers} for name in connector.signature_headers)


def test_a_good_delivery_through_the_inbox_is_stored_once_without_its_signature(connector, platform_sim, connection):
    body, headers = order_delivery(platform_sim)

    assert post_delivery(connection, body, headers).status_code == 200
    assert post_delivery(connection, body, headers).status_code == 200  # the platform's retry: a duplicate

    delivery = InboundDelivery.objects.get(connection=connection)
    assert bytes(delivery.body) == body
    assert delivery.delivery_id == connector.delivery_meta(headers, body).delivery_id != ""
    assert connector.is_order_topic(delivery.topic)
    assert not {k.lower() for k in delivery.headers} & connector.signature_headers


def test_the_previous_secret_is_accepted_inside_its_rotation_window_and_refused_after_it(
    connector, platform_sim, connection
):
    connection_set_signing_secret(connection=connection, secret=ROTATED, window=dt.timedelta(hours=1), actor=None)
    old_body, old_headers = order_delivery(platform_sim, secret=SIGNING_SECRET)
    new_body, new_headers = order_delivery(platform_sim, secret=ROTATED)

    # Inside the window: deliveries signed before the platform switched over, and after.
    connection.refresh_from_db()
    assert connector.signature_valid(body=old_body, headers=old_headers, secrets=connection.signing_secrets_valid())
    assert post_delivery(connection, old_body, old_headers).status_code == 200
    assert post_delivery(connection, new_body, new_headers).status_code == 200

    # Past the window the old secret is refused, whatever the delivery.
    Connection.objects.filter(pk=connection.pk).update(previous_valid_until=timezone.now() - dt.timedelta(seconds=1))
    connection_cache_clear()  # a direct UPDATE bypasses the services that drop the inbox's cached copy
    connection.refresh_from_db()
    late_body, late_headers = order_delivery(platform_sim, secret=SIGNING_SECRET)
    assert connection.signing_secrets_valid() == [ROTATED]
    assert not connector.signature_valid(body=late_body, headers=late_headers, secrets=[ROTATED])
    assert post_delivery(connection, late_body, late_headers).status_code == 401
    assert InboundDelivery.objects.filter(connection=connection).count() == 2
