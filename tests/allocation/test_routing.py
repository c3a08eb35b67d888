"""Routing (seed 000 §04): nearest facility to the destination that holds all the stock and can still meet the
cutoff; a split only when no single facility can, with the estimated split fee."""

import datetime as dt
from decimal import Decimal

import pytest

from inventory.services import kit_set_components, stock_receive
from orders.allocation.routing import Destination, route_order
from orders.allocation.services import allocation_policy_update, contract_reservation_create, cutoff_set
from tests.factories import FacilityFactory
from tests.inventory.factories import KitFactory, SkuFactory

pytestmark = pytest.mark.django_db

EAST = Destination(country="US", postal_code="10001")  # New York


@pytest.fixture
def sites():
    """Three US facilities: New Jersey (nearest New York), Ohio, Nevada."""
    return {
        "NJ": FacilityFactory(code="NJ1", country="US", postal_code="07001", time_zone="America/New_York"),
        "OH": FacilityFactory(code="OH1", country="US", postal_code="43004", time_zone="America/New_York"),
        "NV": FacilityFactory(code="NV1", country="US", postal_code="89501", time_zone="America/Los_Angeles"),
    }


def _stock(sku, facility, quantity):
    stock_receive(sku=sku, facility=facility, quantity=quantity, event_id=f"rcv-{sku.code}-{facility.code}", actor=None)


def test_order_goes_to_the_nearest_facility_that_holds_all_its_stock(brand, sites):
    shirt, cap = SkuFactory(brand=brand), SkuFactory(brand=brand)
    _stock(shirt, sites["NJ"], 5)  # nearest, but no caps
    for site in ("OH", "NV"):
        _stock(shirt, sites[site], 5)
        _stock(cap, sites[site], 5)

    plan = route_order(brand=brand, lines=[(shirt, 2), (cap, 1)], destination=EAST)

    assert plan.facility == sites["OH"]
    assert not plan.is_split and plan.split_fee == Decimal("0.00") and not plan.short


def test_nearest_is_by_coordinates_when_both_sides_have_them(brand, sites):
    sku = SkuFactory(brand=brand)
    sites["NV"].latitude, sites["NV"].longitude = Decimal("39.53"), Decimal("-119.81")
    sites["NJ"].latitude, sites["NJ"].longitude = Decimal("40.73"), Decimal("-74.17")
    for site in ("NV", "NJ"):
        sites[site].save()
        _stock(sku, sites[site], 3)

    plan = route_order(
        brand=brand, lines=[(sku, 1)], destination=Destination(country="US", latitude=37.77, longitude=-122.42)
    )

    assert plan.facility == sites["NV"]


def test_order_splits_only_when_no_single_facility_holds_everything(brand, sites):
    allocation_policy_update(brand=brand, actor=None, reason="contract", split_fee=Decimal("3.75"))
    shirt, cap = SkuFactory(brand=brand), SkuFactory(brand=brand)
    _stock(shirt, sites["NJ"], 2)
    _stock(cap, sites["NV"], 2)

    plan = route_order(brand=brand, lines=[(shirt, 2), (cap, 2)], destination=EAST)

    assert plan.is_split
    assert {(leg.facility.code, sku.code, n) for leg in plan.legs for sku, n in leg.lines} == {
        ("NJ1", shirt.code, 2),
        ("NV1", cap.code, 2),
    }
    assert plan.split_fee == Decimal("3.75")


def test_no_split_when_the_policy_forbids_it_and_the_order_is_held_short(brand, sites):
    allocation_policy_update(brand=brand, actor=None, reason="no splits", split_allowed=False)
    shirt, cap = SkuFactory(brand=brand), SkuFactory(brand=brand)
    _stock(shirt, sites["NJ"], 2)
    _stock(cap, sites["NV"], 2)

    plan = route_order(brand=brand, lines=[(shirt, 2), (cap, 2)], destination=EAST)

    assert plan.legs == [] and plan.short and plan.short[0].code == "short"


def test_demand_beyond_all_stock_is_short_naming_the_sku(brand, sites):
    sku = SkuFactory(brand=brand, code="LAST")
    _stock(sku, sites["NJ"], 1)
    _stock(sku, sites["OH"], 1)

    plan = route_order(brand=brand, lines=[(sku, 3)], destination=EAST)

    assert plan.legs == []
    assert "LAST: needs 3, 2 free" in plan.short[0].message


