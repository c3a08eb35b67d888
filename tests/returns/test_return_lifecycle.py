"""Seed 001 "Object ownership: Return" and "Returned ≠ back in live stock": a return goes initiated → authorized →
shipped back → received (quarantine) → triaged (grade, disposition) → restocked | reworked | disposed. Received
units are never available; nothing restocks until triage is complete; a manager may triage by hand, with a reason."""

import pytest
from django.utils import timezone

from inventory.models import BUCKETS, Movement, MovementKind, StockLevel
from inventory.services import stock_receive
from orders.models import OrderState
from orders.services import (
    order_confirm_picked,
    order_ingest,
    order_pack,
    order_release_to_pick,
    shipment_create,
    shipment_hand_to_carrier,
)
from returns.models import Disposition, Return, ReturnState
from returns.services import (
    return_authorize,
    return_dispose,
    return_initiate,
    return_mark_shipped_back,
    return_receive,
    return_restock,
    return_rework,
    return_triage,
)
from tests.conftest import grant
from tests.factories import FacilityFactory, UserFactory
from tests.inventory.factories import KitFactory, SkuFactory
from tests.orders.factories import CanonicalOrderFactory, line
from tests.returns.factories import ReturnFactory
from warehouse.errors import Conflict, InvalidInput, NotPermitted, TransitionNotAllowed
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState, TransitionRecord

pytestmark = pytest.mark.django_db


def _codes(excinfo):
    return {r.code for r in excinfo.value.reasons}


def _level(sku, facility):
    level = StockLevel.objects.get(sku=sku, facility=facility)
    return {bucket: getattr(level, bucket) for bucket in BUCKETS} | {"available": level.available}


@pytest.fixture
def operator(db):
    """Operations staff: ordinary return steps only."""
    return grant(UserFactory(username="operator"), "returns.operate_return")


@pytest.fixture
def returns_manager(db):
    return grant(UserFactory(username="returns-manager"), "returns.operate_return", "returns.force_return_transition")


@pytest.fixture
def sku(brand, facility):
    sku = SkuFactory(brand=brand, code="TEE-M")
    stock_receive(sku=sku, facility=facility, quantity=10, event_id="rcv-tee", actor=None, reason="ASN 1")
    return sku


@pytest.fixture
def other_sku(brand):
    return SkuFactory(brand=brand, code="CAP")


def _initiate(brand, facility, lines, rma_number="RMA-1"):
    return return_initiate(brand=brand, rma_number=rma_number, lines=lines, facility=facility, actor=None,
                           reason="Wrong size")  # fmt: skip


def _received(brand, facility, lines, actor=None, rma_number="RMA-1"):
    rma = _initiate(brand, facility, lines, rma_number)
    rma = return_authorize(rma=rma, actor=actor)
    rma = return_mark_shipped_back(rma=rma, actor=actor)
    return return_receive(rma=rma, actor=actor)


def _triaged(brand, facility, lines, disposition, grade="A", rma_number="RMA-1"):
    rma = _received(brand, facility, lines, rma_number=rma_number)
    return return_triage(rma=rma, grade=grade, disposition=disposition, actor=None)


def test_a_return_walks_from_initiated_to_restocked_and_each_step_is_recorded_with_who(brand, facility, sku, operator):
    rma = _initiate(brand, facility, [(sku, 2)])
    assert rma.state == ReturnState.INITIATED
    rma = return_authorize(rma=rma, actor=operator)
    assert rma.state == ReturnState.AUTHORIZED
    rma = return_mark_shipped_back(rma=rma, actor=operator)
    assert rma.state == ReturnState.SHIPPED_BACK
    rma = return_receive(rma=rma, actor=operator)
    assert rma.state == ReturnState.RECEIVED
    assert rma.received_at is not None
    rma = return_triage(rma=rma, grade="A", disposition=Disposition.SELLABLE, actor=None, reason="RMS decision 77")
    assert rma.state == ReturnState.TRIAGED
    rma = return_restock(rma=rma, actor=operator)
    assert rma.state == ReturnState.RESTOCKED
    records = TransitionRecord.objects.filter(object_id=rma.pk, content_type__app_label="returns")
    assert [(r.name, r.source, r.target) for r in records] == [
        ("authorize", "initiated", "authorized"),
        ("mark_shipped_back", "authorized", "shipped_back"),
        ("receive", "shipped_back", "received"),
        ("triage", "received", "triaged"),
        ("restock", "triaged", "restocked"),
    ]
    assert records.get(name="receive").actor == operator
    assert records.get(name="triage").reason == "RMS decision 77"
    assert rma.history.first().history_user == operator


