"""Issue 13 "Connections": the API base URL must be one of the platform's own hosts (loopback only in the development
profile, for the simulators), and a new base URL or shop needs the credentials entered again. A probe listener on
loopback plays the foreign host: in the production profile nothing ever reaches it."""

import http.server
import threading

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from integrations.connections import ApiHostRefused, client_for
from integrations.models import Connection
from integrations.outbox.models import MessageKind, MessageState
from integrations.outbox.services import outbound_enqueue, outbox_drain
from integrations.reconciler import reconcile_connection
from integrations.services import connection_create, connection_set_credentials
from tests.console.test_connection_secrets import _form

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(brand, settings):
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]
    conn = connection_create(brand=brand, platform="shopify", name="Acme shop", shop="acme.myshopify.com", actor=None)
    return connection_set_credentials(connection=conn, credentials={"access_token": "tok-1"}, actor=None)


@pytest.fixture
def probe():
    """A tiny HTTP listener on a loopback port; `probe.hits` lists every request it received."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _any(self) -> None:
            hits.append(f"{self.command} {self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"orders": []}')

        do_GET = do_POST = do_PUT = _any

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.hits = hits
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def _post(client, connection, **overrides):
    return client.post(f"/admin/integrations/connection/{connection.pk}/change/", _form(connection, **overrides))


def test_a_foreign_host_is_refused_naming_the_allowed_hosts_and_nothing_is_saved(client, make_user, connection):
    client.force_login(make_user("administrator"))
    before = connection.credentials_fingerprint
    response = _post(
        client, connection, api_base_url="https://evil.example.com", new_credentials='{"access_token": "tok-2"}'
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "*.myshopify.com" in str(errors["api_base_url"])
    connection.refresh_from_db()
    assert connection.api_base_url == "" and connection.credentials_fingerprint == before


def test_a_new_base_url_or_shop_needs_the_credentials_again(client, make_user, connection):
    client.force_login(make_user("administrator"))
    response = _post(client, connection, shop="other.myshopify.com")
    assert response.status_code == 200
    assert "enter them again" in str(response.context["adminform"].form.errors["new_credentials"])
    connection.refresh_from_db()
    assert connection.shop == "acme.myshopify.com"
    response = _post(client, connection, shop="other.myshopify.com", new_credentials='{"access_token": "tok-3"}')
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.shop == "other.myshopify.com"


def test_loopback_is_allowed_in_development_for_the_simulators(client, make_user, connection, probe):
    client.force_login(make_user("administrator"))
    response = _post(client, connection, api_base_url=probe.url, new_credentials='{"access_token": "tok-4"}')
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.api_base_url == probe.url
    reconcile_connection(connection=connection)
    assert probe.hits  # the probe hears a pull: its silence in production below means something


@override_settings(PRODUCTION=True)
def test_in_production_nothing_is_ever_sent_to_loopback(client, make_user, connection, probe):
    client.force_login(make_user("administrator"))
    response = _post(client, connection, api_base_url=probe.url, new_credentials='{"access_token": "tok-5"}')
    assert response.status_code == 200
    assert "development profile" in str(response.context["adminform"].form.errors["api_base_url"])
    connection.refresh_from_db()
    assert connection.api_base_url == ""
    # A row that got there another way (an old row, a shell) still sends nothing: the client refuses at send time.
    Connection.objects.filter(pk=connection.pk).update(api_base_url=probe.url)
    connection.refresh_from_db()
    with pytest.raises(ApiHostRefused):
        client_for(connection)
    run = reconcile_connection(connection=connection)
    assert run.outcome == "failed"
    message = outbound_enqueue(
        connection=connection, kind=MessageKind.FULFILMENT, payload={"order_id": "1001", "tracking_number": "T1"}
    )
    outbox_drain(connection_id=connection.pk)
    message.refresh_from_db()
    assert message.state != MessageState.SENT
    assert "payload lacks" not in message.last_error  # it was refused for its host, not for its payload
    assert probe.hits == []
