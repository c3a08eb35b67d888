"""Custody (issue 17 §4): carrier events stored once and applied in time order; the first carrier scan is the
carrier's receipt; failed delivery opens an exception; return to sender opens a return shipped back. And §5: the
statuses after dispatch go to the channel (the Shopify simulator) through the outbox, the dispatch itself with the
brand's notification choice."""

from __future__ import annotations

import pytest

from integrations.carriers.protocol import EventKind
from integrations.outbox.models import MessageKind, OutboundMessage
from integrations.outbox.services import outbox_drain
from integrations.tracking.models import BrandTrackingSettings, CarrierEvent, EventSource
from integrations.tracking.services import tracking_events_receive
from orders.models import Order, OrderEvent, OrderState, Shipment, ShipmentEvent, ShipmentState
from returns.models import Return, ReturnState
from tests.integrations.tracking.conftest import T0, event
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]

IN_TRANSIT, OFD, DELIVERED = EventKind.IN_TRANSIT, EventKind.OUT_FOR_DELIVERY, EventKind.DELIVERED


def receive(*events):
    return tracking_events_receive(events=list(events), source=EventSource.WEBHOOK)


def statuses(shipment):
    rows = OutboundMessage.objects.filter(kind=MessageKind.STATUS, payload__shipment_id=shipment.pk)
    return [m.payload["status"] for m in rows.order_by("id")]


def test_the_first_carrier_scan_is_the_carriers_receipt(staged):
    shipment = staged()
    receive(event(EventKind.PRE_TRANSIT, -30))
    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.STAGED  # label data is not custody
    receive(event(EventKind.PICKED_UP, 0))
    shipment = Shipment.objects.get(pk=shipment.pk)
    assert shipment.state == ShipmentState.HANDED_TO_CARRIER
    assert shipment.handed_at == T0 and shipment.acknowledged_at == T0
    assert "first carrier scan" in shipment.carrier_receipt
    assert shipment.order.state == OrderState.DISPATCHED
    (fulfilment,) = OutboundMessage.objects.filter(kind=MessageKind.FULFILMENT)
    assert fulfilment.payload["tracking_number"] == "1ZTRACK0001" and fulfilment.payload["carrier"] == "ups"
    assert fulfilment.payload["notify_customer"] is True  # the default: the customer is told


def test_the_same_event_twice_is_stored_and_applied_once(handed):
    shipment = handed()
    events = [event(IN_TRANSIT, 10), event(OFD, 20), event(DELIVERED, 30)]
    first = receive(*events)
    again = receive(*events, *reversed(events))
    assert (first.events, again.events) == (3, 0)
    assert CarrierEvent.objects.count() == 3
    assert ShipmentEvent.objects.filter(shipment=shipment).count() == 3
    assert statuses(shipment) == ["in_transit", "out_for_delivery", "delivered"]
    shipment.refresh_from_db()
    assert shipment.state == ShipmentState.DELIVERED and shipment.delivered_at == T0.replace(minute=30)


def test_a_batch_out_of_order_is_applied_in_time_order(handed):
    shipment = handed()
    receive(event(DELIVERED, 30), event(IN_TRANSIT, 10), event(OFD, 20))
    applied = list(CarrierEvent.objects.order_by("occurred_at").values_list("kind", "outcome"))
    assert [k for k, _ in applied] == ["in_transit", "out_for_delivery", "delivered"]
    assert applied[0][1] == "handed_to_carrier → in_transit" and applied[2][1] == "in_transit → delivered"
    assert statuses(shipment) == ["in_transit", "out_for_delivery", "delivered"]