def test_received_units_go_to_quarantine_and_are_never_available(brand, facility, sku):
    before = _level(sku, facility)
    rma = _received(brand, facility, [(sku, 3)])
    after = _level(sku, facility)
    assert after["on_hand"] == before["on_hand"] + 3
    assert after["quarantine"] == before["quarantine"] + 3
    assert after["available"] == before["available"]
    movement = Movement.objects.get(kind=MovementKind.RETURN_RECEIVE, reference=rma.rma_number)
    assert (movement.quarantine_delta, movement.on_hand_delta) == (3, 3)


def test_a_return_of_a_sku_never_stocked_at_the_facility_is_received_into_quarantine(brand, facility, other_sku):
    _received(brand, facility, [(other_sku, 1)])
    assert _level(other_sku, facility) == {**dict.fromkeys(BUCKETS, 0), "on_hand": 1, "quarantine": 1,
                                               "available": 0}  # fmt: skip


def test_restocking_moves_quarantine_to_on_hand_through_the_ledger(brand, facility, sku, operator):
    rma = _triaged(brand, facility, [(sku, 2)], Disposition.SELLABLE)
    before = _level(sku, facility)
    return_restock(rma=rma, actor=operator)
    after = _level(sku, facility)
    assert after["quarantine"] == before["quarantine"] - 2
    assert after["on_hand"] == before["on_hand"]
    assert after["available"] == before["available"] + 2
    movement = Movement.objects.get(kind=MovementKind.RETURN_RESTOCK, reference=rma.rma_number)
    assert (movement.quantity, movement.quarantine_delta, movement.actor) == (2, -2, operator)


def test_rework_moves_the_units_from_quarantine_to_damaged_and_they_stay_unavailable(brand, facility, sku):
    rma = _triaged(brand, facility, [(sku, 2)], Disposition.REWORK, grade="C")
    before = _level(sku, facility)
    assert return_rework(rma=rma, actor=None).state == ReturnState.REWORKED
    after = _level(sku, facility)
    assert (after["quarantine"], after["damaged"]) == (before["quarantine"] - 2, before["damaged"] + 2)
    assert after["available"] == before["available"]


def test_a_nonconforming_return_is_disposed_and_its_units_leave_the_building(brand, facility, sku):
    rma = _triaged(brand, facility, [(sku, 2)], Disposition.NONCONFORMING, grade="D")
    before = _level(sku, facility)
    assert return_dispose(rma=rma, actor=None).state == ReturnState.DISPOSED
    after = _level(sku, facility)
    assert (after["quarantine"], after["on_hand"]) == (before["quarantine"] - 2, before["on_hand"] - 2)
    assert after["available"] == before["available"]
    assert Movement.objects.filter(kind=MovementKind.RETURN_DISPOSE, reference=rma.rma_number).count() == 1


def test_nothing_restocks_before_triage(brand, facility, sku, operator):
    rma = _received(brand, facility, [(sku, 2)])
    before = _level(sku, facility)
    for complete in (return_restock, return_rework, return_dispose):
        with pytest.raises(TransitionNotAllowed) as excinfo:
            complete(rma=rma, actor=operator)
        assert _codes(excinfo) == {"triage_required"}
    rma.refresh_from_db()
    assert rma.state == ReturnState.RECEIVED
    assert _level(sku, facility) == before
    assert not Movement.objects.filter(kind=MovementKind.RETURN_RESTOCK).exists()


