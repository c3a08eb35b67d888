"""Custody conformance, for every registered carrier against its simulator (issue 17, "Done when"): the carrier's
own tracking events, fed twice and out of order, are stored and applied once each, in time order, through the
tracking app, and the shipment ends where the carrier says. (An expired token refreshed once is
`test_conformance.py::test_an_expired_token_is_refreshed_once`; polling with one, tests/integrations/tracking/.)"""

from __future__ import annotations

import pytest

from integrations.carriers.protocol import EventKind
from integrations.tracking.custody import RECEIPT_KINDS
from integrations.tracking.models import CarrierEvent, EventSource
from integrations.tracking.services import tracking_events_receive
from orders.models import OrderState, ShipmentEvent, ShipmentState
from orders.services import order_confirm_picked, order_ingest, order_pack, order_release_to_pick, shipment_create
from tests.orders.factories import CanonicalOrderFactory, line, stocked_sku

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]


@pytest.fixture
def staged_for(brand, facility):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=5)

    def make(carrier, number):
        order = order_ingest(canonical=CanonicalOrderFactory(lines=(line("TEE-M", 1),)), brand=brand, source="manual")
        order = order_release_to_pick(order=order.order, actor=None)
        order = order_pack(order=order_confirm_picked(order=order, actor=None), actor=None)
        return shipment_create(order=order, carrier=carrier.code, tracking_number=number, actor=None)

    return make


def test_the_same_events_twice_and_out_of_order_are_applied_once_and_in_order(carrier, client, sim, staged_for):
    number = carrier.create_shipment(client, carrier.example_request()).parcels[0].tracking_number
    shipment = staged_for(carrier, number)
    sim.scan(number)
    sim.duplicate_events(number)
    events = carrier.track(client, number)
    assert events, "the simulator plays the carrier's fixture events"
    for batch in (list(reversed(events)), events[1::2], events[::2], events):  # reversed, interleaved, again
        tracking_events_receive(events=batch, source=EventSource.POLL)
    stored = CarrierEvent.objects.filter(carrier=carrier.code, tracking_number=number).order_by("occurred_at", "id")
    assert stored.count() == len({e.dedupe_key for e in events})
    assert all(e.applied_at is not None and not e.outcome.startswith("late") for e in stored)  # first batch: in order
    scans = [e for e in events if e.kind != EventKind.PRE_TRANSIT]
    recorded = ShipmentEvent.objects.filter(shipment=shipment).order_by("id")
    assert [r.occurred_at for r in recorded] == sorted(e.occurred_at for e in scans)  # once each, oldest first
    shipment.refresh_from_db()
    first_scan = min(e.occurred_at for e in events if e.kind in RECEIPT_KINDS)
    assert shipment.handed_at == first_scan == shipment.acknowledged_at  # the first carrier scan is the receipt
    assert shipment.state == ShipmentState.DELIVERED and shipment.order.state == OrderState.DELIVERED
