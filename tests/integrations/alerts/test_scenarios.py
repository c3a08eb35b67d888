"""Each alert driven from its real signal against the platform simulators on loopback, on a fake clock (issue 18,
"Done when"): the failure opens exactly one incident naming its runbook, the first-hour response is written on its
timeline, the on-call is told once (one e-mail through a real SMTP server, one signed webhook to a real receiver),
and the incident closes itself when the signal recovers."""

from __future__ import annotations

import pytest
from django.utils import timezone

from integrations.alerts.models import EntryKind, Incident, Notification
from integrations.alerts.runbooks import RUNBOOKS
from integrations.models import AuditRecord, ConnectionStatus
from integrations.outbox.models import MessageKind, OutboundMessage
from integrations.outbox.services import outbound_enqueue, outbox_drain
from integrations.reconciler import reconcile_connection
from integrations.services import connection_set_credentials, connection_set_signing_secret
from tests.factories import UserFactory
from tests.integrations.alerts.conftest import ONCALL_EMAIL, reconcile
from tests.integrations.conftest import SHOPIFY_SECRET, run_queued_tasks
from tests.integrations.factories import ConnectionFactory
from tests.integrations.outbox.conftest import TOKEN
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


# --- the reconciler keeps failing, or has not succeeded for 30 minutes -------------------------------------------


def test_a_reconciler_failing_more_than_twice_in_a_row_pages_and_closes_at_its_next_success(
    clock, paging, evaluate, shopify_sim, shop
):
    smtp_inbox, oncall = paging
    shopify_sim.add_fault("503", path="orders.json", times=100)
    for _ in range(2):
        assert reconcile(shop).outcome == "failed"
        clock.shift(minutes=1)
    evaluate()
    assert not Incident.objects.exists()  # twice is not "more than twice"
    assert reconcile(shop).outcome == "failed"
    evaluate()
    incident = the_incident("reconciler-failing")
    assert_opened_with_runbook(incident, "platform-outage")
    shop.refresh_from_db()
    assert shop.status == ConnectionStatus.POLLING_FALLBACK  # the first-hour response: polling, no retry storm
    assert any("switched to polling" in text for text in responses(incident))
    clock.shift(minutes=1)
    evaluate()
    assert_told_once(incident, smtp_inbox, oncall)

    shopify_sim.faults.clear()
    assert reconcile(shop).outcome == "ok"
    evaluate()
    assert_closed(incident)
    assert Incident.objects.count() == 1


def test_a_reconciler_without_a_success_for_30_minutes_pages(clock, paging, evaluate, shopify_sim, shop):
    smtp_inbox, oncall = paging
    assert reconcile(shop).outcome == "ok"
    clock.shift(minutes=29)
    evaluate()
    assert not Incident.objects.exists()
    clock.shift(minutes=2)
    evaluate()
    incident = the_incident("reconciler-silent")
    assert_opened_with_runbook(incident, "platform-outage")
    assert_told_once(incident, smtp_inbox, oncall)
    assert reconcile(shop).outcome == "ok"
    evaluate()
    assert_closed(incident)


# --- inventory desync: the reconciler delta jumps ----------------------------------------------------------------


def test_a_reconciler_delta_above_50_an_hour_pages_once_and_closes_when_the_hour_is_clean(
    clock, paging, evaluate, shopify_sim, shop
):
    smtp_inbox, oncall = paging
    for _ in range(51):
        shopify_sim.upsert_order({}, deliver=False)  # the platform has them; no webhook ever told us
    assert reconcile(shop).missing == 51
    evaluate()
    incident = the_incident("reconciler-delta-page")  # the "investigate" rule of the same signal stays quiet
    assert_opened_with_runbook(incident, "inventory-desync")
    assert any("targeted reconcile" in text for text in responses(incident))
    assert shop.reconcile_runs.count() == 2  # the response's targeted reconcile ran (as a django-q2 task)
    clock.shift(minutes=5)
    evaluate()
    assert_told_once(incident, smtp_inbox, oncall)

    clock.shift(minutes=56)
    assert reconcile(shop).missing == 0
    evaluate()
    assert_closed(incident)
    assert Incident.objects.count() == 1


# --- brand-side admin edit: the reconciler finds an out-of-band change -------------------------------------------


def post_signed(client, sim, connection, payload, *, secret=SHOPIFY_SECRET, topic="orders/create"):
    body, headers = sim.signed_delivery(topic, payload, secret=secret)
    return client.post(
        f"/webhooks/shopify/{connection.pk}/", data=body, content_type="application/json", headers=headers
    )


@pytest.fixture
def signed_shop(shopify_sim, brand):
    return ConnectionFactory(
        brand=brand, platform="shopify", api_base_url=shopify_sim.url,
        secrets={"credentials": {"access_token": TOKEN}, "signing_secret": SHOPIFY_SECRET},
    )  # fmt: skip