def test_a_facility_past_its_cutoff_loses_to_one_that_can_still_meet_the_marketplace_deadline(brand, sites):
    sku = SkuFactory(brand=brand)
    _stock(sku, sites["NJ"], 3)
    _stock(sku, sites["NV"], 3)
    for site in ("NJ", "NV"):
        cutoff_set(brand=brand, facility=sites[site], platform="amazon", cutoff_time=dt.time(16, 0), actor=None)
    # 17:00 in New Jersey (past its 16:00 cutoff) is 14:00 in Nevada; Amazon wants it shipped today.
    now = dt.datetime(2026, 11, 24, 22, 0, tzinfo=dt.UTC)
    deadline = dt.datetime(2026, 11, 25, 0, 0, tzinfo=dt.UTC)  # 16:00 Pacific

    plan = route_order(brand=brand, lines=[(sku, 1)], destination=EAST, platform="amazon", now=now, deadline=deadline)
    assert plan.facility == sites["NV"] and plan.cutoff_met

    relaxed = route_order(brand=brand, lines=[(sku, 1)], destination=EAST, platform="amazon", now=now)
    assert relaxed.facility == sites["NJ"]  # no platform deadline: the nearest, shipping on its next cutoff


def test_units_reserved_by_contract_are_invisible_to_ordinary_orders_but_not_to_their_customer(brand, sites):
    sku = SkuFactory(brand=brand)
    _stock(sku, sites["NJ"], 4)
    contract_reservation_create(
        brand=brand, customer="Big Retail", sku=sku, facility=sites["NJ"], quantity=3, actor=None
    )

    assert route_order(brand=brand, lines=[(sku, 2)], destination=EAST).short
    assert route_order(brand=brand, lines=[(sku, 1)], destination=EAST).facility == sites["NJ"]
    assert route_order(brand=brand, lines=[(sku, 4)], destination=EAST, customer="Big Retail").facility == sites["NJ"]


def test_a_kit_routes_where_all_its_components_are(brand, sites):
    kit, soap, towel = KitFactory(brand=brand), SkuFactory(brand=brand), SkuFactory(brand=brand)
    kit_set_components(kit=kit, components=[(soap, 2), (towel, 1)], actor=None)
    _stock(soap, sites["NJ"], 2)  # one kit's worth of soap, no towel
    _stock(soap, sites["OH"], 4)
    _stock(towel, sites["OH"], 2)

    plan = route_order(brand=brand, lines=[(kit, 2)], destination=EAST)

    assert plan.facility == sites["OH"]


def test_the_route_and_its_split_fee_are_recorded_on_the_order_and_listed_in_the_brand_view(
    brand, sites, django_assert_max_num_queries
):
    from orders.allocation.models import OrderRoute
    from orders.allocation.selectors import split_orders
    from orders.allocation.services import order_route_decide
    from orders.services import order_ingest
    from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line

    shirt, cap = SkuFactory(brand=brand, code="SHIRT"), SkuFactory(brand=brand, code="CAP")
    _stock(shirt, sites["NJ"], 2)
    _stock(cap, sites["NV"], 2)
    address = CanonicalAddressFactory(country="US", postal_code="10001", city="New York")
    split = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="SPLIT-1", address=address,
                                        lines=(line("SHIRT", 1), line("CAP", 1))),
        brand=brand, source="manual",
    ).order  # fmt: skip
    single = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="ONE-1", address=address, lines=(line("SHIRT", 1),)),
        brand=brand, source="manual",
    ).order  # fmt: skip

    route = OrderRoute.objects.get(order=split)  # decided at ingestion (the split is allocated since)
    order_route_decide(order=single)

    assert route.is_split and route.split_fee == Decimal("4.50")
    assert {leg["facility"] for leg in route.legs} == {"NJ1", "NV1"}
    assert split.route.split_fee == Decimal("4.50")
    with django_assert_max_num_queries(2):
        listed = [(r.order.platform_order_id, r.split_fee) for r in split_orders(brand=brand)]
    assert listed == [("SPLIT-1", Decimal("4.50"))]
