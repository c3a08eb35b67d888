"""One pool advertised everywhere, less each channel's safety buffer; FBA, wholesale reservations and pre-orders
are the exceptions; kits publish derived availability. Every stock event marks its SKU dirty and a publishing
cycle writes the latest number once per SKU and connection (seed 000 §03–04, seed 002 "Promo load")."""

import datetime as dt

import pytest
from django.db import connection as db

from integrations.models import ConnectionStatus
from integrations.publishing.models import DirtyStock, PoolKind, PublishedLevel
from integrations.publishing.pool import sellable
from integrations.publishing.services import publish_settings_set, publishing_run_cycle
from integrations.services import connection_pause_for_credentials
from inventory.services import (
    kit_set_components,
    stock_adjust,
    stock_allocate,
    stock_receive,
    stock_start_pick,
)
from orders.allocation.services import (
    contract_reservation_create,
    preorder_claim,
    scheduled_inbound_create,
)
from tests.factories import FacilityFactory
from tests.integrations.factories import ConnectionFactory, WooConnectionFactory
from tests.inventory.factories import KitFactory, SkuFactory
from tests.publishing.factories import ListingFactory
from warehouse.models import SalesChannel

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sites(db):
    return FacilityFactory(code="VLC1"), FacilityFactory(code="LEJ1", country="DE", time_zone="Europe/Berlin")


def _receive(sku, facility, n, tag="r"):
    stock_receive(sku=sku, facility=facility, quantity=n, event_id=f"{tag}-{sku.code}-{facility.code}", actor=None)


def test_the_pool_is_available_across_facilities_less_contract_reservations_plus_preorder_stock(brand, two_sites):
    vlc, lej = two_sites
    sku = SkuFactory(brand=brand)
    _receive(sku, vlc, 10)
    _receive(sku, lej, 5)
    stock_allocate(facility=vlc, lines=[(sku, 3)], event_id="alloc-1", actor=None)
    contract_reservation_create(brand=brand, customer="Retailer", sku=sku, facility=lej, quantity=4, actor=None)
    scheduled_inbound_create(
        brand=brand,
        sku=sku,
        facility=vlc,
        quantity=50,
        preorder_limit=20,
        expected_on=dt.date(2026, 12, 20),
        actor=None,
    )
    preorder_claim(sku=sku, quantity=6)

    assert sellable([sku])[sku.pk] == (10 - 3) + (5 - 4) + (20 - 6)


def test_a_kit_publishes_its_derived_availability_built_in_one_facility(brand, two_sites):
    vlc, lej = two_sites
    kit, soap, towel = KitFactory(brand=brand), SkuFactory(brand=brand), SkuFactory(brand=brand)
    kit_set_components(kit=kit, components=[(soap, 2), (towel, 1)], actor=None)
    _receive(soap, vlc, 7)  # 3 kits of soap, but only 1 towel here
    _receive(towel, vlc, 1)
    _receive(soap, lej, 4)
    _receive(towel, lej, 9)

    assert sellable([kit])[kit.pk] == 1 + 2


def test_every_stock_event_that_changes_availability_marks_the_sku_dirty_once(brand, two_sites):
    vlc, _ = two_sites
    sku, other = SkuFactory(brand=brand), SkuFactory(brand=brand)
    _receive(sku, vlc, 10)
    for i in range(5):
        stock_allocate(facility=vlc, lines=[(sku, 1)], event_id=f"a-{i}", actor=None)
    assert list(DirtyStock.objects.values_list("sku_id", flat=True)) == [sku.pk]
    assert DirtyStock.objects.get().version == 6  # receive + 5 allocations, one row

    DirtyStock.objects.all().delete()
    stock_start_pick(facility=vlc, lines=[(sku, 2)], event_id="pick-1", actor=None)  # allocated → in pick
    assert not DirtyStock.objects.exists()  # available did not change: nothing to tell the channels
    assert not DirtyStock.objects.filter(sku=other).exists()


@pytest.mark.postgresql
def test_movements_written_by_raw_sql_still_mark_the_sku_dirty(brand, two_sites):
    vlc, _ = two_sites
    sku = SkuFactory(brand=brand)
    with db.cursor() as cursor:
        cursor.execute(
            "INSERT INTO inventory_movement (event_id, line, kind, sku_id, facility_id, quantity, on_hand_delta,"
            " allocated_delta, in_pick_delta, quarantine_delta, damaged_delta, inbound_delta, reserved_delta, reason,"
            " reference, detail, created_at) VALUES ('raw-1', 1, 'receive', %s, %s, 1, 1, 0, 0, 0, 0, 0, 0, '', '',"
            " '{}', now())",
            [sku.pk, vlc.pk],
        )
    assert DirtyStock.objects.filter(sku=sku).exists()