def test_an_out_of_band_admin_edit_is_audited_told_to_the_brand_and_offers_a_replay(
    clock, paging, evaluate, shopify_sim, signed_shop, client
):
    smtp_inbox, oncall = paging
    admin = UserFactory(email="owner@acme.example")
    brand_member_add(user=admin, brand=signed_shop.brand)
    orders = [shopify_sim.upsert_order({}, deliver=False) for _ in range(2)]
    for order in orders:
        assert post_signed(client, shopify_sim, signed_shop, order).status_code == 200
    run_queued_tasks()
    assert reconcile(signed_shop).missing == 0

    clock.shift(minutes=5)
    shopify_sim.upsert_order({"id": orders[0]["id"], "note": "changed in the Shopify admin"}, deliver=False)
    run = reconcile(signed_shop)
    assert (run.missing, run.stale) == (0, 1)
    evaluate()
    incident = the_incident("reconciler-delta")
    assert_opened_with_runbook(incident, "brand-admin-edit")
    assert AuditRecord.objects.filter(connection=signed_shop, outcome="out_of_band_change").count() == 1
    said = responses(incident)
    assert any("audit log" in t for t in said) and any("replay from the platform offered" in t for t in said)
    clock.shift(minutes=1)
    evaluate()
    assert_told_once(incident, smtp_inbox, oncall, also=["owner@acme.example"])

    clock.shift(minutes=61)
    assert reconcile(signed_shop).stale == 0
    evaluate()
    assert_closed(incident)
    assert Incident.objects.count() == 1


# --- webhook signature failure spike -----------------------------------------------------------------------------


def test_a_signature_failure_spike_flags_the_secret_and_closes_once_the_new_secret_verifies(
    clock, paging, evaluate, shopify_sim, signed_shop, client
):
    smtp_inbox, oncall = paging
    rotated = "shpss_rotated_on_the_platform_9f2c"
    for n in range(3):
        assert post_signed(client, shopify_sim, signed_shop, {"id": 9000 + n, "line_items": []}).status_code == 200
    for n in range(2):  # the brand rotated the app's secret on the platform without telling us
        bad = post_signed(client, shopify_sim, signed_shop, {"id": 9100 + n, "line_items": []}, secret=rotated)
        assert bad.status_code == 401
    evaluate()
    incident = the_incident("hmac-failures")
    assert_opened_with_runbook(incident, "webhook-signature-spike")
    said = responses(incident)
    assert any("flagged as suspect" in t for t in said) and any("re-subscribe" in t for t in said)
    assert rotated not in " ".join(said) and SHOPIFY_SECRET not in " ".join(said)
    clock.shift(minutes=1)
    evaluate()
    assert_told_once(incident, smtp_inbox, oncall)

    connection_set_signing_secret(connection=signed_shop, secret=rotated, actor=None, window=None)
    clock.shift(minutes=61)
    for n in range(3):
        assert (
            post_signed(
                client, shopify_sim, signed_shop, {"id": 9200 + n, "line_items": []}, secret=rotated
            ).status_code
            == 200
        )
    assert reconcile(signed_shop).outcome == "ok"
    evaluate()
    assert_closed(incident)
    assert Incident.objects.count() == 1


# --- catalog explosion: a backfill volume spike ------------------------------------------------------------------


def test_a_catalog_explosion_throttles_stock_writes_serves_fulfilments_first_and_closes_as_the_backlog_drains(
    clock, paging, evaluate, shopify_sim, shop
):
    smtp_inbox, oncall = paging
    for n in range(501):  # a new catalog of 501 variants, each level to publish
        listing, location = shopify_sim.stock_target(f"VAR-{n}")
        outbound_enqueue(
            connection=shop, kind=MessageKind.INVENTORY,
            payload={"sku_id": n, "sku": f"VAR-{n}", "listing": listing, "location": location, "quantity": 5},
        )  # fmt: skip
    evaluate()
    incident = the_incident("outbound-backlog")
    assert_opened_with_runbook(incident, "catalog-explosion")
    assert any("throttled: 451 stock writes" in t for t in responses(incident))
    assert OutboundMessage.objects.filter(kind=MessageKind.INVENTORY, next_attempt_at__lte=timezone.now()).count() == 50
    clock.shift(minutes=1)
    evaluate()
    assert_told_once(incident, smtp_inbox, oncall)

    order = shopify_sim.upsert_order({})
    live = outbound_enqueue(
        connection=shop, kind=MessageKind.FULFILMENT,
        payload={"order_id": str(order["id"]), "tracking_number": "1ZLIVE", "carrier": "UPS"},
    )  # fmt: skip
    outbox_drain(connection_id=shop.pk)
    first_write = next(r for r in shopify_sim.requests if r["method"] == "POST")
    assert "fulfillments" in first_write["path"]  # the brand's live write went before the backfill
    assert OutboundMessage.objects.get(pk=live.pk).state == "sent"
    evaluate()
    assert_closed(incident)  # 492 waiting: back under the threshold
    assert Incident.objects.count() == 1
