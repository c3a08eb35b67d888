"""The load balancers' probes (issue 11, item 5): `/healthz` is liveness and never asks the database; `/readyz` names
each check (database, broker, worker heartbeat, vault keys) and answers 503 while one fails. A real worker's heartbeat
and the database down are driven end to end in tests/test_serve.py; here each check is made to fail on its own."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.fernet import Fernet
from django.utils import timezone
from django_q.models import Success

from integrations.vault import _multifernet
from tests.integrations.factories import ConnectionFactory
from warehouse.health import HEARTBEAT_FUNC, worker_heartbeat
from warehouse.schedules import SCHEDULES

pytestmark = pytest.mark.django_db


def _heartbeat(age: dt.timedelta) -> None:
    """What django-q2 records when a worker ran the scheduled heartbeat task `age` ago."""
    stopped = timezone.now() - age
    Success.objects.create(
        id="heartbeat" + str(age.total_seconds()).replace(".", ""), name="heartbeat", func=HEARTBEAT_FUNC,
        started=stopped, stopped=stopped, success=True, result=worker_heartbeat(),
    )  # fmt: skip


def test_liveness_answers_without_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readiness_needs_a_recent_worker_heartbeat(client):
    assert any(s["func"] == HEARTBEAT_FUNC and s["minutes"] == 1 for s in SCHEDULES), "sync_schedules applies it"
    response = client.get("/readyz")
    assert response.status_code == 503 and response["Retry-After"]
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["worker"]["ok"] is False and "qcluster" in body["checks"]["worker"]["error"]
    assert all(body["checks"][name]["ok"] for name in ("database", "broker", "vault"))

    _heartbeat(dt.timedelta(minutes=10))
    assert client.get("/readyz").status_code == 503, "a stale heartbeat: the worker stopped"

    _heartbeat(dt.timedelta(seconds=20))
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ready" and response.json()["checks"]["worker"]["age_seconds"] < 60


def test_readiness_fails_when_the_vault_keys_cannot_open_a_stored_secret(client, settings):
    _heartbeat(dt.timedelta(seconds=5))
    sealing = Fernet.generate_key().decode()
    settings.CREDENTIAL_KEYS = [sealing]
    ConnectionFactory(secrets={"signing_secret": "whsec-readiness-canary"})
    assert client.get("/readyz").status_code == 200

    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]  # the sealing key was dropped
    _multifernet.cache_clear()
    response = client.get("/readyz")
    assert response.status_code == 503
    vault = response.json()["checks"]["vault"]
    assert vault["ok"] is False and "do not open" in vault["error"]
    assert sealing not in response.content.decode() and "whsec-readiness-canary" not in response.content.decode()

    settings.PRODUCTION = True
    settings.CREDENTIAL_KEYS = []
    response = client.get("/readyz")
    assert response.status_code == 503 and "CREDENTIAL_KEYS is empty" in response.json()["checks"]["vault"]["error"]
