"""Issue 16 §4: a return is authorised against a shipped order's lines (never for a unit that did not ship on it),
received into quarantine by scan, and each unit triaged with a grade and a disposition before anything leaves
quarantine through the ledger. Bad input gets a clear error and changes nothing."""

import pytest
from django.utils import timezone

from inventory.models import Barcode, Movement, MovementKind, StockLevel
from inventory.services import stock_receive
from orders.services import (
    order_confirm_picked,
    order_ingest,
    order_pack,
    order_release_to_pick,
    shipment_create,
    shipment_hand_to_carrier,
)
from returns.models import Disposition, ReturnDecision, ReturnState
from returns.services import (
    return_authorize_order,
    return_complete,
    return_receive_scan,
    return_restock,
    return_triage_finish,
    return_triage_units,
)
from tests.conftest import grant
from tests.factories import UserFactory
from tests.inventory.factories import KitComponentFactory, KitFactory, SkuFactory
from tests.orders.factories import CanonicalOrderFactory, line
from tests.permissions.fixtures import make_role_user
from warehouse.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from warehouse.roles import roles_sync

pytestmark = pytest.mark.django_db


def _codes(excinfo):
    return {r.code for r in excinfo.value.reasons}


def _level(sku, facility):
    level = StockLevel.objects.get(sku=sku, facility=facility)
    return {"on_hand": level.on_hand, "quarantine": level.quarantine, "damaged": level.damaged,
            "available": level.available}  # fmt: skip


@pytest.fixture
def skus(brand, facility):
    tee = SkuFactory(brand=brand, code="TEE-M", barcode="8400000000017")
    cap = SkuFactory(brand=brand, code="CAP", barcode="8400000000024")
    for sku in (tee, cap):
        stock_receive(sku=sku, facility=facility, quantity=10, event_id=f"rcv-{sku.code}", actor=None)
    return tee, cap


@pytest.fixture
def shipped(brand, facility, skus):
    order = order_ingest(canonical=CanonicalOrderFactory(platform_order_id="#2001", lines=(line("TEE-M", 2),)),
                         brand=brand, source="manual").order  # fmt: skip
    order = order_pack(order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None),
                       actor=None)  # fmt: skip
    shipment = shipment_create(order=order, carrier="DHL", tracking_number="JJD2", actor=None)
    shipment_hand_to_carrier(shipment=shipment, carrier_receipt="R-2", handed_at=timezone.now(), actor=None)
    order.refresh_from_db()
    return order


@pytest.fixture
def mgr(db):
    roles_sync()
    return make_role_user("warehouse_manager", username="mgr")


@pytest.fixture
def ops(db):
    roles_sync()
    return make_role_user("operations", username="ops")


def test_a_manager_authorises_a_return_of_units_shipped_on_the_order(shipped, skus, mgr):
    tee, _ = skus
    rma = return_authorize_order(order=shipped, lines=[(tee, 1)], actor=mgr, reason="Too small")
    assert (rma.state, rma.order, rma.facility, rma.rma_number) == (
        ReturnState.AUTHORIZED, shipped, shipped.facility, "RMA-#2001-1",
    )  # fmt: skip
    second = return_authorize_order(order=shipped, lines=[(tee, 1)], actor=mgr)
    assert second.rma_number == "RMA-#2001-2"


def test_a_unit_never_shipped_on_the_order_is_refused_with_the_reason(shipped, skus, mgr):
    tee, cap = skus
    with pytest.raises(InvalidInput) as excinfo:
        return_authorize_order(order=shipped, lines=[(cap, 1)], actor=mgr)
    assert _codes(excinfo) == {"not_shipped_on_order"}
    assert "CAP was never shipped on order #2001" in excinfo.value.message
    with pytest.raises(InvalidInput) as excinfo:
        return_authorize_order(order=shipped, lines=[(tee, 3)], actor=mgr)
    assert _codes(excinfo) == {"more_than_shipped"}
    return_authorize_order(order=shipped, lines=[(tee, 2)], actor=mgr)
    with pytest.raises(InvalidInput) as excinfo:  # each unit comes back once
        return_authorize_order(order=shipped, lines=[(tee, 1)], actor=mgr)
    assert "2 already on another return" in excinfo.value.message
    assert shipped.returns.count() == 1


