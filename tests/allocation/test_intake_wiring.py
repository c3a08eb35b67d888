"""Order intake uses inventory truth (issue 6): routing and ship-by at ingestion, contract reservations in the
`reserved` bucket that ordinary orders never take, wholesale orders on their own contract, pre-orders that wait for
their scheduled inbound, and orders no single facility can take split across facilities with their estimated
split fee (per-leg picking and shipping: test_split_orders.py)."""

import datetime as dt
from decimal import Decimal

import pytest

from inventory.models import Movement, MovementKind, StockLevel
from inventory.services import stock_receive
from orders.allocation.cutoffs import ship_by_compute
from orders.allocation.models import OrderRoute
from orders.allocation.services import (
    contract_reservation_create,
    contract_reservations_fill,
    cutoff_set,
    scheduled_inbound_create,
)
from orders.models import Order, OrderState
from orders.services import (
    allocation_run_waiting,
    order_accept,
    order_cancel,
    order_create_manual,
    order_ingest,
    scheduled_inbound_receive,
)
from tests.factories import FacilityFactory, SalesChannelFactory
from tests.inventory.factories import SkuFactory
from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line
from warehouse.models import ExceptionItem, ExceptionState

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
NEW_YORK = {"country": "US", "postal_code": "10001", "city": "New York", "region": "NY"}


def level(sku, facility):
    return StockLevel.objects.get(sku=sku, facility=facility)


def ingest(brand, *lines, pid, priority="standard", name="Marta Puig", address=None, **kwargs):
    channel = kwargs.pop("channel", None)
    source = "channel" if channel is not None else "manual"
    canonical = CanonicalOrderFactory(
        platform_order_id=pid, priority_class=priority, lines=lines,
        address=CanonicalAddressFactory(name=name, **(address or {})), **kwargs,
    )  # fmt: skip
    order = order_ingest(canonical=canonical, brand=brand, channel=channel, source=source).order
    return Order.objects.get(pk=order.pk)


@pytest.fixture
def sites():
    """New Jersey (nearest New York) and Nevada."""
    return {
        "NJ": FacilityFactory(code="NJ1", country="US", postal_code="07001", time_zone="America/New_York"),
        "NV": FacilityFactory(code="NV1", country="US", postal_code="89501", time_zone="America/Los_Angeles"),
    }


def receive(sku, facility, n, tag):
    stock_receive(sku=sku, facility=facility, quantity=n, event_id=tag, actor=None)


# --- routing and ship-by ------------------------------------------------------------------------------------------


def test_an_order_ships_from_the_nearest_facility_holding_all_its_stock_not_the_brands_default(brand, sites):
    shirt, cap = SkuFactory(brand=brand, code="SHIRT"), SkuFactory(brand=brand, code="CAP")
    receive(shirt, sites["NJ"], 5, "nj-shirt")  # nearest, and the default (first by code), but no caps
    receive(shirt, sites["NV"], 5, "nv-shirt")
    receive(cap, sites["NV"], 5, "nv-cap")

    order = ingest(brand, line("SHIRT", 2), line("CAP", 1), pid="R-1", address=NEW_YORK)

    assert order.state == OrderState.ACCEPTED and order.facility == sites["NV"]
    assert (level(shirt, sites["NV"]).allocated, level(shirt, sites["NJ"]).allocated) == (2, 0)
    route = OrderRoute.objects.get(order=order)
    assert [leg["facility"] for leg in route.legs] == ["NV1"] and route.split_fee == Decimal("0.00")


def test_ship_by_is_computed_at_ingestion_from_the_cutoff_of_the_chosen_facility(brand, sites):
    sku = SkuFactory(brand=brand, code="MUG")
    receive(sku, sites["NV"], 3, "nv-mug")
    cutoff_set(brand=brand, facility=sites["NV"], cutoff_time=dt.time(12, 0), handling_days=1, actor=None)

    order = ingest(brand, line("MUG", 1), pid="SB-1", address=NEW_YORK, paid_at=T0, ship_by=None)

    expected = ship_by_compute(brand=brand, facility=sites["NV"], paid_at=T0).at
    assert order.ship_by == expected
    # Paid Friday 01:00 in Nevada, before noon: that day's cutoff plus one ship day is Monday noon, Pacific time.
    assert order.ship_by == dt.datetime(2026, 11, 23, 20, 0, tzinfo=dt.UTC)


