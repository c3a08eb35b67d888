"""Issue 13: the connection's "Subscribe the webhooks" button (the list's action, for one connection) calls the
platform's webhook API through `client_for` and the connector's `register_webhooks`, against the platform's
simulator over real HTTP, and says in words what was subscribed, or why nothing was."""

from __future__ import annotations

import pytest

from integrations.models import Connection
from integrations.platforms.registry import connector_for
from integrations.services import connection_create, connection_set_credentials
from tests.integrations.factories import ConnectionFactory

pytestmark = pytest.mark.django_db

TOKEN = "shpat_subscribe_test_01"


@pytest.fixture
def sim():
    simulator = connector_for("shopify").simulator(credentials={"access_token": TOKEN}, hang_seconds=0.5).start()
    yield simulator
    simulator.stop()


def _connection(brand, sim, token=TOKEN):
    conn = connection_create(brand=brand, platform="shopify", name="Acme shop", shop=sim.shop, actor=None)
    Connection.objects.filter(pk=conn.pk).update(api_base_url=sim.url)
    return connection_set_credentials(connection=conn, credentials={"access_token": token}, actor=None)


def _subscribe(client, conn):
    return client.post(
        "/admin/integrations/connection/",
        {"action": "register_webhooks", "index": "0", "_selected_action": [str(conn.pk)], "_from_change_page": "1"},
        follow=True,
    )


def _messages(response):
    return [str(m) for m in response.context["messages"]]


def test_the_button_subscribes_every_topic_to_the_webhook_url_once(client, make_user, brand, sim):
    conn = _connection(brand, sim)
    client.force_login(make_user("administrator"))
    page = client.get(f"/admin/integrations/connection/{conn.pk}/change/").content.decode()
    assert 'id="register-webhooks-button"' in page and 'form="register-webhooks"' in page

    response = _subscribe(client, conn)
    address = f"http://testserver/webhooks/shopify/{conn.pk}/"
    assert response.redirect_chain[-1][0] == f"/admin/integrations/connection/{conn.pk}/change/"
    (said,) = _messages(response)
    assert said.startswith("Shopify — Acme shop: subscribed orders/create, orders/updated, orders/cancelled to ")
    assert address in said
    subscribed = sim.ledger()["subscriptions"]
    assert sorted(s["topic"] for s in subscribed) == sorted(connector_for("shopify").webhook_topics)
    assert {s["address"] for s in subscribed} == {address}

    _subscribe(client, conn)  # again: nothing doubled
    assert len(sim.ledger()["subscriptions"]) == len(subscribed)


def test_credentials_the_platform_refuses_are_said_in_words(client, make_user, brand, sim):
    conn = _connection(brand, sim, token="shpat_wrong")
    client.force_login(make_user("administrator"))
    (said,) = _messages(_subscribe(client, conn))
    assert "the subscription failed" in said and "the platform refused the credentials" in said.lower()
    assert "shpat_wrong" not in said and "AuthExpired" not in said
    assert sim.ledger()["subscriptions"] == []


def test_in_production_a_loopback_api_host_is_refused_before_anything_is_sent(client, make_user, brand, sim, settings):
    conn = _connection(brand, sim)
    settings.PRODUCTION = True
    client.force_login(make_user("administrator"))
    (said,) = _messages(_subscribe(client, conn))
    assert "nothing was sent, the API base URL is refused" in said and "development profile" in said
    assert sim.ledger()["requests"] == []


def test_roles_without_the_change_permission_are_not_offered_it(client, make_user, brand):
    conn = ConnectionFactory(brand=brand)
    client.force_login(make_user("operations"))
    page = client.get(f"/admin/integrations/connection/{conn.pk}/change/").content.decode()
    assert "register-webhooks" not in page
    response = _subscribe(client, conn)
    assert not any("subscribed" in m for m in _messages(response))
