"""Each alert driven from its real signal against the platform simulators on loopback, on a fake clock (issue 18,
"Done when"): the failure opens exactly one incident naming its runbook, the first-hour response is written on its
timeline, the on-call is told once (one e-mail through a real SMTP server, one signed webhook to a real receiver),
and the incident closes itself when the signal recovers."""

from __future__ import annotations

import pytest

from integrations.alerts.models import EntryKind, Incident, Notification
from integrations.alerts.runbooks import RUNBOOKS
from integrations.models import ConnectionStatus
from integrations.outbox.models import MessageKind
from integrations.outbox.services import outbound_enqueue, outbox_drain
from integrations.reconciler import reconcile_connection
from integrations.services import connection_set_credentials
from tests.factories import UserFactory
from tests.integrations.alerts.conftest import ONCALL_EMAIL
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState
from warehouse.roles import brand_member_add

pytestmark = pytest.mark.django_db


def the_incident(code: str) -> Incident:
    """The one incident of the run, which must be the rule's."""
    incidents = list(Incident.objects.select_related("rule", "exception"))
    assert [i.rule.code for i in incidents] == [code]
    return incidents[0]


def assert_told_once(incident, smtp_inbox, oncall, *, also=()):
    """One e-mail to the on-call (plus `also`), one signed webhook naming the runbook; nothing more."""
    book = RUNBOOKS[incident.runbook]
    assert sorted(r[0] for r in smtp_inbox.recipients) == sorted([ONCALL_EMAIL, *also])
    assert all(f"https://hub.example{book.url}" in body for body in smtp_inbox.bodies())
    assert [m["incident"] for m in oncall.received] == [incident.pk]
    assert oncall.received[0]["runbook"] == f"https://hub.example{book.url}"
    assert oncall.refused == 0
    assert Notification.objects.filter(incident=incident, state="sent").count() == 2 + len(also)


def assert_opened_with_runbook(incident, runbook: str):
    assert incident.runbook == runbook and incident.closed_at is None
    assert incident.exception.kind == ExceptionKind.INCIDENT and incident.exception.state == ExceptionState.OPEN
    assert incident.exception.detail["runbook"] == RUNBOOKS[runbook].url
    assert incident.brand_summary  # plain words for the brand's SLO page and banner


def assert_closed(incident):
    incident.refresh_from_db()
    assert incident.closed_at is not None and incident.close_reason.startswith("recovered")
    assert ExceptionItem.objects.get(pk=incident.exception_id).state == ExceptionState.RESOLVED
    assert incident.entries.filter(kind=EntryKind.RECOVERED).count() == 1


def responses(incident) -> list[str]:
    return list(incident.entries.filter(kind=EntryKind.RESPONSE).values_list("text", flat=True))


# --- credential expired: an outbound 401 ------------------------------------------------------------------------


def test_a_401_on_a_write_pages_once_tells_the_brand_admin_and_closes_on_rotation(
    clock, paging, evaluate, shopify_sim, shop
):
    smtp_inbox, oncall = paging
    admin = UserFactory(email="owner@acme.example")
    brand_member_add(user=admin, brand=shop.brand)
    order = shopify_sim.upsert_order({})
    shopify_sim.add_fault("401", method="POST", path="fulfillments.json", times=5)
    outbound_enqueue(
        connection=shop, kind=MessageKind.FULFILMENT,
        payload={"order_id": str(order["id"]), "tracking_number": "1Z401", "carrier": "UPS"},
    )  # fmt: skip
    outbox_drain(connection_id=shop.pk)
    shop.refresh_from_db()
    assert shop.status == ConnectionStatus.PAUSED_CREDENTIALS

    evaluate()
    incident = the_incident("credentials-refused")
    assert_opened_with_runbook(incident, "credential-expired")
    assert any("brand administrators told" in text for text in responses(incident))
    clock.shift(minutes=3)
    evaluate()  # still refused: the same incident, nobody told again
    assert Incident.objects.count() == 1
    assert_told_once(incident, smtp_inbox, oncall, also=["owner@acme.example"])

    shopify_sim.accept_credentials({"access_token": "shpat_rotated"})
    connection_set_credentials(connection=shop, credentials={"access_token": "shpat_rotated"}, actor=None)
    clock.shift(minutes=1)
    evaluate()
    assert_closed(incident)
    assert Incident.objects.count() == 1


# --- rate-limit hit: a 429 storm ---------------------------------------------------------------------------------


def test_a_429_storm_pages_after_ten_minutes_below_20_percent_headroom_and_closes_when_it_recovers(
    clock, paging, evaluate, shopify_sim, shop
):
    smtp_inbox, oncall = paging
    shopify_sim.configure(bucket_size=10, leak_per_second=0.0001)  # the platform's budget, nearly spent
    for n in range(12):
        listing, location = shopify_sim.stock_target(f"SKU-{n}")
        outbound_enqueue(
            connection=shop, kind=MessageKind.INVENTORY,
            payload={"sku_id": n, "sku": f"SKU-{n}", "listing": listing, "location": location, "quantity": n},
        )  # fmt: skip
    outbox_drain(connection_id=shop.pk)
    shopify_sim.add_fault("429", times=50, retry_after=2.0)
    clock.shift(minutes=1)
    outbox_drain(connection_id=shop.pk)
    assert any(r["fault"] == "429" for r in shopify_sim.requests)

    evaluate()
    assert not Incident.objects.exists()  # below 20 %, but not yet for 10 minutes
    clock.shift(minutes=9, seconds=59)
    evaluate()
    assert not Incident.objects.exists()
    clock.shift(seconds=2)
    evaluate()
    incident = the_incident("headroom-low")
    assert_opened_with_runbook(incident, "rate-limit-hit")
    assert any("live writes" in text and "before the stock backfill" in text for text in responses(incident))
    clock.shift(minutes=1)
    evaluate()
    assert_told_once(incident, smtp_inbox, oncall)

    # The budget comes back: the next call (the reconciler's pull) reads it.
    shopify_sim.faults.clear()
    shopify_sim.configure(bucket_size=400)
    assert reconcile_connection(connection=shop).outcome == "ok"
    evaluate()
    assert_closed(incident)
    assert Incident.objects.count() == 1