def test_a_marketplace_promise_earlier_than_the_cutoff_plan_is_the_hard_ship_by(brand, sites):
    sku = SkuFactory(brand=brand, code="MUG")
    receive(sku, sites["NJ"], 3, "nj-mug")
    amazon = SalesChannelFactory(brand=brand, platform_code="amazon", is_marketplace=True)
    cutoff_set(brand=brand, facility=sites["NJ"], platform="amazon", cutoff_time=dt.time(16, 0), handling_days=2,
               actor=None)  # fmt: skip
    promised = T0 + dt.timedelta(hours=10)
    later = T0 + dt.timedelta(days=9)

    early = ingest(brand, line("MUG", 1), pid="AMZ-1", address=NEW_YORK, channel=amazon, ship_by=promised)
    relaxed = ingest(brand, line("MUG", 1), pid="AMZ-2", address=NEW_YORK, channel=amazon, ship_by=later)

    assert early.ship_by == promised
    assert relaxed.ship_by == ship_by_compute(brand=brand, facility=sites["NJ"], paid_at=T0, platform="amazon").at
    assert relaxed.ship_by < later


def test_an_order_no_facility_can_ship_whole_is_split_across_facilities_with_its_fee(brand, sites):
    shirt, cap = SkuFactory(brand=brand, code="SHIRT"), SkuFactory(brand=brand, code="CAP")
    receive(shirt, sites["NJ"], 2, "nj-shirt")
    receive(cap, sites["NV"], 2, "nv-cap")

    order = ingest(brand, line("SHIRT", 1), line("CAP", 1), pid="SPLIT-1", address=NEW_YORK)

    assert order.state == OrderState.ACCEPTED
    assert order.route.is_split and order.route.split_fee == Decimal("4.50")
    assert level(shirt, sites["NJ"]).allocated == 1 and level(cap, sites["NV"]).allocated == 1
    assert not ExceptionItem.objects.filter(object_id=order.pk, state=ExceptionState.OPEN).exists()


def test_an_order_nothing_can_route_falls_back_to_the_default_facility_and_is_held_short(brand, facility):
    SkuFactory(brand=brand, code="GHOST")

    order = ingest(brand, line("GHOST", 1), pid="G-1")

    assert order.state == OrderState.ON_HOLD and order.hold_reasons[0]["code"] == "short"
    assert order.facility == facility


def test_a_manual_order_is_routed_too(brand, sites, operator_with_manual_entry):
    sku = SkuFactory(brand=brand, code="MUG")
    receive(sku, sites["NV"], 3, "nv-mug")
    canonical = CanonicalOrderFactory(platform_order_id="M-1", lines=(line("MUG", 1),),
                                      address=CanonicalAddressFactory(**NEW_YORK))  # fmt: skip

    order = order_create_manual(brand=brand, canonical=canonical, actor=operator_with_manual_entry)

    assert order.state == OrderState.ACCEPTED and order.facility == sites["NV"] and order.is_manual_entry


@pytest.fixture
def operator_with_manual_entry(db):
    from tests.conftest import grant
    from tests.factories import UserFactory

    return grant(UserFactory(username="desk"), "orders.operate_order", "orders.add_order")


# --- contract reservations ----------------------------------------------------------------------------------------


@pytest.fixture
def tee(brand, facility):
    sku = SkuFactory(brand=brand, code="TEE")
    receive(sku, facility, 5, "rcv-tee")
    return sku