def test_a_kit_comes_back_as_the_components_it_shipped(brand, facility, mgr):
    kit = KitFactory(brand=brand, code="GIFT")
    part = KitComponentFactory(kit=kit, component=SkuFactory(brand=brand, code="MUG"), quantity=2).component
    stock_receive(sku=part, facility=facility, quantity=5, event_id="rcv-mug", actor=None)
    order = order_ingest(canonical=CanonicalOrderFactory(lines=(line("GIFT", 1),)), brand=brand, source="manual").order
    order = order_pack(order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None),
                       actor=None)  # fmt: skip
    shipment = shipment_create(order=order, carrier="DHL", tracking_number="JJD3", actor=None)
    shipment_hand_to_carrier(shipment=shipment, carrier_receipt="R-3", handed_at=timezone.now(), actor=None)
    order.refresh_from_db()
    assert return_authorize_order(order=order, lines=[(part, 2)], actor=mgr).state == ReturnState.AUTHORIZED


def test_operations_and_finance_may_not_authorise_and_a_brand_only_its_own_orders(shipped, skus, ops, brand,
                                                                                   other_brand):  # fmt: skip
    tee, _ = skus
    for user in (ops, make_role_user("finance", username="fin"), make_role_user("brand", brand=other_brand)):
        with pytest.raises(NotPermitted):
            return_authorize_order(order=shipped, lines=[(tee, 1)], actor=user)
    assert not shipped.returns.exists()
    own = make_role_user("brand", brand=brand, username="acme-user")
    rma = return_authorize_order(order=shipped, lines=[(tee, 1)], actor=own)
    assert rma.state == ReturnState.AUTHORIZED
    assert rma.history.first().history_user == own


def test_receipt_by_scan_puts_units_in_quarantine_up_to_the_authorised_quantity(shipped, skus, mgr, ops, facility):
    tee, _ = skus
    rma = return_authorize_order(order=shipped, lines=[(tee, 2)], actor=mgr)
    before = _level(tee, facility)
    result = return_receive_scan(rma=rma, code="8400000000017", actor=ops)
    assert result.rma.state == ReturnState.RECEIVED
    assert _level(tee, facility) == {**before, "on_hand": before["on_hand"] + 1, "quarantine": 1}
    return_receive_scan(rma=rma, code="TEE-M", actor=ops)  # a typed SKU code resolves too
    assert rma.lines.get().received_quantity == 2
    assert Movement.objects.filter(kind=MovementKind.RETURN_RECEIVE, reference=rma.rma_number).count() == 2
    with pytest.raises(InvalidInput) as excinfo:
        return_receive_scan(rma=rma, code="TEE-M", actor=ops)
    assert _codes(excinfo) == {"over_authorised"}
    assert _level(tee, facility)["quarantine"] == 2


@pytest.mark.parametrize(
    ("code", "quantity", "reason"),
    [
        ("0000000000000", 1, "unknown_barcode"),
        ("8400000000024", 1, "sku_not_on_return"),  # CAP's barcode: not on this return
        ("TEE-M", 0, "quantity_not_positive"),
        ("TEE-M", -1, "quantity_not_positive"),
        ("TEE-M", 3, "over_authorised"),
    ],
)
def test_a_bad_scan_is_refused_clearly_and_changes_nothing(shipped, skus, mgr, ops, facility, code, quantity, reason):
    tee, _ = skus
    rma = return_authorize_order(order=shipped, lines=[(tee, 2)], actor=mgr)
    before, moves = _level(tee, facility), Movement.objects.count()
    with pytest.raises(InvalidInput) as excinfo:
        return_receive_scan(rma=rma, code=code, quantity=quantity, actor=ops)
    assert _codes(excinfo) == {reason}
    rma.refresh_from_db()
    assert (rma.state, rma.lines.get().received_quantity) == (ReturnState.AUTHORIZED, 0)
    assert (_level(tee, facility), Movement.objects.count()) == (before, moves)


