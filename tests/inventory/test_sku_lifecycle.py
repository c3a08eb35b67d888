"""Seed 001 "Stable identifiers" / design §3: a SKU goes defined → variants assigned → pack configuration locked →
barcode assigned → ready for receiving; each step has named guards, and receiving needs the last state."""

import pytest

from inventory.models import Barcode, Sku, SkuState, StockLevel
from inventory.services import (
    kit_set_components,
    sku_assign_barcode,
    sku_assign_variants,
    sku_create,
    sku_lock_pack_configuration,
    sku_mark_ready_for_receiving,
    stock_receive,
)
from tests.conftest import grant
from tests.factories import UserFactory
from tests.inventory.factories import DefinedSkuFactory, KitFactory, SkuFactory
from warehouse.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from warehouse.models import TransitionRecord

pytestmark = pytest.mark.django_db


def _codes(excinfo):
    return {r.code for r in excinfo.value.reasons}


def test_a_sku_walks_its_lifecycle_to_ready_for_receiving_and_each_step_is_recorded(brand, manager):
    grant(manager, "inventory.operate_sku", "inventory.add_sku")
    sku = sku_create(brand=brand, code="TEE-M-BLUE", title="Tee", parent_code="TEE",
                     variant_attributes={"size": "M", "colour": "blue"}, actor=manager)  # fmt: skip
    assert sku.state == SkuState.DEFINED
    sku = sku_assign_variants(sku=sku, actor=manager)
    assert sku.state == SkuState.VARIANTS_ASSIGNED
    Sku.objects.filter(pk=sku.pk).update(weight_grams=180, length_mm=300, width_mm=250, height_mm=20)
    sku = sku_lock_pack_configuration(sku=sku, actor=manager)
    assert sku.state == SkuState.PACK_CONFIGURATION_LOCKED
    sku = sku_assign_barcode(sku=sku, value="8412345678905", actor=manager)
    assert sku.state == SkuState.BARCODE_ASSIGNED
    assert Barcode.objects.get(value="8412345678905").sku == sku
    sku = sku_mark_ready_for_receiving(sku=sku, actor=manager)
    assert sku.state == SkuState.READY_FOR_RECEIVING
    names = list(TransitionRecord.objects.filter(object_id=sku.pk).values_list("name", flat=True))
    assert names == ["assign_variants", "lock_pack_configuration", "assign_barcode", "mark_ready_for_receiving"]
    assert sku.history.first().history_user == manager


def test_variants_cannot_be_assigned_without_a_title_or_without_the_attributes_of_a_variant(brand):
    sku = DefinedSkuFactory(brand=brand, title="", parent_code="TEE", variant_attributes={})
    with pytest.raises(TransitionNotAllowed) as excinfo:
        sku_assign_variants(sku=sku, actor=None)
    assert _codes(excinfo) == {"title_required", "variant_attributes_required"}
    sku.refresh_from_db()
    assert sku.state == SkuState.DEFINED


def test_a_standalone_product_needs_no_variant_attributes(brand):
    sku = DefinedSkuFactory(brand=brand, title="Mug", parent_code="", variant_attributes={})
    assert sku_assign_variants(sku=sku, actor=None).state == SkuState.VARIANTS_ASSIGNED


def test_pack_configuration_cannot_be_locked_without_weight_and_dimensions(brand):
    sku = DefinedSkuFactory(brand=brand, state=SkuState.VARIANTS_ASSIGNED, length_mm=10)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        sku_lock_pack_configuration(sku=sku, actor=None)
    assert _codes(excinfo) == {"weight_required", "dimensions_required"}
    sku.refresh_from_db()
    assert sku.state == SkuState.VARIANTS_ASSIGNED


def test_a_kit_cannot_lock_its_pack_configuration_without_components(brand):
    kit = KitFactory(brand=brand, state=SkuState.VARIANTS_ASSIGNED, barcode=False)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        sku_lock_pack_configuration(sku=kit, actor=None)
    assert _codes(excinfo) == {"kit_components_required"}
    kit_set_components(kit=kit, components=[(SkuFactory(brand=brand), 2)], actor=None)
    assert sku_lock_pack_configuration(sku=kit, actor=None).state == SkuState.PACK_CONFIGURATION_LOCKED