def test_an_ordinary_order_cannot_take_units_reserved_for_a_wholesale_contract(brand, facility, tee):
    contract_reservation_create(brand=brand, customer="Big Retail", sku=tee, facility=facility, quantity=3, actor=None)
    assert (level(tee, facility).reserved, level(tee, facility).available) == (3, 2)

    greedy = ingest(brand, line("TEE", 3), pid="D-1")
    modest = ingest(brand, line("TEE", 2), pid="D-2")

    assert greedy.state == OrderState.ON_HOLD and greedy.hold_reasons[0]["code"] == "short"
    assert modest.state == OrderState.ACCEPTED
    now = level(tee, facility)
    assert (now.reserved, now.allocated, now.available) == (3, 2, 0)


def test_a_wholesale_order_takes_its_own_reservation_and_no_other_customers(brand, facility, tee):
    ours = contract_reservation_create(brand=brand, customer="Big Retail", sku=tee, facility=facility, quantity=2,
                                       actor=None)  # fmt: skip
    theirs = contract_reservation_create(brand=brand, customer="Other Shop", sku=tee, facility=facility, quantity=2,
                                         actor=None)  # fmt: skip

    order = ingest(brand, line("TEE", 2), pid="W-1", priority="wholesale", name="Big Retail")

    assert order.state == OrderState.ACCEPTED
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert (ours.drawn, theirs.drawn) == (2, 0)
    now = level(tee, facility)
    assert (now.reserved, now.allocated, now.available) == (2, 2, 1)  # the other contract's 2 still ring-fenced
    moved = Movement.objects.get(event_id=f"order:{order.pk}:allocate_reserved:1")
    assert moved.kind == MovementKind.ALLOCATE_RESERVED and moved.reserved_delta == -2


def test_a_wholesale_order_beyond_every_reservation_cannot_take_another_contracts_units(brand, facility, tee):
    contract_reservation_create(brand=brand, customer="Big Retail", sku=tee, facility=facility, quantity=1, actor=None)
    contract_reservation_create(brand=brand, customer="Other Shop", sku=tee, facility=facility, quantity=4, actor=None)

    order = ingest(brand, line("TEE", 2), pid="W-2", priority="wholesale", name="Big Retail")

    assert order.state == OrderState.ON_HOLD and order.hold_reasons[0]["code"] == "short"
    now = level(tee, facility)
    assert (now.reserved, now.allocated, now.available) == (5, 0, 0)


def test_a_cancelled_wholesale_order_gives_its_units_back_to_its_contract(brand, facility, tee):
    reservation = contract_reservation_create(brand=brand, customer="Big Retail", sku=tee, facility=facility,
                                              quantity=3, actor=None)  # fmt: skip
    order = ingest(brand, line("TEE", 3), pid="W-3", priority="wholesale", name="Big Retail")
    assert order.state == OrderState.ACCEPTED

    order_cancel(order=order, actor=None, reason="contract order withdrawn")
    ordinary = ingest(brand, line("TEE", 3), pid="D-3")

    reservation.refresh_from_db()
    assert reservation.drawn == 0
    assert ordinary.state == OrderState.ON_HOLD  # the 3 units are ring-fenced again, not free for everyone
    now = level(tee, facility)
    assert (now.reserved, now.allocated, now.available) == (3, 0, 2)


def test_a_reservation_made_before_the_stock_arrives_takes_it_before_waiting_ordinary_orders(brand, facility):
    sku = SkuFactory(brand=brand, code="HAT")
    contract_reservation_create(brand=brand, customer="Big Retail", sku=sku, facility=facility, quantity=3, actor=None)
    ordinary = ingest(brand, line("HAT", 2), pid="D-4")
    assert ordinary.state == OrderState.ON_HOLD

    receive(sku, facility, 4, "rcv-hat")
    run = allocation_run_waiting(brand=brand, facility=facility)

    assert run.still_short == [ordinary.pk]
    now = level(sku, facility)
    assert (now.reserved, now.allocated, now.available) == (3, 0, 1)


# --- pre-orders ---------------------------------------------------------------------------------------------------