def test_finance_may_not_receive_a_return(shipped, skus, mgr):
    rma = return_authorize_order(order=shipped, lines=[(skus[0], 1)], actor=mgr)
    with pytest.raises(NotPermitted):
        return_receive_scan(rma=rma, code="TEE-M", actor=make_role_user("finance", username="fin"))
    assert rma.lines.get().received_quantity == 0


def test_each_unit_is_triaged_and_a_mixed_return_moves_each_as_decided(shipped, skus, mgr, ops, facility):
    tee, _ = skus
    rma = return_authorize_order(order=shipped, lines=[(tee, 2)], actor=mgr)
    return_receive_scan(rma=rma, code="TEE-M", quantity=2, actor=ops)
    ret_line = rma.lines.get()
    with pytest.raises(InvalidInput) as excinfo:
        return_triage_units(rma=rma, line=ret_line, quantity=1, grade="", disposition="sellable", actor=mgr)
    assert _codes(excinfo) == {"grade_required"}
    with pytest.raises(NotPermitted):
        return_triage_units(rma=rma, line=ret_line, quantity=1, grade="A", disposition="sellable", actor=ops)
    assert not ReturnDecision.objects.exists()
    rma = return_triage_units(rma=rma, line=ret_line, quantity=1, grade="A", disposition="sellable", actor=mgr)
    assert rma.state == ReturnState.RECEIVED  # one unit still waits for its decision
    with pytest.raises(TransitionNotAllowed):
        return_restock(rma=rma, actor=mgr)
    with pytest.raises(InvalidInput) as excinfo:
        return_triage_units(rma=rma, line=ret_line, quantity=2, grade="C", disposition="rework", actor=mgr)
    assert _codes(excinfo) == {"more_than_received"}
    rma = return_triage_units(rma=rma, line=ret_line, quantity=1, grade="C", disposition="rework", actor=mgr)
    assert (rma.state, rma.grade, rma.disposition) == (ReturnState.TRIAGED, "C", Disposition.MIXED)
    before = _level(tee, facility)
    rma = return_complete(rma=rma, actor=ops)
    assert rma.state == ReturnState.COMPLETED
    assert _level(tee, facility) == {**before, "quarantine": 0, "damaged": 1, "available": before["available"] + 1}


def test_triage_closes_when_the_other_units_never_came_back(shipped, skus, mgr, ops, facility):
    tee, _ = skus
    rma = return_authorize_order(order=shipped, lines=[(tee, 2)], actor=mgr)
    return_receive_scan(rma=rma, code="TEE-M", actor=ops)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        return_triage_finish(rma=rma, actor=mgr)
    assert "units_not_triaged" in _codes(excinfo)
    rma = return_triage_units(rma=rma, line=rma.lines.get(), quantity=1, grade="B", disposition="sellable", actor=mgr)
    assert rma.state == ReturnState.RECEIVED
    rma = return_triage_finish(rma=rma, actor=mgr, reason="Customer kept the other one")
    assert (rma.state, rma.disposition) == (ReturnState.TRIAGED, Disposition.SELLABLE)
    available = _level(tee, facility)["available"]
    assert return_restock(rma=rma, actor=ops).state == ReturnState.RESTOCKED
    assert _level(tee, facility)["available"] == available + 1
    with pytest.raises(TransitionNotAllowed):
        return_receive_scan(rma=rma, code="TEE-M", actor=ops)


def test_a_legacy_barcode_still_receives_with_a_warning(shipped, skus, mgr, ops):
    tee, _ = skus
    Barcode.objects.create(sku=tee, value="OLD-TEE", is_legacy=True, valid_until=timezone.now())
    rma = return_authorize_order(order=shipped, lines=[(tee, 1)], actor=mgr)
    result = return_receive_scan(rma=rma, code="OLD-TEE", actor=ops)
    assert [w.code for w in result.warnings] == ["legacy_barcode"]


def test_a_person_without_any_role_may_not_scan(shipped, skus, mgr):
    rma = return_authorize_order(order=shipped, lines=[(skus[0], 1)], actor=mgr)
    with pytest.raises(NotPermitted):
        return_receive_scan(rma=rma, code="TEE-M", actor=grant(UserFactory(username="nobody")))
