"""Orders split across facilities (issue 6, item 2): when no single facility holds an order and the brand's policy
allows splits, it is allocated per leg (every leg or none), released to pick, shipped as one shipment per leg and
dispatched when the last leg is handed over; a cancellation gives every leg back; racing splits never oversell; on
Shopify each leg is its own partial fulfilment with its own lines."""

from decimal import Decimal

import pytest
from django.utils import timezone

from inventory.models import Movement, StockLevel
from inventory.services import stock_receive
from orders.allocation.services import allocation_policy_update
from orders.models import Order, OrderState, Shipment
from orders.services import (
    allocation_run_waiting,
    order_cancel,
    order_confirm_picked,
    order_hold,
    order_ingest,
    order_pack,
    order_release_to_pick,
    shipment_create,
    shipment_hand_to_carrier,
)
from tests.factories import FacilityFactory
from tests.inventory.factories import SkuFactory
from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line
from warehouse.errors import Reason

NEW_YORK = {"country": "US", "postal_code": "10001", "city": "New York", "region": "NY"}


def receive(sku, facility, n):
    stock_receive(sku=sku, facility=facility, quantity=n, event_id=f"rcv:{sku.code}:{facility.code}", actor=None)


def ingest(brand, *lines, pid):
    canonical = CanonicalOrderFactory(platform_order_id=pid, lines=lines, address=CanonicalAddressFactory(**NEW_YORK))
    order = order_ingest(canonical=canonical, brand=brand, source="manual").order
    return Order.objects.get(pk=order.pk)


def level(sku, facility):
    return StockLevel.objects.get(sku=sku, facility=facility)


def make_sites():
    return (
        FacilityFactory(code="NJ1", country="US", postal_code="07001", time_zone="America/New_York"),
        FacilityFactory(code="NV1", country="US", postal_code="89501", time_zone="America/Los_Angeles"),
    )


@pytest.fixture
def split_stock(brand):
    """Shirts only in New Jersey, caps only in Nevada: an order of both can only ship split."""
    nj, nv = make_sites()
    shirt, cap = SkuFactory(brand=brand, code="SHIRT"), SkuFactory(brand=brand, code="CAP")
    receive(shirt, nj, 3)
    receive(cap, nv, 3)
    return nj, nv, shirt, cap


def hand_over(shipment, receipt):
    return shipment_hand_to_carrier(shipment=shipment, carrier_receipt=receipt, handed_at=timezone.now(), actor=None)


@pytest.mark.django_db
def test_a_split_order_is_allocated_picked_and_shipped_per_leg_and_dispatched_after_the_last(brand, split_stock):
    nj, nv, shirt, cap = split_stock

    order = ingest(brand, line("SHIRT", 2), line("CAP", 1), pid="SPLIT-1")

    assert order.state == OrderState.ACCEPTED and order.facility == nj  # the first leg
    assert sorted(order.allocation_rows.values_list("sku_id", "quantity", "facility_id")) == sorted(
        [(shirt.pk, 2, nj.pk), (cap.pk, 1, nv.pk)]
    )
    assert (level(shirt, nj).allocated, level(cap, nv).allocated) == (2, 1)
    assert Movement.objects.filter(event_id=f"order:{order.pk}:allocate:1:NJ1").exists()
    assert Movement.objects.filter(event_id=f"order:{order.pk}:allocate:1:NV1").exists()
    messages = list(order.events.values_list("message", flat=True))
    assert any(m.startswith("Split across NJ1 and NV1 (estimated fee 4.50)") for m in messages), messages

    order = order_release_to_pick(order=order, actor=None)
    assert (level(shirt, nj).in_pick, level(cap, nv).in_pick, level(shirt, nj).allocated) == (2, 1, 0)
    order = order_pack(order=order_confirm_picked(order=order, actor=None), actor=None)

    first = shipment_create(order=order, carrier="UPS", tracking_number="1ZNJ", actor=None)
    second = shipment_create(order=order, carrier="UPS", tracking_number="1ZNV", actor=None)
    assert (first.facility, first.lines) == (nj, [[shirt.pk, 2]])
    assert (second.facility, second.lines) == (nv, [[cap.pk, 1]])

    hand_over(first, "MANIFEST-NJ")
    order.refresh_from_db()
    assert order.state == OrderState.PACKED  # Nevada still has its part
    assert (level(shirt, nj).on_hand, level(shirt, nj).in_pick, level(cap, nv).in_pick) == (1, 0, 1)

    hand_over(second, "MANIFEST-NV")
    order.refresh_from_db()
    assert order.state == OrderState.DISPATCHED
    assert (level(cap, nv).on_hand, level(cap, nv).in_pick) == (2, 0)
    assert Shipment.objects.filter(order=order).count() == 2