def test_an_older_event_arriving_later_never_regresses(handed):
    shipment = handed()
    receive(event(DELIVERED, 30))
    receive(event(IN_TRANSIT, 10))  # late
    receive(event(OFD, 20))  # late
    shipment.refresh_from_db()
    assert shipment.state == ShipmentState.DELIVERED
    assert shipment.order.state == OrderState.DELIVERED
    assert statuses(shipment) == ["delivered"]  # the channel never hears "in transit" after "delivered"
    late = CarrierEvent.objects.filter(kind__in=["in_transit", "out_for_delivery"])
    assert all(e.outcome.startswith("late") for e in late)
    assert ShipmentEvent.objects.filter(shipment=shipment).count() == 3  # on the timeline all the same
    assert OrderEvent.objects.filter(order=shipment.order, kind="carrier_scan").count() == 3


def test_events_of_an_unknown_number_wait_for_their_shipment(staged):
    receive(event(IN_TRANSIT, 10, number="1ZLATER"))
    assert CarrierEvent.objects.get().applied_at is None
    shipment = staged("1ZLATER")
    from integrations.tracking.custody import carrier_events_apply

    carrier_events_apply(carrier="ups", tracking_number="1ZLATER")
    shipment.refresh_from_db()
    assert shipment.state == ShipmentState.IN_TRANSIT and shipment.handed_at == T0.replace(minute=10)


def test_failed_delivery_opens_an_exception_closed_by_the_delivery(handed):
    shipment = handed()
    receive(event(IN_TRANSIT, 10), event(EventKind.FAILED_DELIVERY, 20, description="Receiver not at home"))
    item = ExceptionItem.objects.get(kind=ExceptionKind.DELIVERY_FAILED)
    assert item.state == ExceptionState.OPEN and item.object_id == shipment.pk
    assert "Receiver not at home" in item.summary and "Receiver not at home" in item.reasons[0]["message"]
    assert statuses(shipment) == ["in_transit", "attempted_delivery"]
    receive(event(DELIVERED, 60 * 24))
    item.refresh_from_db()
    assert item.state == ExceptionState.RESOLVED


def test_return_to_sender_opens_a_return_shipped_back(handed):
    shipment = handed()
    receive(event(IN_TRANSIT, 10), event(EventKind.RETURNED_TO_SENDER, 60, description="Refused by receiver"))
    rma = Return.objects.get()
    assert rma.state == ReturnState.SHIPPED_BACK and rma.order_id == shipment.order_id
    assert rma.rma_number == "RTS-1ZTRACK0001" and "Refused by receiver" in rma.reason
    assert [(line.sku.code, line.quantity) for line in rma.lines.all()] == [("TEE-BLK-M", 1)]
    receive(event(EventKind.RETURNED_TO_SENDER, 60, description="Refused by receiver"))  # again: nothing more
    assert Return.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_statuses_reach_the_shopify_fulfilment_and_the_brand_may_stay_silent(
    handed, shop, shopify_sim, brand, fast_outbox
):
    BrandTrackingSettings.objects.create(brand=brand, notify_customer=False)
    shipment = handed()
    receive(event(IN_TRANSIT, 10), event(OFD, 20), event(DELIVERED, 30))
    receive(event(IN_TRANSIT, 10))  # a redelivery: nothing new to send
    outbox_drain(connection_id=shop.pk)
    order_id = int(shipment.order.platform_order_id)
    (fulfilment,) = shopify_sim.fulfilments_of(order_id)
    assert (
        fulfilment["tracking_number"] == "1ZTRACK0001" and fulfilment["tracking_company"] == "UPS"
    )  # the carrier as Shopify names it
    assert fulfilment["notify_customer"] is False  # the brand chose no e-mail
    sent = [e["status"] for e in shopify_sim.fulfillment_events if e["fulfillment_id"] == fulfilment["id"]]
    assert sent == ["in_transit", "out_for_delivery", "delivered"]
    assert fulfilment["shipment_status"] == "delivered"
    assert Order.objects.get(pk=shipment.order_id).state == OrderState.DELIVERED


def test_a_value_too_long_refuses_the_batch_and_stores_nothing(handed):
    handed()
    with pytest.raises(Exception) as refused:
        receive(event(IN_TRANSIT, 10), event(OFD, 20, description="x" * 301))
    assert "description: 301 characters" in str(refused.value)
    assert not CarrierEvent.objects.exists()
