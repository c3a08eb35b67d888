"""Carrier events in (issue 17 §4): UPS Track Alert pushes, subscribed and verified as UPS does them (the simulator
fetches a token from our token URL, then posts each event with it), and DHL tracking polled on its cadence. The
same events again, by push or poll, change nothing."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.carriers.registry import connector_for
from integrations.tracking.models import CarrierEvent, TrackingWatch
from integrations.tracking.services import tracking_poll_due
from orders.models import OrderState, Shipment, ShipmentEvent, ShipmentState
from tests.integrations.tracking.conftest import account_on, credentials_of, label_on

pytestmark = [pytest.mark.postgresql]


def run_queued_tasks():
    """What a qcluster does with the tasks the webhooks wrote in their own statement: load each package, run it."""
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    from integrations.tracking import tasks

    ran = 0
    for row in OrmQ.objects.order_by("id"):
        task = SignedPackage.loads(row.payload)
        if task["func"] != "integrations.tracking.tasks.carrier_events_apply_task":
            continue  # the outbox's wake-ups, say
        tasks.carrier_events_apply_task(*task["args"], **task["kwargs"])
        row.delete()
        ran += 1
    return ran


def webhook_url(base, account):
    return base + reverse("integrations:carrier-webhook", args=[account.carrier, account.pk])


@pytest.mark.django_db(transaction=True)
def test_track_alert_pushes_are_subscribed_verified_and_applied_once(live_server, carrier_sims, staged, facility):
    sim = carrier_sims["ups"]
    account = account_on(sim, "ups", facility)
    number = label_on(sim, "ups")
    shipment = staged(number)
    url = webhook_url(live_server.url, account)
    sim.configure(hub_url=url, hub_token_url=url + "token")
    run = tracking_poll_due()  # subscribes the parcel (and finds nothing to track yet)
    assert run.subscribed == 1 and sim.subscribed == {number}
    sim.scan(number)  # UPS pushes every event of the parcel, each after fetching a token from us
    assert sim.webhooks and all(w["status"] == 200 for w in sim.webhooks)
    assert run_queued_tasks() == len(sim.webhooks)  # one wake-up per push that brought a new event
    shipment = Shipment.objects.get(pk=shipment.pk)
    assert shipment.state == ShipmentState.DELIVERED and shipment.acknowledged_at is not None
    assert shipment.order.state == OrderState.DELIVERED
    stored = CarrierEvent.objects.count()
    scans = ShipmentEvent.objects.filter(shipment=shipment).count()
    sim.scan(number)  # every event pushed again
    assert run_queued_tasks() == 0  # nothing new: no task
    assert CarrierEvent.objects.count() == stored and ShipmentEvent.objects.filter(shipment=shipment).count() == scans


@pytest.mark.django_db
def test_a_push_without_our_token_is_refused_and_stores_nothing(client, carrier_sims, facility):
    account = account_on(carrier_sims["ups"], "ups", facility)
    url = reverse("integrations:carrier-webhook", args=["ups", account.pk])
    body = json.dumps(
        {
            "trackingNumber": "1Z0000000000000001",
            "activityStatus": {"type": "I", "code": "DP", "description": "Departed"},
            "gmtActivityDate": "20261124",
            "gmtActivityTime": "100000",
        }
    )
    creds = credentials_of("ups")
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": "Bearer forged.token", "HTTP_X_API_KEY": creds["webhook_client_id"]},
    ):
        answer = client.post(url, body, content_type="application/json", **headers)
        assert answer.status_code == 401
    wrong = base64.b64encode(f"{creds['webhook_client_id']}:wrong".encode()).decode()
    token_url = reverse("integrations:carrier-webhook-token", args=["ups", account.pk])
    refused = client.post(
        token_url, "grant_type=client_credentials", content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {wrong}",
    )  # fmt: skip
    assert refused.status_code == 401 and "access_token" not in refused.json()
    basic = base64.b64encode(f"{creds['webhook_client_id']}:{creds['webhook_client_secret']}".encode()).decode()
    token = client.post(
        token_url, "grant_type=client_credentials", content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    ).json()["access_token"]  # fmt: skip
    ok = client.post(
        url, body, content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_API_KEY=creds["webhook_client_id"],
    )  # fmt: skip
    assert ok.status_code == 200 and ok.json()["events"] == 1
    assert CarrierEvent.objects.count() == 1
    bad = client.post(
        url, b"{not json", content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_API_KEY=creds["webhook_client_id"],
    )  # fmt: skip
    assert bad.status_code == 400 and CarrierEvent.objects.count() == 1
    # DHL pushes nothing: its account has no event URL
    dhl = account_on(carrier_sims["dhl_parcel_de"], "dhl_parcel_de", facility)
    assert client.post(reverse("integrations:carrier-webhook", args=["dhl_parcel_de", dhl.pk]), body,
                       content_type="application/json").status_code == 404  # fmt: skip


@pytest.mark.django_db
def test_dhl_is_polled_on_its_cadence_and_a_repeat_poll_applies_nothing(carrier_sims, handed, facility):
    sim = carrier_sims["dhl_parcel_de"]
    account_on(sim, "dhl_parcel_de", facility)
    number = label_on(sim, "dhl_parcel_de")
    shipment = handed(number, "dhl_parcel_de")
    sim.scan(number)
    now = timezone.now()
    run = tracking_poll_due(now=now)
    assert (run.polled, run.failed) == (1, 0) and run.applied == len(connector_for("dhl_parcel_de").track(
        connector_for("dhl_parcel_de").client(base_url=sim.url, credentials=credentials_of("dhl_parcel_de")), number
    ))  # fmt: skip
    shipment.refresh_from_db()
    assert shipment.state == ShipmentState.DELIVERED
    assert tracking_poll_due(now=now + dt.timedelta(minutes=5)).polled == 0  # not due: DHL is polled every 30 min
    sim.duplicate_events(number)
    again = tracking_poll_due(now=now + dt.timedelta(minutes=31))
    assert (again.polled, again.applied) == (0, 0)  # delivered: no longer watched
    assert CarrierEvent.objects.filter(tracking_number=number).count() == run.applied


@pytest.mark.django_db
def test_a_carrier_outage_is_the_shipments_error_and_the_next_poll_recovers(carrier_sims, handed, facility):
    sim = carrier_sims["dhl_parcel_de"]
    account_on(sim, "dhl_parcel_de", facility)
    number = label_on(sim, "dhl_parcel_de")
    shipment = handed(number, "dhl_parcel_de")
    sim.scan(number)
    sim.add_fault("503", path="/track/", times=10)
    now = timezone.now()
    run = tracking_poll_due(now=now)
    assert (run.polled, run.failed) == (0, 1)
    watch = TrackingWatch.objects.get(shipment=shipment)
    assert "503" in watch.last_error and watch.polled_at is None
    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.HANDED_TO_CARRIER
    sim.faults.clear()
    assert tracking_poll_due(now=now + dt.timedelta(minutes=1)).polled == 1
    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.DELIVERED


@pytest.mark.django_db
def test_an_expired_ups_token_is_refreshed_once_while_polling(carrier_sims, handed, facility):
    sim = carrier_sims["ups"]
    account_on(sim, "ups", facility)
    number = label_on(sim, "ups")
    shipment = handed(number)
    sim.scan(number)
    issued = sim.tokens_issued
    sim.add_fault("token_expired", path="/api/track/")
    run = tracking_poll_due()
    assert (run.polled, run.failed) == (1, 0)
    assert sim.tokens_issued == issued + 2  # the poll's own token, and one refresh after the 401
    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.DELIVERED
