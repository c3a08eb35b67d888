"""Connector metrics as queryable numbers (seed 000 §07)."""

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from integrations import metrics
from integrations.models import InboundDelivery, ReconcileRun
from integrations.vault import seal
from tests.integrations.conftest import dumps, shopify_headers, shopify_order

pytestmark = pytest.mark.django_db


def test_ingest_success_hmac_failure_rate_and_receipt_lag_are_counted(client, shopify_connection):
    url = f"/webhooks/shopify/{shopify_connection.pk}/"
    body = dumps(shopify_order())
    for n in range(3):
        client.post(url, data=body, content_type="application/json", headers=shopify_headers(body, webhook_id=f"w{n}"))
    client.post(url, data=body, content_type="application/json", headers=shopify_headers(body, secret="wrong"))
    assert metrics.hmac_failures(shopify_connection) == 1
    assert metrics.hmac_failure_rate(shopify_connection) == pytest.approx(1 / 4)
    assert metrics.webhook_ingest_success(shopify_connection) == pytest.approx(3 / 4)
    assert metrics.webhook_ingest_rate(shopify_connection, dt.timedelta(minutes=60)) == {"orders/create": 3 / 60}
    triggered = timezone.now() - dt.timedelta(seconds=2)
    InboundDelivery.objects.update(triggered_at=triggered)
    lag = metrics.webhook_receipt_lag_ms(shopify_connection)
    assert lag["count"] == 3 and 1500 < lag["p50"] < 60_000


def test_reconciler_delta_sums_missing_and_stale_records(shopify_connection):
    ReconcileRun.objects.create(connection=shopify_connection, missing=2, stale=1, outcome="ok")
    ReconcileRun.objects.create(
        connection=shopify_connection, missing=5, outcome="ok", started_at=timezone.now() - dt.timedelta(hours=3)
    )
    assert metrics.reconciler_delta(shopify_connection) == 3
    snapshot = metrics.connection_metrics(shopify_connection)
    assert snapshot["reconciler_delta"] == 3 and snapshot["status"] == "active"


def test_production_without_credential_keys_refuses_to_seal(settings):
    settings.PRODUCTION = True
    settings.CREDENTIAL_KEYS = []
    with pytest.raises(ImproperlyConfigured):
        seal("anything")