@pytest.mark.django_db
def test_cancelling_a_split_order_gives_every_leg_back_before_and_during_picking(brand, split_stock):
    nj, nv, shirt, cap = split_stock
    accepted = ingest(brand, line("SHIRT", 1), line("CAP", 1), pid="SPLIT-2")
    picking = order_release_to_pick(order=ingest(brand, line("SHIRT", 2), line("CAP", 2), pid="SPLIT-3"), actor=None)
    assert (level(shirt, nj).allocated, level(shirt, nj).in_pick, level(cap, nv).in_pick) == (1, 2, 2)

    order_cancel(order=accepted, actor=None, reason="customer changed their mind")
    order_cancel(order=picking, actor=None, reason="customer changed their mind")

    for sku, facility in ((shirt, nj), (cap, nv)):
        now = level(sku, facility)
        assert (now.allocated, now.in_pick, now.available) == (0, 0, 3)
    assert Movement.objects.filter(event_id=f"order:{accepted.pk}:release:1:NV1").exists()
    assert Movement.objects.filter(event_id=f"order:{picking.pk}:unpick:1:NJ1").exists()


@pytest.mark.django_db
def test_without_splits_in_the_policy_the_order_is_held_short_as_before(brand, split_stock):
    nj, nv, shirt, cap = split_stock
    allocation_policy_update(brand=brand, actor=None, reason="one parcel per order", split_allowed=False)

    order = ingest(brand, line("SHIRT", 1), line("CAP", 1), pid="SPLIT-4")

    assert order.state == OrderState.ON_HOLD and order.hold_reasons[0]["code"] == "short"
    assert (level(shirt, nj).allocated, level(cap, nv).allocated) == (0, 0)


@pytest.mark.django_db
def test_a_shipment_for_a_facility_outside_the_split_is_refused(brand, split_stock):
    from warehouse.errors import InvalidInput

    order = ingest(brand, line("SHIRT", 1), line("CAP", 1), pid="SPLIT-5")
    order = order_pack(order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None),
                       actor=None)  # fmt: skip

    with pytest.raises(InvalidInput) as refused:
        shipment_create(order=order, carrier="UPS", facility=FacilityFactory(code="TX1"), actor=None)
    assert refused.value.reasons[0].code == "facility_not_in_order"


@pytest.mark.django_db
def test_a_split_order_shows_its_legs_and_fee_on_the_order_page_and_in_the_brands_list(
    brand, split_stock, client, make_user
):
    order = ingest(brand, line("SHIRT", 1), line("CAP", 1), pid="SPLIT-6")
    client.force_login(make_user("brand", brand=brand))

    page = client.get(f"/orders/{order.pk}/").content.decode()

    assert "Ships from NJ1 and NV1" in page and "4.50" in page
    assert order.route.split_fee == Decimal("4.50")
    listed = client.get("/orders/").content.decode()  # the brand's list marks split orders with their fee
    assert "split · fee 4.50" in listed


@pytest.mark.django_db
def test_each_legs_fulfilment_names_its_lines_and_only_the_last_completes_a_woocommerce_order(
    brand, split_stock, django_capture_on_commit_callbacks
):
    from integrations.outbox.models import OutboundMessage
    from tests.integrations.factories import WooConnectionFactory

    nj, nv, _, _ = split_stock
    woo = WooConnectionFactory(brand=brand)
    canonical = CanonicalOrderFactory(
        platform_order_id="WOO-7", address=CanonicalAddressFactory(**NEW_YORK),
        lines=(line("SHIRT", 2, external_line_id="71"), line("CAP", 1, external_line_id="72")),
    )  # fmt: skip
    order = order_ingest(canonical=canonical, brand=brand, channel=woo.channel).order
    order = order_pack(order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None),
                       actor=None)  # fmt: skip

    for facility in (nj, nv):
        shipment = shipment_create(order=order, carrier="SEUR", tracking_number=f"T-{facility.code}", actor=None)
        with django_capture_on_commit_callbacks(execute=True):
            hand_over(shipment, f"M-{facility.code}")

    payloads = [m.payload for m in OutboundMessage.objects.order_by("pk")]
    assert [(p["tracking_number"], p["lines"], p["complete"]) for p in payloads] == [
        ("T-NJ1", [{"line_item_id": "71", "sku": "SHIRT", "quantity": 2}], False),
        ("T-NV1", [{"line_item_id": "72", "sku": "CAP", "quantity": 1}], True),
    ]


@pytest.mark.django_db
def test_an_order_held_for_its_split_is_accepted_split_by_the_waiting_run_once_both_legs_have_stock(brand):
    nj, nv = make_sites()
    shirt, cap = SkuFactory(brand=brand, code="SHIRT"), SkuFactory(brand=brand, code="CAP")
    receive(shirt, nj, 3)
    order = ingest(brand, line("SHIRT", 2), line("CAP", 1), pid="SPLIT-WAIT")
    assert order.state == OrderState.ON_HOLD and order.facility == nj  # no cap anywhere yet
    # As a split that lost its stock race is held: it waits at its first leg's facility with reason split_route.
    order = order_hold(order=order, reasons=[Reason("split_route", "short of stock for its split")], actor=None)

    stock_receive(sku=cap, facility=nv, quantity=3, event_id="rcv:CAP:NV1", actor=None)
    run = allocation_run_waiting(brand=brand, facility=nj)

    order.refresh_from_db()
    assert run.accepted == [order.pk] and order.state == OrderState.ACCEPTED
    assert sorted(order.allocation_rows.values_list("sku_id", "quantity", "facility_id")) == sorted(
        [(shirt.pk, 2, nj.pk), (cap.pk, 1, nv.pk)]
    )
