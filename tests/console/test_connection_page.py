"""Issue 13 "Connections": the connection's page says what to paste into the platform (the absolute webhook URL,
with a Copy button) and the topics the platform must send."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.connection_status import FAILING_AFTER, connection_health, error_in_words
from integrations.models import InboundDelivery, ReconcileRun
from integrations.outbox.models import ConnectionCircuit
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


def _run(connection, outcome, error="", minutes_ago=0):
    at = timezone.now() - dt.timedelta(minutes=minutes_ago)
    return ReconcileRun.objects.create(
        connection=connection, started_at=at, finished_at=at, outcome=outcome, error=error, pulled=4
    )


def test_a_fresh_connection_reads_active_with_nothing_yet(client, make_user, connection):
    client.force_login(make_user("administrator"))
    page = client.get(f"/admin/integrations/connection/{connection.pk}/change/").content.decode()
    assert "Status: Active" in page
    assert "Last delivery received: none yet" in page
    assert "Last successful pull: none yet" in page


def test_the_page_says_the_last_delivery_pull_and_error_in_words(client, make_user, connection):
    InboundDelivery.objects.create(connection=connection, delivery_id="d-1", topic="orders/create", body=b"{}")
    _run(connection, "ok", minutes_ago=10)
    _run(connection, "failed", error="pull failed: _NotSent", minutes_ago=1)
    client.force_login(make_user("administrator"))
    page = client.get(f"/admin/integrations/connection/{connection.pk}/change/").content.decode()
    assert "orders/create" in page.split('id="last-delivery"')[1].split("</li>")[0]
    assert "4 orders pulled" in page
    last_error = page.split('id="last-error"')[1].split("</li>")[0]
    assert "could not be reached" in last_error
    assert "_NotSent" not in page
    assert "Status: Active" in page  # one failure is not failing


def test_an_unknown_exception_name_becomes_words_too():
    assert error_in_words("pull failed: KeyError (HTTP 500)") == "The pull failed: an unexpected error (HTTP 500)."
    words = error_in_words("died while replaying: ValueError at reconciler.py:12 (_replay)")
    assert "ValueError" not in words and "reconciler.py" not in words


def test_active_turns_failing_after_n_failed_pulls_and_back(client, make_user, connection):
    for i in range(FAILING_AFTER - 1):
        _run(connection, "failed", error="pull failed: RateLimited (HTTP 429)", minutes_ago=10 - i)
    assert connection_health(connection).status == "Active"
    _run(connection, "failed", error="pull failed: RateLimited (HTTP 429)", minutes_ago=1)
    assert connection_health(connection).status == "Failing"
    client.force_login(make_user("administrator"))
    listing = client.get("/admin/integrations/connection/").content.decode()
    assert "Failing" in listing
    page = client.get(f"/admin/integrations/connection/{connection.pk}/change/").content.decode()
    assert "Status: Failing" in page and f"the last {FAILING_AFTER} pulls failed" in page
    _run(connection, "ok", minutes_ago=0)
    assert connection_health(connection).status == "Active"


def test_consecutive_failed_writes_turn_it_failing(connection):
    ConnectionCircuit.objects.create(
        connection=connection, consecutive_failures=FAILING_AFTER, last_error="POST https://x/: connection failed"
    )
    health = connection_health(connection)
    assert health.status == "Failing"
    assert health.last_error.words.startswith("A write to the platform failed: ")
