"""A canary secret set on a connection appears nowhere: logs, history, audit rows, deliveries, exceptions, pages."""

import logging

import pytest
from cryptography.fernet import Fernet
from django.contrib import admin
from django.db import connection as db
from django.urls import NoReverseMatch, reverse

from integrations.audit import audit_record
from integrations.models import AuditRecord, Connection, InboundDelivery
from integrations.services import connection_set_credentials, connection_set_signing_secret
from integrations.vault import CredentialKeyError
from tests.factories import UserFactory
from tests.integrations.conftest import dumps, shopify_headers, shopify_order
from warehouse.models import ExceptionItem

pytestmark = pytest.mark.django_db

CANARY = "canary-7f3a9c1e-do-not-leak"
CANARY_TOKEN = "shpat_canary_token_5b2d"


def _all_rows_text(model):
    return " ".join(str(row) for row in model.objects.values())


def test_a_canary_secret_appears_nowhere(client, shopify_connection, caplog, settings):
    caplog.set_level(logging.DEBUG)
    connection_set_signing_secret(connection=shopify_connection, secret=CANARY, window=None, actor=None)
    connection_set_credentials(connection=shopify_connection, credentials={"access_token": CANARY_TOKEN}, actor=None)
    connection_set_signing_secret(connection=shopify_connection, secret=CANARY + "-2", actor=None)  # rotation

    url = f"/webhooks/shopify/{shopify_connection.pk}/"
    body = dumps(shopify_order())
    good = shopify_headers(body, secret=CANARY)  # previous secret, inside its window
    responses = [
        client.post(url, data=body, content_type="application/json", headers=good),
        client.post(url, data=body, content_type="application/json", headers={**good, "X-Shopify-Hmac-Sha256": CANARY}),
        client.post(
            url,
            data=b"\xff" + CANARY.encode(),
            content_type="application/json",
            headers=shopify_headers(b"\xff" + CANARY.encode(), secret=CANARY, webhook_id="wh-q"),
        ),
    ]
    assert [r.status_code for r in responses] == [200, 401, 200]
    audit_record(
        connection=shopify_connection,
        direction="outbound",
        method="POST",
        endpoint=f"https://x.example/orders.json?access_token={CANARY_TOKEN}",
        outcome="http_error",
        status=401,
        body={"echo": f"token {CANARY_TOKEN} and {CANARY}"},
        headers={"X-Shopify-Access-Token": CANARY_TOKEN},
        detail=f"server said {CANARY_TOKEN}",
    )

    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]
    fresh = Connection.objects.get(pk=shopify_connection.pk)
    with pytest.raises(CredentialKeyError) as caught:
        fresh.credentials_get()
    settings.CREDENTIAL_KEYS = []

    leaks = {
        "logs": caplog.text,
        "responses": " ".join(r.content.decode(errors="replace") for r in responses),
        "history": _all_rows_text(Connection.history.model),
        "audit": _all_rows_text(AuditRecord),
        "delivery headers": str(list(InboundDelivery.objects.values_list("headers", "outcome"))),
        "exceptions": _all_rows_text(ExceptionItem),
        "exception message": f"{caught.value!s} {caught.value!r}",
        "str/repr": f"{fresh} {fresh!r} {fresh.signing_secret} {fresh.credentials!r} {vars(fresh)}",
    }
    with db.cursor() as cur:
        cur.execute("SELECT credentials, signing_secret, previous_signing_secret FROM integrations_connection")
        leaks["raw columns"] = str(cur.fetchall())
    for where, text in leaks.items():
        assert CANARY not in text, where
        assert CANARY_TOKEN not in text, where


def test_admin_pages_of_connections_do_not_show_secrets(client, shopify_connection):
    connection_set_signing_secret(connection=shopify_connection, secret=CANARY, window=None, actor=None)
    connection_set_credentials(connection=shopify_connection, credentials={"access_token": CANARY_TOKEN}, actor=None)
    audit_record(connection=shopify_connection, direction="outbound", endpoint="/x", outcome="ok", body={"t": CANARY})
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    pages = []
    for model in (m for m in admin.site._registry if m._meta.app_label == "integrations"):
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        for suffix, args in (("changelist", []), ("change", None), ("history", None)):
            obj = model.objects.first()
            if args is None and obj is None:
                continue
            try:
                path = reverse(f"{name}_{suffix}", args=args if args is not None else [obj.pk] if obj else [0])
            except NoReverseMatch:
                continue
            pages.append(client.get(path))
    assert Connection in admin.site._registry, "connections must have an admin page for this check to mean anything"
    assert pages and all(r.status_code == 200 for r in pages), [r.status_code for r in pages]
    for response in pages:
        text = response.content.decode()
        assert CANARY not in text and CANARY_TOKEN not in text
