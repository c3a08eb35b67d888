"""Cutoffs are a contract per brand, channel and facility, in the facility's time zone; ship-by is computed at
ingestion and a marketplace's handling time is a hard deadline."""

import datetime as dt

import pytest

from orders.allocation.cutoffs import ship_by_compute
from orders.allocation.services import cutoff_set
from tests.factories import FacilityFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture
def madrid(db):
    return FacilityFactory(code="MAD1", time_zone="Europe/Madrid")


def test_order_paid_before_the_cutoff_in_the_facility_time_zone_ships_that_day(brand, madrid):
    cutoff_set(brand=brand, facility=madrid, platform="shopify", cutoff_time=dt.time(14, 0), actor=None)
    paid = dt.datetime(2026, 11, 24, 12, 30, tzinfo=UTC)  # Tuesday 13:30 in Madrid

    ship_by = ship_by_compute(brand=brand, facility=madrid, platform="shopify", paid_at=paid)

    assert ship_by.at == dt.datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 14:00 Madrid
    assert not ship_by.hard


def test_order_paid_after_the_cutoff_ships_the_next_ship_day_skipping_the_weekend(brand, madrid):
    cutoff_set(brand=brand, facility=madrid, platform="shopify", cutoff_time=dt.time(14, 0), actor=None)
    friday_late = dt.datetime(2026, 11, 27, 13, 30, tzinfo=UTC)  # Friday 14:30 in Madrid

    ship_by = ship_by_compute(brand=brand, facility=madrid, platform="shopify", paid_at=friday_late)

    assert ship_by.at == dt.datetime(2026, 11, 30, 13, 0, tzinfo=UTC)  # Monday 14:00


def test_the_channel_cutoff_wins_over_the_brand_default_and_handling_days_count_ship_days(brand, madrid):
    cutoff_set(brand=brand, facility=madrid, cutoff_time=dt.time(17, 0), actor=None)
    cutoff_set(brand=brand, facility=madrid, platform="etsy", cutoff_time=dt.time(11, 0), handling_days=2, actor=None)
    paid = dt.datetime(2026, 11, 26, 9, 0, tzinfo=UTC)  # Thursday 10:00 Madrid

    default = ship_by_compute(brand=brand, facility=madrid, platform="shopify", paid_at=paid)
    etsy = ship_by_compute(brand=brand, facility=madrid, platform="etsy", marketplace=True, paid_at=paid)

    assert default.at == dt.datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
    assert etsy.at == dt.datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # Thu + 2 ship days = Mon 11:00
    assert etsy.hard and not default.hard  # a marketplace channel's handling time is a contract


def test_hardness_comes_from_the_channel_not_from_the_platforms_name(brand, madrid):
    cutoff_set(brand=brand, facility=madrid, platform="etsy", cutoff_time=dt.time(11, 0), actor=None)
    paid = dt.datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    storefront = ship_by_compute(brand=brand, facility=madrid, platform="etsy", paid_at=paid)
    marketplace = ship_by_compute(brand=brand, facility=madrid, platform="shopify", marketplace=True, paid_at=paid)

    assert not storefront.hard and marketplace.hard


def test_a_marketplace_promised_ship_by_earlier_than_the_cutoff_plan_is_the_hard_deadline(brand, madrid):
    paid = dt.datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    promised = dt.datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

    ship_by = ship_by_compute(brand=brand, facility=madrid, platform="amazon", paid_at=paid, promised_ship_by=promised)

    assert ship_by.at == promised and ship_by.hard and ship_by.source == "platform"


def test_cutoff_changes_are_kept_in_history_with_who_and_why(brand, madrid, manager):
    cutoff = cutoff_set(brand=brand, facility=madrid, cutoff_time=dt.time(15, 0), actor=manager, reason="contract")
    cutoff_set(brand=brand, facility=madrid, cutoff_time=dt.time(16, 0), actor=manager, reason="peak season")

    rows = list(cutoff.history.order_by("history_date"))
    assert [r.cutoff_time for r in rows] == [dt.time(15, 0), dt.time(16, 0)]
    assert rows[-1].history_user == manager and rows[-1].history_change_reason == "peak season"