def test_a_pre_order_is_not_accepted_against_current_stock(brand, facility, tee):
    scheduled_inbound_create(brand=brand, sku=tee, facility=facility, quantity=10, preorder_limit=4,
                             expected_on=dt.date(2026, 12, 10), actor=None)  # fmt: skip

    preorder = ingest(brand, line("TEE", 2), pid="P-1", priority="preorder")

    assert preorder.state == OrderState.ON_HOLD
    reason = preorder.hold_reasons[0]
    assert reason["code"] == "awaiting_inbound" and "2026-12-10" in reason["message"]
    assert level(tee, facility).allocated == 0 and level(tee, facility).available == 5


def test_a_pre_order_is_accepted_in_policy_order_once_its_inbound_is_received(brand, facility, tee):
    inbound = scheduled_inbound_create(brand=brand, sku=tee, facility=facility, quantity=3, preorder_limit=3,
                                       expected_on=dt.date(2026, 12, 10), actor=None)  # fmt: skip
    preorder = ingest(brand, line("TEE", 3), pid="P-2", priority="preorder", paid_at=T0 + dt.timedelta(hours=2))
    dtc = ingest(brand, line("TEE", 5), pid="S-2", paid_at=T0)  # takes the current stock
    late_dtc = ingest(brand, line("TEE", 3), pid="S-3", paid_at=T0 + dt.timedelta(hours=1))
    assert (dtc.state, late_dtc.state, preorder.state) == (OrderState.ACCEPTED, OrderState.ON_HOLD, OrderState.ON_HOLD)

    assert allocation_run_waiting(brand=brand, facility=facility).awaiting_inbound == [preorder.pk]
    scheduled_inbound_receive(inbound=inbound, quantity=3, event_id="inbound-p2", actor=None)
    # The receipt allocates the pre-order that claimed the inbound, in the same transaction.
    assert Order.objects.get(pk=preorder.pk).state == OrderState.ACCEPTED
    run = allocation_run_waiting(brand=brand, facility=facility)

    assert run.accepted == [] and run.still_short == [late_dtc.pk]


def test_a_split_order_is_routed_again_when_retried_and_ships_whole_once_one_facility_holds_everything(brand, sites):
    shirt, cap = SkuFactory(brand=brand, code="SHIRT"), SkuFactory(brand=brand, code="CAP")
    receive(shirt, sites["NJ"], 2, "nj-shirt")
    receive(cap, sites["NV"], 2, "nv-cap")
    order = ingest(brand, line("SHIRT", 1), line("CAP", 1), pid="SPLIT-2", address=NEW_YORK)
    order_cancel(order=order, actor=None, reason="test set-up: free the legs")
    # Held for its split (a split that lost the race for stock, or one held before splits shipped): `split_route`.
    Order.objects.filter(pk=order.pk).update(
        state=OrderState.ON_HOLD, hold_reasons=[{"code": "split_route", "message": "short of stock for its split"}]
    )

    receive(cap, sites["NJ"], 1, "nj-cap")
    order = order_accept(order=Order.objects.get(pk=order.pk), actor=None)

    assert order.state == OrderState.ACCEPTED and order.facility == sites["NJ"]
    assert not OrderRoute.objects.get(order=order).is_split


def test_a_wholesale_order_cancelled_while_picking_puts_its_units_back_under_its_contract(brand, facility, tee):
    from orders.services import order_release_to_pick

    reservation = contract_reservation_create(brand=brand, customer="Big Retail", sku=tee, facility=facility,
                                              quantity=2, actor=None)  # fmt: skip
    order = ingest(brand, line("TEE", 2), pid="W-5", priority="wholesale", name="Big Retail")
    order = order_release_to_pick(order=order, actor=None)
    assert level(tee, facility).in_pick == 2

    order_cancel(order=order, actor=None, reason="retailer cancelled the drop")
    contract_reservations_fill(facility=facility, sku_ids=[tee.pk])

    reservation.refresh_from_db()
    assert reservation.drawn == 0
    now = level(tee, facility)
    assert (now.in_pick, now.reserved, now.available) == (0, 2, 3)
