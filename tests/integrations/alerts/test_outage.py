"""Platform outage (seed 000 §09): the simulator drops its webhooks, so the ingest rate falls more than half against
its trailing hour. The hub runs under the live server and the simulator delivers to it over HTTP; one incident opens
with the outage runbook, the connection switches to polling, the brand sees a banner, the on-call is told once, and
when webhooks flow again the incident closes itself."""

import pytest

from integrations.alerts.models import EntryKind, Incident
from integrations.models import ConnectionStatus, InboundDelivery
from integrations.platforms.shopify.simulator import ShopifySimulator
from tests.factories import UserFactory
from tests.integrations.alerts.conftest import ONCALL_EMAIL, reconcile
from tests.integrations.conftest import run_queued_tasks
from tests.integrations.factories import ConnectionFactory
from warehouse.models import ExceptionState
from warehouse.roles import brand_member_add

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]

SECRET = "shpss_outage_signing_secret"


@pytest.fixture
def wired(live_server, brand):
    with ShopifySimulator.running(secret=SECRET, access_token="shpat_outage") as sim:
        connection = ConnectionFactory(
            brand=brand, platform="shopify", api_base_url=sim.url,
            secrets={"signing_secret": SECRET, "credentials": {"access_token": "shpat_outage"}},
        )  # fmt: skip
        sim.hub_url = f"{live_server.url}/webhooks/shopify/{connection.pk}/"
        yield sim, connection


def test_dropped_webhooks_page_once_switch_to_polling_show_a_banner_and_close_when_webhooks_return(
    clock, paging, evaluate, wired, client
):
    smtp_inbox, oncall = paging
    sim, connection = wired
    for _ in range(12):  # an ordinary hour: a dozen orders, each told by webhook
        sim.upsert_order({})
    assert InboundDelivery.objects.filter(connection=connection).count() == 12
    run_queued_tasks()  # the worker ingests them
    clock.shift(minutes=4)
    assert reconcile(connection).missing == 0
    evaluate()
    assert not Incident.objects.exists()  # the orders of the last five minutes came by webhook

    sim.add_fault("drop", target="webhook", times=3)  # the platform's webhooks stop reaching us
    for _ in range(3):
        sim.upsert_order({})
    assert [w["note"] for w in sim.webhooks[-3:]] == ["dropped"] * 3
    clock.shift(minutes=2)
    evaluate()
    incident = Incident.objects.get()
    assert incident.rule.code == "ingest-rate-drop" and incident.runbook == "platform-outage"
    assert incident.exception.state == ExceptionState.OPEN
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.POLLING_FALLBACK
    assert incident.entries.filter(kind=EntryKind.RESPONSE, text__contains="switched to polling").exists()

    brand_user = UserFactory()
    brand_member_add(user=brand_user, brand=connection.brand)
    client.force_login(brand_user)
    page = client.get("/orders/").content.decode()
    assert incident.brand_summary in page and 'class="banner warn"' in page

    clock.shift(minutes=1)
    evaluate()
    assert [r[0] for r in smtp_inbox.recipients] == [ONCALL_EMAIL]
    assert [m["incident"] for m in oncall.received] == [incident.pk]

    for _ in range(4):  # the platform is back: webhooks arrive again
        sim.upsert_order({})
    evaluate()
    incident.refresh_from_db()
    assert incident.closed_at is not None and incident.close_reason.startswith("recovered")
    assert Incident.objects.count() == 1
    assert "banner" not in client.get("/orders/").content.decode()
