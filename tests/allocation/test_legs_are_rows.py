"""Shipments and route legs refer to the allocation rows instead of repeating them (issue 15 §2): a split order's
route keeps its facilities in leg order and reads each leg's lines from the rows; each leg's shipment carries the
rows at its facility, and its channel fulfilment names the rows' own order lines."""

import pytest

from orders.models import AllocationRow, Shipment, shipment_platform_lines, shipment_rows
from orders.services import order_confirm_picked, order_pack, order_release_to_pick, shipment_create
from tests.allocation.test_split_orders import ingest, receive
from tests.factories import FacilityFactory
from tests.inventory.factories import SkuFactory
from tests.orders.factories import line


@pytest.mark.django_db
def test_a_split_orders_route_and_shipments_read_their_lines_from_the_allocation_rows(brand):
    nj = FacilityFactory(code="NJ1", country="US", postal_code="07001", time_zone="America/New_York")
    nv = FacilityFactory(code="NV1", country="US", postal_code="89501", time_zone="America/Los_Angeles")
    shirt, cap = SkuFactory(brand=brand, code="SHIRT"), SkuFactory(brand=brand, code="CAP")
    receive(shirt, nj, 5)
    receive(cap, nv, 5)
    order = ingest(brand, line("SHIRT", 2, "L1"), line("CAP", 1, "L2"), line("SHIRT", 1, "L3"), pid="LEGS-1")

    route = order.route
    assert route.legs == [{"facility": "NJ1", "facility_id": nj.pk}, {"facility": "NV1", "facility_id": nv.pk}]
    assert route.leg_lines() == [("NJ1", [[shirt.pk, 3]]), ("NV1", [[cap.pk, 1]])]

    order = order_pack(order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None),
                       actor=None)  # fmt: skip
    first = shipment_create(order=order, carrier="UPS", tracking_number="1ZNJ", actor=None)
    second = shipment_create(order=order, carrier="UPS", tracking_number="1ZNV", actor=None)
    assert [(row.line.line_number, row.quantity) for row in shipment_rows(first)] == [(1, 2), (3, 1)]
    assert shipment_platform_lines(first) == [
        {"line_item_id": "L1", "sku": "SHIRT", "quantity": 2},
        {"line_item_id": "L3", "sku": "SHIRT", "quantity": 1},
    ]
    assert shipment_platform_lines(second) == [{"line_item_id": "L2", "sku": "CAP", "quantity": 1}]

    # No copy: what the rows say is what the shipment and the route say.
    AllocationRow.objects.filter(order=order, line__line_number=3).update(quantity=7)
    assert Shipment.objects.get(pk=first.pk).lines == [[shirt.pk, 9]]
    assert route.leg_lines()[0] == ("NJ1", [[shirt.pk, 9]])


@pytest.mark.django_db
def test_a_shipment_of_an_order_at_one_facility_is_the_whole_order(brand):
    nj = FacilityFactory(code="NJ1", country="US", postal_code="07001", time_zone="America/New_York")
    shirt = SkuFactory(brand=brand, code="SHIRT")
    receive(shirt, nj, 5)
    order = ingest(brand, line("SHIRT", 2), pid="ONE-1")
    order = order_pack(order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None),
                       actor=None)  # fmt: skip
    shipment = shipment_create(order=order, carrier="UPS", tracking_number="1Z1", actor=None)
    assert (shipment.facility, shipment.lines, shipment_platform_lines(shipment)) == (nj, [], [])
    assert [(row.sku_id, row.quantity) for row in shipment_rows(shipment)] == [(shirt.pk, 2)]
    assert order.route.leg_lines() == [("NJ1", [[shirt.pk, 2]])]
