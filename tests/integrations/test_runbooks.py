"""Runbook responses: credential expired (pause, keep queueing, resume on rotation), platform outage (polling
fallback: faster reconciler cadence, no retry storm), and bodies too large to allocate."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from integrations.ingest import delivery_process
from integrations.models import Connection, ConnectionStatus, DeliveryState, InboundDelivery, ReconcileRun
from integrations.reconciler import reconcile_connection, reconcile_due
from integrations.services import (
    connection_pause_for_credentials,
    connection_set_credentials,
)
from tests.integrations.conftest import dumps, shopify_headers, shopify_order
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = pytest.mark.django_db


class PlatformRefused(Exception):
    def __init__(self, status_code):
        super().__init__(f"HTTP {status_code}")
        self.status_code = status_code


def refusing(status_code):
    def pull(connection, since):
        raise PlatformRefused(status_code)

    return pull


def test_an_expired_credential_pauses_the_connection_and_rotation_resumes_it(shopify_connection, client):
    connection_pause_for_credentials(connection=shopify_connection, note="outbound 401 on fulfilment write")
    shopify_connection.refresh_from_db()
    assert shopify_connection.status == ConnectionStatus.PAUSED_CREDENTIALS
    item = ExceptionItem.objects.get(kind=ExceptionKind.CREDENTIAL_EXPIRED)
    assert item.state == ExceptionState.OPEN

    # Inbound events keep being accepted and stored while paused.
    body = dumps(shopify_order(77))
    response = client.post(
        f"/webhooks/shopify/{shopify_connection.pk}/",
        data=body,
        content_type="application/json",
        headers=shopify_headers(body),
    )
    assert response.status_code == 200 and InboundDelivery.objects.filter(state=DeliveryState.RECEIVED).count() == 1
    # The reconciler does not pull with refused credentials.
    assert shopify_connection.pk not in reconcile_due()

    connection_set_credentials(connection=shopify_connection, credentials={"access_token": "shpat-new"}, actor=None)
    shopify_connection.refresh_from_db()
    assert shopify_connection.status == ConnectionStatus.ACTIVE
    item.refresh_from_db()
    assert item.state == ExceptionState.RESOLVED
    assert shopify_connection.pk in reconcile_due()


def test_a_platform_outage_fails_the_run_without_a_retry_storm(shopify_connection):
    now = timezone.now()
    run = reconcile_connection(connection=shopify_connection, pull=refusing(503), now=now)
    assert run.outcome == "failed"
    shopify_connection.refresh_from_db()
    assert shopify_connection.status == ConnectionStatus.ACTIVE
    Connection.objects.filter(pk=shopify_connection.pk).update(last_reconciled_at=now)
    # Not due again until its cadence has passed: one pull per cadence, never a tight loop.
    assert shopify_connection.pk not in reconcile_due(now=now + dt.timedelta(minutes=5))
    assert shopify_connection.pk in reconcile_due(now=now + dt.timedelta(minutes=10))
    assert ReconcileRun.objects.count() == 1


def test_a_delivery_with_50k_lines_is_quarantined_not_allocated(shopify_connection):
    order = shopify_order(9)
    order["line_items"] = [{"id": n, "sku": "A", "quantity": 1} for n in range(50_000)]
    delivery = InboundDelivery.objects.create(
        connection=shopify_connection, delivery_id="big", topic="orders/create", body=json.dumps(order).encode()
    )
    assert delivery_process(delivery_id=delivery.pk) == DeliveryState.QUARANTINED
    assert ExceptionItem.objects.get(kind=ExceptionKind.WEBHOOK_QUARANTINE).reasons[0]["code"] == "too_many_lines"
