"""Manual tracking (issue 17 §6): while a carrier's API is down a manager keys in carrier, tracking number and
hand-off time; that is the carrier's receipt, flagged as manual and queued for review; the customer is notified as
for any dispatch; the scheduled re-check compares it with the carrier's tracking once the API answers, and closes
the review or reopens it with the difference named. Bad input changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from integrations.carriers.registry import connector_for
from integrations.outbox.models import MessageKind, OutboundMessage
from integrations.tracking.models import ManualTracking, RecheckOutcome
from integrations.tracking.services import manual_tracking_enter, manual_tracking_recheck_due
from orders.models import OrderState, Shipment, ShipmentState
from tests.conftest import grant
from tests.factories import UserFactory
from tests.integrations.tracking.conftest import account_on, credentials_of, label_on
from warehouse.errors import InvalidInput, NotPermitted
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]


@pytest.fixture
def floor_manager(db):
    return grant(UserFactory(username="floor-manager"), "tracking.enter_manual_tracking", "orders.operate_shipment")


def first_scan(code, sim, number):
    connector = connector_for(code)
    events = connector.track(connector.client(base_url=sim.url, credentials=credentials_of(code)), number)
    return min(e.occurred_at for e in events if e.is_carrier_scan)


def test_a_manual_entry_is_the_receipt_and_waits_for_review(packed, floor_manager):
    order = packed()
    handed_at = timezone.now() - dt.timedelta(hours=1)
    entry = manual_tracking_enter(
        order=order, carrier="ups", tracking_number="1ZMANUAL01", handed_at=handed_at, actor=floor_manager
    )
    shipment = Shipment.objects.get(pk=entry.shipment_id)
    assert shipment.state == ShipmentState.HANDED_TO_CARRIER and shipment.handed_at == handed_at
    assert shipment.tracking_number == "1ZMANUAL01" and "manual entry by floor-manager" in shipment.carrier_receipt
    assert shipment.order.state == OrderState.DISPATCHED
    (fulfilment,) = OutboundMessage.objects.filter(kind=MessageKind.FULFILMENT)
    assert fulfilment.payload["tracking_number"] == "1ZMANUAL01" and fulfilment.payload["notify_customer"] is True
    item = ExceptionItem.objects.get(kind=ExceptionKind.MANUAL_TRACKING)
    assert item.state == ExceptionState.OPEN and item.object_id == shipment.pk
    assert "1ZMANUAL01" in item.summary and "floor-manager" in item.reasons[0]["message"]
    assert entry.outcome == RecheckOutcome.PENDING


@pytest.mark.parametrize(
    ("fields", "codes"),
    [
        ({"carrier": "pigeon"}, ["unknown_carrier"]),
        ({"tracking_number": " "}, ["tracking_number_required"]),
        ({"tracking_number": "9" * 101}, ["too_long"]),
        ({"handed_at": None}, ["handed_at_required"]),
        ({"handed_at": "future"}, ["handed_at_future"]),
        ({"carrier": "", "tracking_number": "", "handed_at": None},
         ["unknown_carrier", "tracking_number_required", "handed_at_required"]),
    ],
)  # fmt: skip
def test_bad_input_is_named_and_changes_nothing(packed, floor_manager, fields, codes):
    order = packed()
    values = {"carrier": "ups", "tracking_number": "1ZMANUAL02", "handed_at": timezone.now(), **fields}
    if values["handed_at"] == "future":
        values["handed_at"] = timezone.now() + dt.timedelta(hours=2)
    with pytest.raises(InvalidInput) as refused:
        manual_tracking_enter(order=order, actor=floor_manager, **values)
    assert [r.code for r in refused.value.reasons] == codes
    assert not Shipment.objects.exists() and not ManualTracking.objects.exists()
    assert not ExceptionItem.objects.filter(kind=ExceptionKind.MANUAL_TRACKING).exists()


def test_an_order_not_packed_is_refused(make_accepted, floor_manager):
    order = make_accepted()
    with pytest.raises(InvalidInput) as refused:
        manual_tracking_enter(
            order=order, carrier="ups", tracking_number="1Z1", handed_at=timezone.now(), actor=floor_manager
        )
    assert refused.value.reasons[0].code == "order_not_packed" and not Shipment.objects.exists()


def test_only_someone_with_the_permission_may_enter_tracking(packed):
    order = packed()
    operator = grant(UserFactory(username="op"), "orders.operate_shipment")
    with pytest.raises(NotPermitted):
        manual_tracking_enter(
            order=order, carrier="ups", tracking_number="1Z1", handed_at=timezone.now(), actor=operator
        )
    assert not Shipment.objects.exists() and not ExceptionItem.objects.exists()


def test_the_recheck_waits_out_the_outage_then_closes_the_review(packed, floor_manager, carrier_sims, facility):
    sim = carrier_sims["dhl_parcel_de"]
    account_on(sim, "dhl_parcel_de", facility)
    number = label_on(sim, "dhl_parcel_de")
    sim.scan(number)
    handed_at = first_scan("dhl_parcel_de", sim, number) - dt.timedelta(minutes=20)
    sim.add_fault("503", path="/track/", times=20)
    entry = manual_tracking_enter(
        order=packed(), carrier="dhl_parcel_de", tracking_number=number, handed_at=handed_at, actor=floor_manager
    )
    assert manual_tracking_recheck_due() == {"pending": 1}  # the carrier still answers 503
    entry.refresh_from_db()
    assert entry.outcome == RecheckOutcome.PENDING and "did not answer" in entry.difference
    sim.faults.clear()
    assert manual_tracking_recheck_due() == {"matched": 1}
    item = ExceptionItem.objects.get(kind=ExceptionKind.MANUAL_TRACKING)
    assert item.state == ExceptionState.RESOLVED and "first scan at" in item.decision_note
    shipment = Shipment.objects.get(pk=entry.shipment_id)
    assert shipment.state == ShipmentState.DELIVERED and shipment.acknowledged_at is not None
    assert manual_tracking_recheck_due() == {}  # settled: not asked again


def test_the_recheck_names_the_difference(packed, floor_manager, carrier_sims, facility):
    sim = carrier_sims["ups"]
    account_on(sim, "ups", facility)
    number = label_on(sim, "ups")
    sim.scan(number)
    scanned = first_scan("ups", sim, number)
    late = manual_tracking_enter(
        order=packed(), carrier="ups", tracking_number=number, handed_at=scanned + dt.timedelta(hours=6),
        actor=floor_manager,
    )  # fmt: skip
    unknown = manual_tracking_enter(
        order=packed(), carrier="ups", tracking_number="1ZNOSUCHPARCEL01", handed_at=timezone.now(),
        actor=floor_manager,
    )  # fmt: skip
    assert manual_tracking_recheck_due() == {"differs": 2}
    late.refresh_from_db()
    assert "before the entered hand-off" in late.difference
    items = {i.object_id: i for i in ExceptionItem.objects.filter(kind=ExceptionKind.MANUAL_TRACKING)}
    assert items[late.shipment_id].state == ExceptionState.OPEN
    assert "before the entered hand-off" in items[late.shipment_id].reasons[0]["message"]
    assert "has no tracking for 1ZNOSUCHPARCEL01" in items[unknown.shipment_id].reasons[0]["message"]