def test_nothing_restocks_before_triage_even_when_a_manager_forces_it(brand, facility, sku, returns_manager):
    rma = _received(brand, facility, [(sku, 2)])
    with pytest.raises(TransitionNotAllowed) as excinfo:
        return_restock(rma=rma, actor=returns_manager, force=True, reason="customer is in a hurry")
    assert _codes(excinfo) == {"triage_required"}
    initiated = _initiate(brand, facility, [(sku, 1)], rma_number="RMA-2")
    with pytest.raises(TransitionNotAllowed) as excinfo:
        return_restock(rma=initiated, actor=returns_manager, force=True, reason="skip the return trip")
    assert _codes(excinfo) == {"triage_required"}
    rma.refresh_from_db()
    assert rma.state == ReturnState.RECEIVED


def test_a_forced_triage_without_a_decision_still_cannot_restock(brand, facility, sku, returns_manager):
    rma = _received(brand, facility, [(sku, 2)])
    rma = return_triage(rma=rma, grade="", disposition="", actor=returns_manager, force=True, reason="look later")
    assert rma.state == ReturnState.TRIAGED
    with pytest.raises(TransitionNotAllowed) as excinfo:
        return_restock(rma=rma, actor=returns_manager, force=True, reason="put it back")
    assert _codes(excinfo) == {"triage_required"}
    assert Return.objects.get(pk=rma.pk).state == ReturnState.TRIAGED


def test_triage_needs_a_grade_and_a_disposition(brand, facility, sku):
    rma = _received(brand, facility, [(sku, 1)])
    with pytest.raises(TransitionNotAllowed) as excinfo:
        return_triage(rma=rma, grade="", disposition="", actor=None)
    assert _codes(excinfo) == {"grade_required", "disposition_required", "units_not_triaged"}
    with pytest.raises(TransitionNotAllowed) as excinfo:
        return_triage(rma=rma, grade="B", disposition="", actor=None)
    assert _codes(excinfo) == {"disposition_required", "units_not_triaged"}
    rma.refresh_from_db()
    assert (rma.state, rma.grade, rma.disposition) == (ReturnState.RECEIVED, "", "")


def test_triage_refuses_a_grade_or_disposition_it_does_not_know(brand, facility, sku):
    rma = _received(brand, facility, [(sku, 1)])
    with pytest.raises(InvalidInput) as excinfo:
        return_triage(rma=rma, grade="Z", disposition="resell", actor=None)
    assert _codes(excinfo) == {"grade_invalid", "disposition_invalid"}


@pytest.mark.parametrize(
    ("disposition", "step", "code"),
    [
        (Disposition.REWORK, return_restock, "disposition_not_sellable"),
        (Disposition.NONCONFORMING, return_restock, "disposition_not_sellable"),
        (Disposition.SELLABLE, return_rework, "disposition_not_rework"),
        (Disposition.SELLABLE, return_dispose, "disposition_not_nonconforming"),
    ],
)
def test_a_return_is_completed_only_as_its_disposition_says(brand, facility, sku, disposition, step, code):
    rma = _triaged(brand, facility, [(sku, 1)], disposition)
    before = _level(sku, facility)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        step(rma=rma, actor=None)
    assert _codes(excinfo) == {code}
    assert Return.objects.get(pk=rma.pk).state == ReturnState.TRIAGED
    assert _level(sku, facility) == before


def test_a_received_return_waits_in_the_exception_queue_until_it_is_triaged(brand, facility, sku):
    rma = _received(brand, facility, [(sku, 1)])
    item = ExceptionItem.objects.get(kind=ExceptionKind.RETURN_AWAITING_TRIAGE, object_id=rma.pk)
    assert item.state == ExceptionState.OPEN
    assert (item.brand, item.facility) == (brand, facility)
    assert {r["code"] for r in item.reasons} == {"triage_pending"}
    return_triage(rma=rma, grade="A", disposition=Disposition.SELLABLE, actor=None)
    item.refresh_from_db()
    assert item.state == ExceptionState.RESOLVED
    assert "grade A" in item.decision_note


def test_a_transition_from_the_wrong_state_is_refused_and_the_state_is_unchanged(brand, facility, sku):
    rma = _initiate(brand, facility, [(sku, 1)])
    with pytest.raises(TransitionNotAllowed) as excinfo:
        return_receive(rma=rma, actor=None)
    assert _codes(excinfo) == {"wrong_state"}
    rma.refresh_from_db()
    assert rma.state == ReturnState.INITIATED
    assert not Movement.objects.filter(kind=MovementKind.RETURN_RECEIVE).exists()


