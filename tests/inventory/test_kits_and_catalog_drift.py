"""Seed 001 "Bundle / Kit Logic": kit availability = min over components of ⌊available ÷ quantity per kit⌋; a kit
order allocates, picks and ships its components, never a phantom kit stock. Catalog drift: SKUs missing weight,
dimensions or HS code are counted and listed."""

import pytest

from inventory.kits import kit_available
from inventory.models import Movement, StockLevel
from inventory.selectors import catalog_drift, sku_available, sku_missing_fields
from inventory.services import (
    catalog_drift_open_exceptions,
    kit_set_components,
    stock_allocate,
    stock_quarantine,
    stock_receive,
    stock_ship,
    stock_start_pick,
)
from inventory.tasks import catalog_drift_check
from tests.factories import FacilityFactory
from tests.inventory.factories import DefinedSkuFactory, KitFactory, SkuFactory
from warehouse.errors import InsufficientStock, InvalidInput
from warehouse.models import ExceptionItem, ExceptionKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def gift_box(brand, facility):
    """A kit of 2 mugs and 3 spoons, with 9 mugs and 10 spoons on hand."""
    mug, spoon = SkuFactory(brand=brand, code="MUG"), SkuFactory(brand=brand, code="SPOON")
    kit = KitFactory(brand=brand, code="GIFT-BOX")
    kit_set_components(kit=kit, components=[(mug, 2), (spoon, 3)], actor=None)
    stock_receive(sku=mug, facility=facility, quantity=9, event_id="rcv-mug", actor=None)
    stock_receive(sku=spoon, facility=facility, quantity=10, event_id="rcv-spoon", actor=None)
    return kit, mug, spoon


def test_kit_availability_is_the_minimum_over_components_of_available_divided_by_quantity_per_kit(gift_box, facility):
    kit, _mug, spoon = gift_box
    assert kit_available(sku=kit, facility=facility) == 3  # min(⌊9/2⌋=4, ⌊10/3⌋=3)
    stock_quarantine(sku=spoon, facility=facility, quantity=2, event_id="q-spoon", actor=None, reason="chipped")
    assert kit_available(sku=kit, facility=facility) == 2  # spoons available 8 → ⌊8/3⌋
    assert sku_available(sku=kit, facility=facility) == 2


def test_a_kit_whose_component_has_no_stock_row_has_none_available(brand, facility, gift_box):
    kit, _, _ = gift_box
    kit_set_components(kit=kit, components=[(SkuFactory(brand=brand), 1)], actor=None)
    assert kit_available(sku=kit, facility=facility) == 0


def test_kit_availability_without_a_facility_is_summed_per_facility_not_mixed_across_them(brand, facility, gift_box):
    kit, mug, _spoon = gift_box
    other = FacilityFactory(code="MAD1")
    stock_receive(sku=mug, facility=other, quantity=20, event_id="rcv-mug-mad", actor=None)
    # Madrid has mugs but no spoons: its kits are 0, not borrowed from Valencia's spoons.
    assert kit_available(sku=kit, facility=other) == 0
    assert kit_available(sku=kit) == 3


def test_allocating_a_kit_moves_component_stock_and_creates_no_kit_stock(gift_box, facility):
    kit, mug, spoon = gift_box
    result = stock_allocate(facility=facility, lines=[(kit, 2), (mug, 1)], event_id="order-1", actor=None)
    assert not StockLevel.objects.filter(sku=kit).exists()
    assert not Movement.objects.filter(sku=kit).exists()
    mug_level, spoon_level = StockLevel.objects.get(sku=mug), StockLevel.objects.get(sku=spoon)
    assert (mug_level.allocated, spoon_level.allocated) == (5, 6)  # 2×2 + 1 mugs, 2×3 spoons
    assert {m.sku_id: m.quantity for m in result.movements} == {mug.pk: 5, spoon.pk: 6}
    assert result.movements[1].detail == {"kits": {"GIFT-BOX": 2}}
    assert kit_available(sku=kit, facility=facility) == 1  # mugs 4 → 2, spoons 4 → 1


