"""Seed 001 "Access control": administrators set credentials through the console, write-only; a stored secret is
never shown back (canary), and a finance or operations user cannot set one."""

import pytest
from cryptography.fernet import Fernet

from integrations.services import connection_create, connection_set_credentials

pytestmark = pytest.mark.django_db

CANARY = "canary-secret-7f3a9c"


@pytest.fixture
def connection(brand, settings):
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]
    conn = connection_create(brand=brand, platform="shopify", name="Acme shop", shop="acme.myshopify.com", actor=None)
    return connection_set_credentials(connection=conn, credentials={"access_token": CANARY}, actor=None)


def _form(conn, **overrides):
    data = {
        "brand": conn.brand_id,
        "platform": conn.platform,
        "name": conn.name,
        "shop": conn.shop,
        "api_base_url": "",
        "scopes": "[]",
        "reconcile_every_minutes": 10,
        "fallback_reconcile_every_minutes": 2,
        "reconcile_overlap_minutes": 5,
        "silent_after_minutes": 30,
        "field_mapping": "{}",
        "status_mapping": "{}",
        "new_credentials": "",
        "new_signing_secret": "",
    }
    data.update(overrides)
    return data


def test_the_console_never_shows_a_stored_secret(client, make_user, connection):
    client.force_login(make_user("administrator"))
    page = client.get(f"/admin/integrations/connection/{connection.pk}/change/")
    assert page.status_code == 200
    assert CANARY not in page.content.decode()
    assert connection.credentials_fingerprint in page.content.decode()
    history = client.get(f"/admin/integrations/connection/{connection.pk}/history/")
    assert CANARY not in history.content.decode()


def test_an_administrator_rotates_credentials_write_only(client, make_user, connection):
    client.force_login(make_user("administrator"))
    before = connection.credentials_fingerprint
    response = client.post(
        f"/admin/integrations/connection/{connection.pk}/change/",
        _form(connection, new_credentials='{"access_token": "new-token-1"}'),
    )
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.credentials_get() == {"access_token": "new-token-1"}
    assert connection.credentials_fingerprint != before


def test_a_blank_secret_field_keeps_the_stored_one(client, make_user, connection):
    client.force_login(make_user("administrator"))
    client.post(f"/admin/integrations/connection/{connection.pk}/change/", _form(connection, name="Renamed"))
    connection.refresh_from_db()
    assert connection.name == "Renamed" and connection.credentials_get() == {"access_token": CANARY}


@pytest.mark.parametrize("role", ["operations", "finance"])
def test_view_only_roles_cannot_change_a_connection(client, make_user, connection, role):
    client.force_login(make_user(role))
    response = client.post(
        f"/admin/integrations/connection/{connection.pk}/change/",
        _form(connection, new_credentials='{"access_token": "x"}'),
    )
    assert response.status_code == 403
    connection.refresh_from_db()
    assert connection.credentials_get() == {"access_token": CANARY}