def test_receiving_a_return_twice_counts_its_units_once(brand, facility, sku):
    rma = _received(brand, facility, [(sku, 2)])
    before = _level(sku, facility)
    with pytest.raises(TransitionNotAllowed):
        return_receive(rma=rma, actor=None)
    assert _level(sku, facility) == before


def test_receiving_needs_the_facility_that_receives_it(brand, sku, facility):
    rma = _initiate(brand, None, [(sku, 1)])
    rma = return_mark_shipped_back(rma=return_authorize(rma=rma, actor=None), actor=None)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        return_receive(rma=rma, actor=None)
    assert _codes(excinfo) == {"facility_required"}
    leipzig = FacilityFactory(code="LEJ1", country="DE")
    rma = return_receive(rma=rma, actor=None, facility=leipzig)
    assert rma.facility == leipzig
    assert _level(sku, leipzig)["quarantine"] == 1


def test_operations_staff_may_receive_a_return_but_may_not_triage_it(brand, facility, sku, operator):
    rma = _initiate(brand, facility, [(sku, 1)])
    rma = return_mark_shipped_back(rma=return_authorize(rma=rma, actor=operator), actor=operator)
    rma = return_receive(rma=rma, actor=operator)
    with pytest.raises(NotPermitted):
        return_triage(rma=rma, grade="A", disposition=Disposition.SELLABLE, actor=operator)
    with pytest.raises(NotPermitted):
        return_triage(rma=rma, grade="A", disposition=Disposition.SELLABLE, actor=operator, force=True, reason="x")
    assert Return.objects.get(pk=rma.pk).state == ReturnState.RECEIVED


def test_a_person_without_the_return_permission_may_not_move_a_return(brand, facility, sku):
    rma = _initiate(brand, facility, [(sku, 1)])
    with pytest.raises(NotPermitted):
        return_authorize(rma=rma, actor=UserFactory(username="finance"))
    assert Return.objects.get(pk=rma.pk).state == ReturnState.INITIATED


def test_a_manager_may_triage_a_return_by_hand_with_a_reason_and_it_is_recorded_as_forced(
    brand, facility, sku, returns_manager
):
    rma = _received(brand, facility, [(sku, 1)])
    with pytest.raises(InvalidInput) as excinfo:
        return_triage(rma=rma, grade="B", disposition=Disposition.SELLABLE, actor=returns_manager, force=True)
    assert _codes(excinfo) == {"reason_required"}
    rma = return_triage(rma=rma, grade="B", disposition=Disposition.SELLABLE, actor=returns_manager, force=True,
                        reason="No decision from the returns system after 3 days")  # fmt: skip
    assert (rma.state, rma.grade, rma.triaged_by) == (ReturnState.TRIAGED, "B", returns_manager)
    record = TransitionRecord.objects.get(object_id=rma.pk, name="triage", content_type__app_label="returns")
    assert record.forced and record.actor == returns_manager
    assert record.reason == "No decision from the returns system after 3 days"
    assert rma.history.first().history_change_reason.startswith("[forced]")
    assert return_restock(rma=rma, actor=returns_manager).state == ReturnState.RESTOCKED


def test_a_return_is_refused_with_every_reason_named(brand, other_brand, facility):
    mine, theirs, kit = SkuFactory(brand=brand), SkuFactory(brand=other_brand), KitFactory(brand=brand)
    with pytest.raises(InvalidInput) as excinfo:
        return_initiate(brand=brand, rma_number=" ", lines=[(mine, 0), (theirs, 1), (kit, 1)], actor=None)
    assert _codes(excinfo) == {"rma_number_required", "quantity_not_positive", "other_brand", "kit_has_no_stock"}
    with pytest.raises(InvalidInput) as excinfo:
        return_initiate(brand=brand, rma_number="RMA-9", lines=[], actor=None)
    assert _codes(excinfo) == {"lines_required"}
    assert not Return.objects.exists()