def test_a_burst_of_stock_events_is_one_write_per_sku_and_connection_with_the_latest_number(brand, two_sites):
    vlc, _ = two_sites
    shop, woo = ConnectionFactory(brand=brand), WooConnectionFactory(brand=brand)
    publish_settings_set(connection=woo, safety_buffer=2)
    hot, cold, unlisted = SkuFactory(brand=brand), SkuFactory(brand=brand), SkuFactory(brand=brand)
    for conn in (shop, woo):
        for sku in (hot, cold):
            ListingFactory(connection=conn, sku=sku)
    _receive(unlisted, vlc, 3)  # not sold on these channels: never written
    _receive(hot, vlc, 100)
    _receive(cold, vlc, 10)
    for i in range(40):
        stock_allocate(facility=vlc, lines=[(hot, 1)], event_id=f"promo-{i}", actor=None)
    stock_adjust(sku=cold, facility=vlc, delta=-1, event_id="broken", actor=None, reason="broken in aisle")

    result = publishing_run_cycle()

    levels = {(lvl.connection_id, lvl.sku_id): lvl for lvl in PublishedLevel.objects.all()}
    assert result.written == 4
    assert {key: (lvl.quantity, lvl.writes) for key, lvl in levels.items()} == {
        (shop.pk, hot.pk): (60, 1),
        (shop.pk, cold.pk): (9, 1),
        (woo.pk, hot.pk): (58, 1),
        (woo.pk, cold.pk): (7, 1),
    }
    assert publishing_run_cycle().written == 0  # nothing dirty: nothing written


def test_an_unchanged_number_is_not_written_again_and_channel_owned_and_paused_pools_are_never_written(
    brand, two_sites
):
    vlc, _ = two_sites
    shop = ConnectionFactory(brand=brand)
    fba = ConnectionFactory(brand=brand)
    publish_settings_set(connection=fba, pool=PoolKind.CHANNEL_OWNED)
    paused = ConnectionFactory(brand=brand)
    connection_pause_for_credentials(connection=paused, note="401 on write")
    sku = SkuFactory(brand=brand)
    for conn in (shop, fba, paused):
        ListingFactory(connection=conn, sku=sku)
    _receive(sku, vlc, 5)
    publishing_run_cycle()
    stock_adjust(sku=sku, facility=vlc, delta=2, event_id="found", actor=None, reason="found")
    stock_adjust(sku=sku, facility=vlc, delta=-2, event_id="lost", actor=None, reason="lost again")

    result = publishing_run_cycle()

    assert result.claimed == 1 and result.written == 0 and result.unchanged == 1
    assert set(PublishedLevel.objects.values_list("connection_id", flat=True)) == {shop.pk}
    paused.refresh_from_db()
    assert paused.status == ConnectionStatus.PAUSED_CREDENTIALS and fba.pk


def test_a_component_event_republishes_the_kits_built_from_it(brand, two_sites):
    vlc, _ = two_sites
    shop = ConnectionFactory(brand=brand)
    kit, soap = KitFactory(brand=brand), SkuFactory(brand=brand)
    kit_set_components(kit=kit, components=[(soap, 2)], actor=None)
    ListingFactory(connection=shop, sku=kit)
    _receive(soap, vlc, 8)

    publishing_run_cycle()

    assert PublishedLevel.objects.get(connection=shop, sku=kit).quantity == 4


def test_a_connection_left_on_a_platform_without_a_connector_never_blocks_the_others(brand, two_sites):
    vlc, _ = two_sites
    shop, legacy = ConnectionFactory(brand=brand), ConnectionFactory(brand=brand)
    sku = SkuFactory(brand=brand)
    ListingFactory(connection=shop, sku=sku)
    ListingFactory(connection=legacy, sku=sku)
    # A row from before the registry refused unknown platforms (save() would refuse it now).
    SalesChannel.objects.filter(pk=legacy.channel_id).update(platform_code="ebay")
    _receive(sku, vlc, 4)

    result = publishing_run_cycle()

    assert result.written == 1
    assert list(PublishedLevel.objects.values_list("connection_id", "quantity")) == [(shop.pk, 4)]
    assert not DirtyStock.objects.exists()