def test_barcode_assigned_needs_a_barcode_to_exist(brand):
    sku = SkuFactory(brand=brand, state=SkuState.PACK_CONFIGURATION_LOCKED, barcode=False)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        sku_mark_ready_for_receiving(sku=sku, actor=None)  # wrong state: one step at a time
    assert _codes(excinfo) == {"wrong_state"}
    from warehouse.transitions import transition_apply

    with pytest.raises(TransitionNotAllowed) as excinfo:
        transition_apply(obj=sku, name="assign_barcode", actor=None)
    assert _codes(excinfo) == {"barcode_required"}
    with pytest.raises(InvalidInput):
        sku_assign_barcode(sku=sku, value="  ", actor=None)
    sku.refresh_from_db()
    assert sku.state == SkuState.PACK_CONFIGURATION_LOCKED


def test_a_barcode_of_another_sku_cannot_be_assigned(brand):
    SkuFactory(brand=brand, barcode="4000000000001")
    sku = SkuFactory(brand=brand, state=SkuState.PACK_CONFIGURATION_LOCKED, barcode=False)
    with pytest.raises(Conflict) as excinfo:
        sku_assign_barcode(sku=sku, value="4000000000001", actor=None)
    assert _codes(excinfo) == {"barcode_in_use"}
    sku.refresh_from_db()
    assert sku.state == SkuState.PACK_CONFIGURATION_LOCKED


def test_ready_for_receiving_rechecks_weight_dimensions_and_barcode(brand):
    sku = SkuFactory(brand=brand, state=SkuState.BARCODE_ASSIGNED, barcode=False, weight_grams=None)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        sku_mark_ready_for_receiving(sku=sku, actor=None)
    assert _codes(excinfo) == {"weight_required", "barcode_required"}


def test_a_transition_from_the_wrong_state_is_refused_and_the_state_is_unchanged(brand):
    sku = SkuFactory(brand=brand)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        sku_assign_variants(sku=sku, actor=None)
    assert _codes(excinfo) == {"wrong_state"}
    sku.refresh_from_db()
    assert sku.state == SkuState.READY_FOR_RECEIVING


def test_a_manager_may_force_a_guarded_step_with_a_reason_and_it_is_recorded_as_forced(brand):
    sku = DefinedSkuFactory(brand=brand, state=SkuState.VARIANTS_ASSIGNED)
    clerk = UserFactory(username="clerk")
    with pytest.raises(NotPermitted):
        sku_lock_pack_configuration(sku=sku, actor=clerk, reason="supplier data late", force=True)
    boss = grant(UserFactory(username="boss"), "inventory.force_sku_transition")
    with pytest.raises(InvalidInput):
        sku_lock_pack_configuration(sku=sku, actor=boss, reason="  ", force=True)
    sku = sku_lock_pack_configuration(sku=sku, actor=boss, reason="supplier data late", force=True)
    assert sku.state == SkuState.PACK_CONFIGURATION_LOCKED
    record = TransitionRecord.objects.get(object_id=sku.pk, name="lock_pack_configuration")
    assert record.forced and record.actor == boss and record.reason == "supplier data late"


@pytest.mark.parametrize(
    "state",
    [SkuState.DEFINED, SkuState.VARIANTS_ASSIGNED, SkuState.PACK_CONFIGURATION_LOCKED, SkuState.BARCODE_ASSIGNED],
)
def test_receiving_into_a_sku_that_is_not_ready_is_refused_with_the_reason(brand, facility, state):
    sku = SkuFactory(brand=brand, state=state, barcode=False)
    with pytest.raises(Conflict) as excinfo:
        stock_receive(sku=sku, facility=facility, quantity=5, event_id="rcv-1", actor=None)
    assert _codes(excinfo) == {"sku_not_ready_for_receiving"}
    assert "not ready for receiving" in excinfo.value.message and sku.code in excinfo.value.message
    assert not StockLevel.objects.filter(sku=sku).exists()


def test_a_sku_code_is_unique_per_brand_but_free_across_brands(brand, other_brand):
    sku_create(brand=brand, code="MUG", actor=None)
    with pytest.raises(Conflict):
        sku_create(brand=brand, code="MUG", actor=None)
    assert sku_create(brand=other_brand, code="MUG", actor=None).brand == other_brand


def test_a_user_without_the_operate_permission_cannot_move_a_sku_and_nothing_changes(brand, viewer):
    sku = DefinedSkuFactory(brand=brand, title="Mug")
    with pytest.raises(NotPermitted):
        sku_assign_variants(sku=sku, actor=viewer)
    sku.refresh_from_db()
    assert sku.state == SkuState.DEFINED and not TransitionRecord.objects.exists()
    assert (
        sku_assign_variants(sku=sku, actor=grant(viewer, "inventory.operate_sku")).state == SkuState.VARIANTS_ASSIGNED
    )
