"""Seed 001 "Stable identifiers": an old SKU code resolves to the same SKU during its transition window (30 days by
default) and is refused after it, naming the new code; legacy barcodes keep resolving after their window with a
warning, never a failure."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Barcode, SkuAlias
from inventory.selectors import sku_available
from inventory.services import (
    sku_change_barcode,
    sku_change_code,
    sku_resolve,
    sku_resolve_barcode,
    stock_receive,
)
from tests.inventory.factories import SkuFactory
from warehouse.errors import Conflict, InvalidInput

pytestmark = pytest.mark.django_db


def _codes(excinfo):
    return [r.code for r in excinfo.value.reasons]


def test_after_a_code_change_both_codes_resolve_to_the_same_sku_during_the_window(brand):
    sku = SkuFactory(brand=brand, code="old-sku-123")
    alias = sku_change_code(sku=sku, new_code="new-sku-456", actor=None)
    assert alias.valid_until - alias.valid_from == timedelta(days=30)
    by_new = sku_resolve(brand=brand, code="new-sku-456")
    by_old = sku_resolve(brand=brand, code="old-sku-123")
    assert by_new.sku == by_old.sku == sku
    assert (by_new.via, by_new.warnings) == ("code", [])
    assert by_old.via == "alias"
    assert [w.code for w in by_old.warnings] == ["alias_used"] and "new-sku-456" in by_old.warnings[0].message


def test_inbound_received_under_the_old_code_lands_in_the_same_physical_stock(brand, facility):
    sku = SkuFactory(brand=brand, code="old-sku-123")
    sku_change_code(sku=sku, new_code="new-sku-456", actor=None)
    stock_receive(sku=sku_resolve(brand=brand, code="old-sku-123").sku, facility=facility, quantity=4,
                  event_id="in-old", actor=None)  # fmt: skip
    stock_receive(sku=sku_resolve(brand=brand, code="new-sku-456").sku, facility=facility, quantity=6,
                  event_id="in-new", actor=None)  # fmt: skip
    assert sku_available(sku=sku, facility=facility) == 10


def test_an_alias_resolves_on_its_last_day_and_is_refused_after_the_window_naming_the_new_code(brand):
    sku = SkuFactory(brand=brand, code="new-sku-456")
    start = timezone.now() - timedelta(days=40)
    SkuAlias.objects.create(brand=brand, code="old-sku-123", sku=sku, valid_from=start,
                            valid_until=start + timedelta(days=30))  # fmt: skip
    last_day = start + timedelta(days=29, hours=23)
    assert sku_resolve(brand=brand, code="old-sku-123", at=last_day).sku == sku
    with pytest.raises(InvalidInput) as excinfo:
        sku_resolve(brand=brand, code="old-sku-123")
    assert _codes(excinfo) == ["alias_expired"]
    assert "new-sku-456" in excinfo.value.reasons[0].message and "retired" in excinfo.value.message


def test_an_unknown_code_is_refused_as_unknown_sku(brand, other_brand):
    SkuFactory(brand=other_brand, code="THEIRS")
    for code in ("NOPE", "", "THEIRS"):  # another brand's code is unknown to this brand
        with pytest.raises(InvalidInput) as excinfo:
            sku_resolve(brand=brand, code=code)
        assert _codes(excinfo) == ["unknown_sku"]


def test_a_code_in_use_cannot_be_taken_by_a_rename(brand):
    SkuFactory(brand=brand, code="TAKEN")
    sku = SkuFactory(brand=brand, code="MINE")
    with pytest.raises(Conflict):
        sku_change_code(sku=sku, new_code="TAKEN", actor=None)
    sku.refresh_from_db()
    assert sku.code == "MINE" and not SkuAlias.objects.exists()


def test_a_new_barcode_and_the_old_one_both_resolve_during_the_window(brand):
    sku = SkuFactory(brand=brand, barcode="barcode-old")
    sku_change_barcode(sku=sku, new_value="barcode-new", actor=None)
    old = sku_resolve_barcode(brand=brand, barcode="barcode-old")
    new = sku_resolve_barcode(brand=brand, barcode="barcode-new")
    assert old.sku == new.sku == sku
    assert old.warnings == [] and new.warnings == []
    assert Barcode.objects.get(value="barcode-old").is_legacy


def test_a_legacy_barcode_after_its_window_resolves_with_a_warning_never_a_failure(brand):
    sku = SkuFactory(brand=brand, barcode="barcode-old")
    sku_change_barcode(sku=sku, new_value="barcode-new", actor=None)
    later = timezone.now() + timedelta(days=365)
    resolved = sku_resolve_barcode(brand=brand, barcode="barcode-old", at=later)
    assert resolved.sku == sku
    assert [w.code for w in resolved.warnings] == ["legacy_barcode"]
    assert "barcode-new" in resolved.warnings[0].message


def test_an_unknown_barcode_is_refused(brand):
    with pytest.raises(InvalidInput) as excinfo:
        sku_resolve_barcode(brand=brand, barcode="0000")
    assert _codes(excinfo) == ["unknown_barcode"]