def test_a_replayed_rma_returns_the_return_already_recorded(brand, facility, sku, other_sku):
    first = _initiate(brand, facility, [(sku, 2)])
    again = _initiate(brand, facility, [(sku, 2)])
    assert again.pk == first.pk
    assert Return.objects.count() == 1
    with pytest.raises(Conflict) as excinfo:
        _initiate(brand, facility, [(other_sku, 1)])
    assert _codes(excinfo) == {"rma_number_in_use"}


def test_an_rma_number_is_unique_per_brand_only(brand, other_brand, facility, sku):
    theirs = SkuFactory(brand=other_brand)
    mine = _initiate(brand, facility, [(sku, 1)], rma_number="RMA-100")
    other = return_initiate(brand=other_brand, rma_number="RMA-100", lines=[(theirs, 1)], actor=None)
    assert mine.pk != other.pk


def test_a_completed_return_cannot_be_completed_again(brand, facility, sku):
    rma = return_restock(rma=_triaged(brand, facility, [(sku, 1)], Disposition.SELLABLE), actor=None)
    before = _level(sku, facility)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        return_restock(rma=rma, actor=None)
    assert _codes(excinfo) == {"wrong_state"}
    assert _level(sku, facility) == before


def test_a_return_factory_row_without_lines_cannot_be_authorized(brand, facility):
    rma = ReturnFactory(brand=brand, facility=facility)
    with pytest.raises(TransitionNotAllowed) as excinfo:
        return_authorize(rma=rma, actor=None)
    assert _codes(excinfo) == {"lines_required"}


def _shipped_order(brand, code):
    order = order_ingest(canonical=CanonicalOrderFactory(lines=(line(code, 1),)), brand=brand, source="manual").order
    order = order_pack(order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None),
                       actor=None)  # fmt: skip
    shipment = shipment_create(order=order, carrier="DHL", tracking_number="JJD1", actor=None)
    shipment_hand_to_carrier(shipment=shipment, carrier_receipt="R-1", handed_at=timezone.now(), actor=None)
    order.refresh_from_db()
    return order


def test_a_return_names_the_order_its_units_were_shipped_on(brand, other_brand, facility, sku):
    order = _shipped_order(brand, "TEE-M")
    assert order.state == OrderState.DISPATCHED
    rma = return_initiate(brand=brand, rma_number="RMA-7", lines=[(sku, 1)], order=order, actor=None)
    assert rma.order == order
    assert list(order.returns.all()) == [rma]
    theirs = SkuFactory(brand=other_brand)
    with pytest.raises(InvalidInput) as excinfo:
        return_initiate(brand=other_brand, rma_number="RMA-8", lines=[(theirs, 1)], order=order, actor=None)
    assert _codes(excinfo) == {"order_other_brand"}


def test_an_order_that_never_left_the_building_cannot_be_returned(brand, facility, sku):
    order = order_ingest(canonical=CanonicalOrderFactory(lines=(line("TEE-M", 1),)), brand=brand, source="manual").order
    assert order.state == OrderState.ACCEPTED
    with pytest.raises(InvalidInput) as excinfo:
        return_initiate(brand=brand, rma_number="RMA-9", lines=[(sku, 1)], order=order, actor=None)
    assert _codes(excinfo) == {"order_not_shipped"}
    assert not Return.objects.exists()


def test_a_manager_may_override_the_disposition_with_a_reason_and_it_is_recorded_as_forced(
    brand, facility, sku, operator, returns_manager
):
    rma = _triaged(brand, facility, [(sku, 1)], Disposition.REWORK, grade="B")
    with pytest.raises(NotPermitted):
        return_restock(rma=rma, actor=operator, force=True, reason="looks fine to me")
    before = _level(sku, facility)
    why = "Re-inspected: only the tag was loose"
    rma = return_restock(rma=rma, actor=returns_manager, force=True, reason=why)
    assert rma.state == ReturnState.RESTOCKED
    assert _level(sku, facility)["available"] == before["available"] + 1
    record = TransitionRecord.objects.get(object_id=rma.pk, name="restock", content_type__app_label="returns")
    assert (record.forced, record.actor, record.reason) == (True, returns_manager, why)
