"""The connector health board (issue 18, item 4): every connection with its numbers (from the one-minute rollups),
its open incidents, its dead-letter depth and its status in words, for staff; the same few queries whatever the
number of connections."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.alerts.incidents import incident_open
from integrations.alerts.models import AlertRule
from integrations.alerts.rules import rules_ensure_defaults
from integrations.metrics.rollups import metrics_rollup
from integrations.models import DeliveryState, InboundDelivery, ReconcileRun
from tests.conftest import grant
from tests.factories import UserFactory
from tests.integrations.factories import ConnectionFactory, WooConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = UserFactory()
    grant(user, "alerts.view_incident")
    client.force_login(user)
    return user


def traffic(shop, woo):
    now = timezone.now()
    for n in range(3):
        InboundDelivery.objects.create(connection=shop, delivery_id=f"hb-{n}", topic="orders/create", body=b"{}",
                                       received_at=now - dt.timedelta(minutes=2))  # fmt: skip
    InboundDelivery.objects.create(connection=woo, delivery_id="hb-dead", topic="order.created", body=b"{}",
                                   state=DeliveryState.DEAD_LETTER)  # fmt: skip
    for n in range(3):
        ReconcileRun.objects.create(connection=woo, outcome="failed", error="pull failed: ReadTimeout",
                                    started_at=now - dt.timedelta(minutes=n), finished_at=now)  # fmt: skip
    metrics_rollup(now=now)


def test_the_board_shows_each_connections_numbers_incidents_dead_letters_and_status_in_words(client, staff, brand):
    shop, woo = ConnectionFactory(brand=brand, name="Acme store"), WooConnectionFactory(brand=brand, name="Acme woo")
    traffic(shop, woo)
    rules_ensure_defaults()
    incident, _ = incident_open(rule=AlertRule.objects.get(code="credentials-refused"), connection=shop, value=1.0,
                                now=timezone.now())  # fmt: skip

    page = client.get("/health/").content.decode()
    shop_row = page.split(f'data-connection="{shop.pk}"')[1].split("</tr>")[0]
    woo_row = page.split(f'data-connection="{woo.pk}"')[1].split("</tr>")[0]
    assert "Acme store" in shop_row and "3 / 3" in shop_row  # webhooks in the last 5 minutes / hour
    assert f'href="/incidents/{incident.pk}/"' in shop_row and "Platform refused our credentials" in shop_row
    assert "Failing" in woo_row and "The last 3 pulls failed." in woo_row
    assert "1 / 0" in woo_row  # one inbound dead letter, no outbound
    assert "none" in woo_row  # no open incident
    assert "1 incident open" in page


@pytest.mark.parametrize("connections", [3, 30])
def test_the_board_costs_at_most_12_queries_whatever_the_number_of_connections(
    client, staff, brand, connections, django_assert_max_num_queries
):
    rules_ensure_defaults()
    rule = AlertRule.objects.get(code="credentials-refused")
    for _ in range(connections):
        shop = ConnectionFactory(brand=brand)
        incident_open(rule=rule, connection=shop, value=1.0, now=timezone.now())
        ReconcileRun.objects.create(connection=shop, outcome="ok")
    metrics_rollup()
    with django_assert_max_num_queries(12):
        response = client.get("/health/")
    assert response.status_code == 200 and response.content.decode().count("data-connection=") == connections


def test_the_board_is_for_staff_who_may_see_incidents(client, brand):
    client.force_login(UserFactory())
    assert client.get("/health/").status_code == 403
