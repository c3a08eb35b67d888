"""Picking and packing (issue 16 §3): release writes the pick list, scans confirm lines with quantities (barcodes and
aliases within their windows), the last line picked → picked, packing into measured parcels, and the short pick's
floor hold with the manager's two decisions. Every refusal changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.counts import count_task_record
from inventory.models import Barcode, CountTask, CountTaskState, SkuAlias, StockLevel
from inventory.services import kit_set_components, stock_receive
from orders.models import OrderEvent, OrderEventKind, OrderState, Parcel, PickLine
from orders.services import (
    order_cancel,
    order_cancel_short_line,
    order_hold_on_floor,
    order_pack_parcels,
    order_pick,
    order_release_to_pick,
    order_resume_from_floor_hold,
    order_short_pick,
    parcel_add,
)
from tests.conftest import grant
from tests.inventory.factories import KitFactory, SkuFactory
from tests.orders.factories import line
from warehouse.errors import DomainError, InvalidInput, NotPermitted, Reason
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

BOX = {"weight_grams": 900, "length_mm": 300, "width_mm": 200, "height_mm": 100}


@pytest.fixture
def manager(order_manager):
    return grant(order_manager, "inventory.approve_cycle_count")


@pytest.fixture
def picking(accepted_order, operator):
    return order_release_to_pick(order=accepted_order, actor=operator)


def level(sku, facility):
    return StockLevel.objects.get(sku=sku, facility=facility)


def lines_of(order):
    return {p.sku.code: p for p in PickLine.objects.filter(order=order).select_related("sku")}


def refused(call, code):
    with pytest.raises(DomainError) as caught:
        call()
    assert code in [r.code for r in caught.value.reasons], caught.value.reasons
    return caught.value


def test_release_writes_one_pick_line_per_row_and_scans_pick_them_to_picked(picking, operator, stock, facility):
    assert {code: p.expected for code, p in lines_of(picking).items()} == {"TEE-M": 2, "CAP-1": 1}
    barcode = stock["TEE-M"].barcodes.get().value
    order = order_pick(order=picking, code=barcode, quantity=2, actor=operator)
    assert order.state == OrderState.PICKING
    order = order_pick(order=order, code="CAP-1", actor=operator)  # a typed SKU code
    assert order.state == OrderState.PICKED
    assert all(p.picked == p.expected for p in lines_of(order).values())
    kinds = list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))
    assert kinds.count(OrderEventKind.PICK_ACTIVITY) == 2 and OrderEventKind.PICKED in kinds
    assert level(stock["TEE-M"], facility).in_pick == 2


def test_bad_scans_are_refused_and_change_nothing(picking, operator, stock):
    tee = lines_of(picking)["TEE-M"]
    error = refused(lambda: order_pick(order=picking, code="CAP-1", actor=operator, pick_line=tee.pk), "wrong_sku")
    assert "expects TEE-M" in error.message
    refused(lambda: order_pick(order=picking, code="TEE-M", quantity=3, actor=operator), "over_pick")
    refused(lambda: order_pick(order=picking, code="TEE-M", quantity=0, actor=operator), "quantity_not_positive")
    refused(lambda: order_pick(order=picking, code="TEE-M", quantity=-1, actor=operator), "quantity_not_positive")
    refused(lambda: order_pick(order=picking, code="NOPE-123", actor=operator), "unknown_barcode")
    other = SkuFactory(brand=picking.brand, code="SOCK-9")
    error = refused(lambda: order_pick(order=picking, code=other.code, actor=operator), "wrong_sku")
    assert "the next line expects TEE-M" in error.message
    assert sum(p.picked for p in lines_of(picking).values()) == 0
    assert not OrderEvent.objects.filter(order=picking, kind=OrderEventKind.PICK_ACTIVITY).exists()


def test_an_alias_in_its_window_and_a_legacy_barcode_pick_the_same_sku(picking, operator, stock):
    tee = stock["TEE-M"]
    SkuAlias.objects.create(
        brand=picking.brand, sku=tee, code="TEE-OLD", valid_until=timezone.now() + timedelta(days=9)
    )
    Barcode.objects.create(
        sku=tee, value="8400000000999", is_legacy=True, valid_until=timezone.now() - timedelta(days=1)
    )
    order_pick(order=picking, code="TEE-OLD", actor=operator)
    order_pick(order=picking, code="8400000000999", actor=operator)
    assert lines_of(picking)["TEE-M"].picked == 2
    SkuAlias.objects.create(
        brand=picking.brand,
        sku=tee,
        code="TEE-GONE",
        valid_from=timezone.now() - timedelta(days=9),
        valid_until=timezone.now() - timedelta(days=1),
    )
    error = refused(lambda: order_pick(order=picking, code="TEE-GONE", actor=operator), "alias_expired")
    assert "TEE-M" in error.message


def test_a_kit_line_is_picked_as_its_components(brand, facility, make_order, operator):
    kit, soap, towel = KitFactory(brand=brand, code="SPA-KIT"), SkuFactory(brand=brand), SkuFactory(brand=brand)
    kit_set_components(kit=kit, components=[(soap, 2), (towel, 1)], actor=None)
    for sku in (soap, towel):
        stock_receive(sku=sku, facility=facility, quantity=10, event_id=f"rcv:{sku.code}", actor=None)
    order = order_release_to_pick(order=make_order(lines=(line("SPA-KIT", 2),)), actor=operator)
    assert {code: p.expected for code, p in lines_of(order).items()} == {soap.code: 4, towel.code: 2}
    refused(lambda: order_pick(order=order, code="SPA-KIT", actor=operator), "wrong_sku")
    order_pick(order=order, code=soap.code, quantity=4, actor=operator)
    order = order_pick(order=order, code=towel.code, quantity=2, actor=operator)
    assert order.state == OrderState.PICKED


def test_packing_needs_measured_parcels(picking, operator):
    for code, n in (("TEE-M", 2), ("CAP-1", 1)):
        order = order_pick(order=picking, code=code, quantity=n, actor=operator)
    refused(lambda: order_pack_parcels(order=order, actor=operator), "no_parcels")
    error = refused(
        lambda: parcel_add(order=order, measures={**BOX, "weight_grams": 0, "height_mm": -3}, actor=operator),
        "weight_grams",
    )
    assert "height (mm)" in error.message
    refused(
        lambda: order_pack_parcels(order=order, actor=operator, parcels=[BOX, {**BOX, "width_mm": "x"}]), "width_mm"
    )
    assert not Parcel.objects.filter(order=order).exists()
    parcel_add(order=order, measures=BOX, actor=operator)
    order = order_pack_parcels(order=order, actor=operator, parcels=[{**BOX, "weight_grams": 400}])
    assert order.state == OrderState.PACKED
    assert list(Parcel.objects.filter(order=order).values_list("number", "weight_grams")) == [(1, 900), (2, 400)]


def test_a_short_pick_holds_the_order_with_a_count_task_until_the_stock_is_found(
    picking, operator, manager, stock, facility
):
    tee = lines_of(picking)["TEE-M"]
    order_pick(order=picking, code="TEE-M", actor=operator)  # 1 of 2 on the shelf
    order = order_short_pick(order=picking, pick_line=tee.pk, actor=operator, note="bin empty")
    assert order.state == OrderState.FLOOR_HOLD and order.held_from == OrderState.PICKING
    assert [r["code"] for r in order.hold_reasons] == ["short_pick"]
    assert ExceptionItem.objects.filter(kind=ExceptionKind.SHORT_PICK, state=ExceptionState.OPEN).count() == 1
    task = CountTask.objects.get(sku=stock["TEE-M"], facility=facility, state=CountTaskState.OPEN)
    assert level(stock["TEE-M"], facility).in_pick == 1  # the picked unit stays in pick; the missing one left it
    refused(lambda: order_pick(order=order, code="CAP-1", actor=operator), "held_on_floor")
    with pytest.raises(NotPermitted):
        order_resume_from_floor_hold(order=order, actor=operator, note="found")
    # The count says 10 are there after all: the manager resumes, the unit goes back in pick.
    count_task_record(task=task, counted=10, actor=manager)
    order = order_resume_from_floor_hold(order=order, actor=manager, note="found on the next shelf")
    assert order.state == OrderState.PICKING and order.held_from == ""
    assert level(stock["TEE-M"], facility).in_pick == 2
    order_pick(order=order, code="TEE-M", actor=operator)
    order = order_pick(order=order, code="CAP-1", actor=operator)
    assert order.state == OrderState.PICKED
    assert not ExceptionItem.objects.filter(kind=ExceptionKind.SHORT_PICK, state=ExceptionState.OPEN).exists()


def test_resuming_while_the_shelf_is_still_short_is_refused_and_changes_nothing(
    picking, operator, manager, stock, facility
):
    cap = lines_of(picking)["CAP-1"]
    order = order_short_pick(order=picking, pick_line=cap.pk, actor=operator)
    task = CountTask.objects.get(sku=stock["CAP-1"])
    task = count_task_record(task=task, counted=0, actor=manager)  # none on the shelf: on hand 3 → 0
    assert (task.expected, task.counted, task.state) == (3, 0, CountTaskState.DONE)
    assert level(stock["CAP-1"], facility).on_hand == 0
    refused(lambda: order_resume_from_floor_hold(order=order, actor=manager, note="try"), "insufficient_stock")
    order.refresh_from_db()
    assert order.state == OrderState.FLOOR_HOLD and lines_of(order)["CAP-1"].short == 1


def test_a_manager_cancels_the_short_line_and_the_order_goes_on_to_pack(picking, operator, manager, stock, facility):
    cap = lines_of(picking)["CAP-1"]
    order_pick(order=picking, code="TEE-M", quantity=2, actor=operator)
    order = order_short_pick(order=picking, pick_line=cap.pk, actor=operator)
    with pytest.raises(NotPermitted):
        order_cancel_short_line(order=order, line_number=2, actor=operator, reason="x")
    refused(lambda: order_cancel_short_line(order=order, line_number=2, actor=manager, reason="  "), "reason")
    refused(lambda: order_cancel_short_line(order=order, line_number=1, actor=manager, reason="no"), "line_not_short")
    order = order_cancel_short_line(order=order, line_number=2, actor=manager, reason="customer takes the rest")
    assert order.state == OrderState.PICKED  # the other line was picked in full
    line2 = order.lines.get(line_number=2)
    assert line2.cancelled_at is not None and line2.cancel_reason == "customer takes the rest"
    assert level(stock["CAP-1"], facility).in_pick == 0 and level(stock["CAP-1"], facility).allocated == 0
    assert order.allocated_stock() == order.required_stock() == [[stock["TEE-M"].pk, 2]]
    event = OrderEvent.objects.get(order=order, kind=OrderEventKind.LINE_CANCELLED)
    assert event.data["override"] == "edit_after_release" and event.actor == manager
    assert order_pack_parcels(order=order, actor=operator, parcels=[BOX]).state == OrderState.PACKED


def test_cancelling_a_short_picked_order_puts_back_what_is_in_pick(picking, operator, manager, stock, facility):
    tee = lines_of(picking)["TEE-M"]
    order_pick(order=picking, code="TEE-M", actor=operator)
    order = order_short_pick(order=picking, pick_line=tee.pk, actor=operator)
    order = order_cancel(order=order, actor=manager, reason="customer cancelled")
    assert order.state == OrderState.CANCELLED
    for code in ("TEE-M", "CAP-1"):
        assert (level(stock[code], facility).in_pick, level(stock[code], facility).allocated) == (0, 0)


def test_a_packed_order_is_held_on_the_floor_and_resumed_to_packed(picking, operator):
    for code, n in (("TEE-M", 2), ("CAP-1", 1)):
        order = order_pick(order=picking, code=code, quantity=n, actor=operator)
    order = order_pack_parcels(order=order, actor=operator, parcels=[BOX])
    reasons = [Reason("no_shipping_rule", "No shipping rule covers ES → US at 0.9 kg")]
    order = order_hold_on_floor(order=order, reasons=reasons, actor=None, kind=ExceptionKind.ORDER_ON_HOLD)
    assert (order.state, order.held_from) == (OrderState.FLOOR_HOLD, OrderState.PACKED)
    assert order.hold_reasons == [{"code": "no_shipping_rule", "message": reasons[0].message}]
    refused(lambda: order_cancel(order=order, actor=operator, reason="x"), "cancel_after_pack")
    order.refresh_from_db()
    assert order.state == OrderState.FLOOR_HOLD
    with pytest.raises(InvalidInput):
        order_resume_from_floor_hold(order=order, actor=None, note=" ")
    order = order_resume_from_floor_hold(order=order, actor=None, note="rule added")
    assert (order.state, order.held_from, order.hold_reasons) == (OrderState.PACKED, "", [])
    assert not ExceptionItem.objects.filter(kind=ExceptionKind.ORDER_ON_HOLD, state=ExceptionState.OPEN).exists()
    with pytest.raises(InvalidInput):
        order_hold_on_floor(order=order, reasons=[], actor=None)
