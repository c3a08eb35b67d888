"""Issue 13 "Connections": the connection's page says what to paste into the platform (the absolute webhook URL,
with a Copy button) and the topics the platform must send."""

import pytest

from integrations.platforms.registry import connector_for
from integrations.services import connection_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(brand):
    return connection_create(brand=brand, platform="shopify", name="Acme shop", shop="acme.myshopify.com", actor=None)


def test_the_page_shows_the_webhook_url_and_the_topics(client, make_user, connection):
    client.force_login(make_user("administrator"))
    page = client.get(f"/admin/integrations/connection/{connection.pk}/change/").content.decode()
    assert f'value="http://testserver/webhooks/shopify/{connection.pk}/"' in page
    assert 'id="copy-webhook-url"' in page
    topics = connector_for("shopify").webhook_topics
    assert topics
    for topic in topics:
        assert f"<code>{topic}</code>" in page