def test_picking_and_shipping_a_kit_move_its_components(gift_box, facility):
    kit, mug, spoon = gift_box
    stock_allocate(facility=facility, lines=[(kit, 1)], event_id="a", actor=None)
    stock_start_pick(facility=facility, lines=[(kit, 1)], event_id="p", actor=None)
    assert StockLevel.objects.get(sku=mug).in_pick == 2 and StockLevel.objects.get(sku=spoon).in_pick == 3
    stock_ship(facility=facility, lines=[(kit, 1)], event_id="s", actor=None)
    mug_level, spoon_level = StockLevel.objects.get(sku=mug), StockLevel.objects.get(sku=spoon)
    assert (mug_level.on_hand, mug_level.in_pick, spoon_level.on_hand, spoon_level.in_pick) == (7, 0, 7, 0)
    assert not StockLevel.objects.filter(sku=kit).exists()


def test_a_kit_short_of_one_component_is_refused_naming_the_component_and_nothing_is_allocated(gift_box, facility):
    kit, mug, _spoon = gift_box
    with pytest.raises(InsufficientStock) as excinfo:
        stock_allocate(facility=facility, lines=[(kit, 4)], event_id="too-many", actor=None)
    assert [r.message for r in excinfo.value.reasons] == ["SPOON: requested 12, available 10 at VLC1"]
    assert StockLevel.objects.get(sku=mug).allocated == 0
    assert not Movement.objects.filter(event_id="too-many").exists()


def test_a_kit_has_no_stock_of_its_own_to_receive(gift_box, facility):
    kit, _, _ = gift_box
    with pytest.raises(InvalidInput) as excinfo:
        stock_receive(sku=kit, facility=facility, quantity=1, event_id="rcv-kit", actor=None)
    assert [r.code for r in excinfo.value.reasons] == ["kit_has_no_stock"]


def test_a_kit_definition_names_every_problem(brand, other_brand, gift_box):
    kit, mug, _ = gift_box
    other_kit = KitFactory(brand=brand)
    with pytest.raises(InvalidInput) as excinfo:
        kit_set_components(kit=kit, components=[(other_kit, 1), (SkuFactory(brand=other_brand), 1), (mug, 0)],
                           actor=None)  # fmt: skip
    assert [r.code for r in excinfo.value.reasons] == ["nested_kit", "other_brand", "quantity_not_positive"]
    assert kit.components.count() == 2


def test_redefining_a_kit_replaces_its_components(brand, gift_box):
    kit, mug, _spoon = gift_box
    kit_set_components(kit=kit, components=[(mug, 1)], actor=None)
    assert list(kit.components.values_list("component__code", "quantity")) == [("MUG", 1)]


def test_skus_missing_weight_dimensions_or_hs_code_are_counted_and_listed_as_catalog_drift(brand, other_brand):
    SkuFactory(brand=brand, code="COMPLETE")
    no_weight = SkuFactory(brand=brand, code="NO-WEIGHT", weight_grams=None)
    no_height = SkuFactory(brand=brand, code="NO-HEIGHT", height_mm=None)
    no_hs = SkuFactory(brand=brand, code="NO-HS", hs_code="")
    theirs = DefinedSkuFactory(brand=other_brand, code="BARE")
    drift = catalog_drift(brand=brand)
    assert drift.count() == 3
    assert [s.code for s in drift] == ["NO-HEIGHT", "NO-HS", "NO-WEIGHT"]
    assert catalog_drift().count() == 4
    assert sku_missing_fields(no_weight) == ["weight"]
    assert sku_missing_fields(no_height) == ["dimensions"]
    assert sku_missing_fields(no_hs) == ["HS code"]
    assert sku_missing_fields(theirs) == ["weight", "dimensions", "HS code"]


def test_the_catalog_drift_list_reads_in_a_fixed_number_of_queries(brand, django_assert_max_num_queries):
    for n in range(20):
        SkuFactory(brand=brand, hs_code="", code=f"D{n}")
    with django_assert_max_num_queries(1):
        rows = [(s.code, s.brand.name, sku_missing_fields(s)) for s in catalog_drift()]
    assert len(rows) == 20


def test_each_drifting_sku_opens_one_catalog_drift_exception_naming_what_is_missing(brand):
    SkuFactory(brand=brand, code="COMPLETE")
    sku = SkuFactory(brand=brand, code="BARE", weight_grams=None, hs_code="")
    assert catalog_drift_open_exceptions() == 1
    item = ExceptionItem.objects.get(kind=ExceptionKind.CATALOG_DRIFT)
    assert item.subject == sku and item.brand == brand
    assert [r["code"] for r in item.reasons] == ["weight_missing", "hs_code_missing"]
    assert catalog_drift_check() == 1 and ExceptionItem.objects.count() == 1  # the daily task adds no duplicate
