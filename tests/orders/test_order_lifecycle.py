"""Order status transitions (seed 001 "Status transitions"): each transition waits for its evidence; a transition from
the wrong state is refused with a clear error and changes nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from inventory.models import Movement, MovementKind, StockLevel
from orders.models import AllocationRow, Order, OrderEventKind, OrderState
from orders.selectors import order_timeline
from orders.services import (
    order_accept,
    order_cancel,
    order_confirm_picked,
    order_edit,
    order_force,
    order_hold,
    order_pack,
    order_record_pick_activity,
    order_release_to_pick,
    order_validate,
    shipment_create,
    shipment_hand_to_carrier,
    shipment_record_scan,
)
from warehouse.errors import Conflict, InvalidInput, NotPermitted, Reason, TransitionNotAllowed
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState
from warehouse.transitions import transition_apply

pytestmark = pytest.mark.django_db


def level(sku, facility):
    return StockLevel.objects.get(sku=sku, facility=facility)


def open_exceptions(order, kind):
    return ExceptionItem.objects.filter(object_id=order.pk, kind=kind, state=ExceptionState.OPEN)


def packed(order, actor):
    order = order_release_to_pick(order=order, actor=actor)
    order = order_confirm_picked(order=order, actor=actor)
    return order_pack(order=order, actor=actor)


def test_paid_order_is_not_ready_to_pick_until_stock_is_allocated(make_order, stock, facility):
    order = make_order(lines=(("TEE-M", 2),))
    assert order.paid_at is not None
    assert order.state == OrderState.ACCEPTED
    assert order.allocated_stock() == [[stock["TEE-M"].pk, 2]]
    tee = level(stock["TEE-M"], facility)
    assert (tee.on_hand, tee.allocated, tee.available) == (10, 2, 8)


def test_received_order_is_validated_then_accepted_when_stock_is_allocated(make_order):
    order = make_order()
    kinds = [e.kind for e in order_timeline(order=order)]
    assert kinds == [
        OrderEventKind.RECEIVED,
        OrderEventKind.VALIDATED,
        OrderEventKind.ALLOCATED,
        OrderEventKind.ACCEPTED,
    ]


def test_order_accepted_is_released_to_pick_and_stock_moves_allocated_to_in_pick(
    accepted_order, stock, facility, operator
):
    order = order_release_to_pick(order=accepted_order, actor=operator)
    assert order.state == OrderState.PICKING
    tee = level(stock["TEE-M"], facility)
    assert (tee.on_hand, tee.allocated, tee.in_pick) == (10, 0, 2)


def test_picking_becomes_picked_on_final_pick_confirmation(accepted_order, operator):
    order = order_release_to_pick(order=accepted_order, actor=operator)
    order = order_confirm_picked(order=order, actor=operator)
    assert order.state == OrderState.PICKED


def test_picked_order_is_packed_and_inventory_is_still_in_the_building(accepted_order, operator, stock, facility):
    order = packed(accepted_order, operator)
    assert order.state == OrderState.PACKED
    tee = level(stock["TEE-M"], facility)
    assert (tee.on_hand, tee.in_pick) == (10, 2)


def test_packed_order_is_dispatched_only_with_carrier_receipt_tracking_and_timestamp(accepted_order, operator):
    order = packed(accepted_order, operator)
    with pytest.raises(TransitionNotAllowed) as refused:
        transition_apply(obj=order, name="dispatch", actor=operator)
    assert [r.code for r in refused.value.reasons] == ["no_carrier_proof"]
    assert Order.objects.get(pk=order.pk).state == OrderState.PACKED


def test_dispatched_order_is_delivered_on_carrier_delivery_confirmation(accepted_order, operator):
    order = packed(accepted_order, operator)
    shipment = shipment_create(order=order, carrier="SEUR", tracking_number="TRK1", actor=operator)
    shipment_hand_to_carrier(shipment=shipment, carrier_receipt="MAN-1", handed_at=timezone.now(), actor=operator)
    shipment_record_scan(shipment=shipment, status="delivered", occurred_at=timezone.now(), actor=None)
    assert Order.objects.get(pk=order.pk).state == OrderState.DELIVERED


@pytest.mark.parametrize(
    ("service", "name"),
    [
        (order_release_to_pick, "release_to_pick"),
        (order_confirm_picked, "confirm_picked"),
        (order_pack, "pack"),
    ],
)
def test_a_transition_from_the_wrong_state_is_refused_and_the_state_is_unchanged(make_order, operator, service, name):
    order = make_order(lines=(("NOPE", 1),))  # on hold
    assert order.state == OrderState.ON_HOLD
    with pytest.raises(TransitionNotAllowed) as refused:
        service(order=order, actor=operator)
    assert refused.value.reasons[0].code == "wrong_state"
    assert "on_hold" in refused.value.message
    assert Order.objects.get(pk=order.pk).state == OrderState.ON_HOLD


def test_validating_or_accepting_an_order_already_picking_is_refused(accepted_order, operator):
    order = order_release_to_pick(order=accepted_order, actor=operator)
    for service in (order_validate, order_accept):
        with pytest.raises(TransitionNotAllowed):
            service(order=order, actor=operator)
    assert Order.objects.get(pk=order.pk).state == OrderState.PICKING


def test_a_person_without_the_operate_permission_cannot_move_an_order(accepted_order, viewer):
    with pytest.raises(NotPermitted):
        order_release_to_pick(order=accepted_order, actor=viewer)
    assert Order.objects.get(pk=accepted_order.pk).state == OrderState.ACCEPTED


def test_accepted_order_without_complete_allocation_cannot_be_released_to_pick(accepted_order, operator):
    AllocationRow.objects.filter(order=accepted_order).delete()
    with pytest.raises(TransitionNotAllowed) as refused:
        order_release_to_pick(order=accepted_order, actor=operator)
    assert [r.code for r in refused.value.reasons] == ["not_allocated"]


def test_an_order_cannot_be_held_without_a_named_reason(accepted_order, operator):
    with pytest.raises(TransitionNotAllowed) as refused:
        transition_apply(obj=accepted_order, name="hold", actor=operator)
    assert [r.code for r in refused.value.reasons] == ["hold_reasons_required"]
    with pytest.raises(InvalidInput):
        order_hold(order=accepted_order, reasons=[], actor=operator)


def test_a_person_holds_an_accepted_order_and_its_allocation_goes_back(accepted_order, operator, stock, facility):
    order = order_hold(
        order=accepted_order, reasons=[Reason("customer_call", "customer asked to wait")], actor=operator
    )
    assert order.state == OrderState.ON_HOLD
    assert order.hold_reasons == [{"code": "customer_call", "message": "customer asked to wait"}]
    assert level(stock["TEE-M"], facility).allocated == 0
    assert open_exceptions(order, ExceptionKind.ORDER_ON_HOLD).count() == 1


# --- cancellation ---------------------------------------------------------------------------------------------------


def test_cancellation_before_packing_releases_the_allocation(accepted_order, operator, stock, facility):
    order = order_cancel(order=accepted_order, actor=operator, reason="customer changed their mind")
    assert order.state == OrderState.CANCELLED
    tee = level(stock["TEE-M"], facility)
    assert (tee.allocated, tee.available) == (0, 10)
    assert order.cancel_reason == "customer changed their mind"
    assert order_timeline(order=order).last().kind == OrderEventKind.CANCELLED


def test_cancellation_of_an_order_on_hold_closes_its_exception(make_order, operator):
    order = make_order(lines=(("NOPE", 1),))
    order = order_cancel(order=order, actor=operator, reason="duplicate")
    assert order.state == OrderState.CANCELLED
    assert not open_exceptions(order, ExceptionKind.ORDER_ON_HOLD).exists()


def test_cancellation_while_picking_puts_the_picked_units_back_to_available_through_the_ledger(
    accepted_order, operator, stock, facility
):
    before = level(stock["TEE-M"], facility).available
    order = order_release_to_pick(order=accepted_order, actor=operator)
    assert level(stock["TEE-M"], facility).in_pick == 2

    order = order_cancel(order=order, actor=operator, reason="fraud")

    assert order.state == OrderState.CANCELLED and not order.allocation_rows.exists()
    tee, cap = level(stock["TEE-M"], facility), level(stock["CAP-1"], facility)
    assert (tee.in_pick, tee.allocated, tee.available) == (0, 0, before + 2)
    assert (cap.in_pick, cap.available) == (0, 3)
    unpick = Movement.objects.filter(event_id=f"order:{order.pk}:unpick:{order.stock_round}").order_by("line")
    assert [(m.kind, m.sku.code, m.in_pick_delta) for m in unpick] == [
        (MovementKind.UNPICK, "TEE-M", -2),
        (MovementKind.UNPICK, "CAP-1", -1),
    ]
    assert not open_exceptions(order, ExceptionKind.OTHER).exists()
    assert order_timeline(order=order).filter(kind=OrderEventKind.ALLOCATION_RELEASED).exists()


def test_cancelling_a_picked_order_twice_puts_its_units_back_once(accepted_order, operator, stock, facility):
    order = order_confirm_picked(order=order_release_to_pick(order=accepted_order, actor=operator), actor=operator)
    order_cancel(order=order, actor=operator, reason="customer changed mind")
    again = order_cancel(order=Order.objects.get(pk=order.pk), actor=operator, reason="duplicate request")

    assert again.state == OrderState.CANCELLED
    assert level(stock["TEE-M"], facility).available == 10
    assert Movement.objects.filter(kind=MovementKind.UNPICK, reference__contains=order.platform_order_id).count() == 2


def test_cancellation_after_packing_is_refused_and_escalated(accepted_order, operator, stock, facility):
    order = packed(accepted_order, operator)
    with pytest.raises(TransitionNotAllowed) as refused:
        order_cancel(order=order, actor=operator, reason="too late")
    assert refused.value.reasons[0].code == "cancel_after_pack"
    assert Order.objects.get(pk=order.pk).state == OrderState.PACKED
    assert level(stock["TEE-M"], facility).in_pick == 2
    item = open_exceptions(order, ExceptionKind.CANCEL_AFTER_PACK).get()
    assert "too late" in item.reasons[0]["message"]
    assert order_timeline(order=order).last().kind == OrderEventKind.CANCEL_REFUSED


def test_cancelled_order_cannot_be_released_to_pick(accepted_order, operator):
    order = order_cancel(order=accepted_order, actor=operator, reason="x")
    with pytest.raises(TransitionNotAllowed):
        order_release_to_pick(order=order, actor=operator)


# --- edits ----------------------------------------------------------------------------------------------------------


def test_edits_apply_until_release_to_pick(accepted_order, order_manager, stock, facility):
    order = order_edit(
        order=accepted_order,
        actor=order_manager,
        address={"street1": "Avinguda del Port 5", "postal_code": "46023"},
        lines=[("TEE-M", 5)],
    )
    assert order.state == OrderState.ACCEPTED
    assert (order.delivery_street1, order.delivery_postal_code) == ("Avinguda del Port 5", "46023")
    assert order.allocated_stock() == [[stock["TEE-M"].pk, 5]]
    assert level(stock["TEE-M"], facility).allocated == 5
    assert level(stock["CAP-1"], facility).allocated == 0


def test_edits_after_release_to_pick_are_refused_and_escalated(accepted_order, operator, order_manager):
    order = order_release_to_pick(order=accepted_order, actor=operator)
    with pytest.raises(Conflict) as refused:
        order_edit(order=order, actor=order_manager, address={"street1": "Elsewhere 1"})
    assert refused.value.reasons[0].code == "edit_after_release"
    fresh = Order.objects.get(pk=order.pk)
    assert fresh.delivery_street1 == "Carrer de Colón 12"
    assert fresh.state == OrderState.PICKING
    assert open_exceptions(order, ExceptionKind.ORDER_EDIT_AFTER_RELEASE).count() == 1


def test_an_edit_needs_the_change_order_permission(accepted_order, operator):
    with pytest.raises(NotPermitted):
        order_edit(order=accepted_order, actor=operator, address={"street1": "x"})


# --- forced transitions ---------------------------------------------------------------------------------------------


def test_a_manager_may_force_a_held_order_through_validation_with_a_reason(make_order, order_manager, stock):
    order = make_order(phone="")
    assert order.state == OrderState.ON_HOLD
    order = order_force(order=order, name="validate", actor=order_manager, reason="customer confirmed by email")
    assert order.state == OrderState.ACCEPTED
    assert not open_exceptions(order, ExceptionKind.ORDER_ON_HOLD).exists()
    assert order.history.filter(history_change_reason__startswith="[forced]").exists()
    assert order_timeline(order=order).filter(kind=OrderEventKind.FORCED).exists()


def test_forcing_needs_the_permission_and_a_reason(make_order, operator, order_manager):
    order = make_order(phone="")
    with pytest.raises(NotPermitted):
        order_force(order=order, name="validate", actor=operator, reason="because")
    with pytest.raises(InvalidInput):
        order_force(order=order, name="validate", actor=order_manager, reason="  ")
    with pytest.raises(InvalidInput):
        order_force(order=order, name="accept", actor=order_manager, reason="a short order is never accepted")
    assert Order.objects.get(pk=order.pk).state == OrderState.ON_HOLD


# --- timeline -------------------------------------------------------------------------------------------------------


def test_the_timeline_reads_in_order_for_support(accepted_order, operator, django_assert_max_num_queries):
    order = packed(accepted_order, operator)
    shipment = shipment_create(order=order, carrier="SEUR", tracking_number="TRK9", actor=operator)
    handed = timezone.now()
    shipment_hand_to_carrier(shipment=shipment, carrier_receipt="MAN-9", handed_at=handed, actor=operator)
    shipment_record_scan(
        shipment=shipment, status="in_transit", occurred_at=handed + dt.timedelta(hours=2), location="Madrid"
    )
    shipment_record_scan(shipment=shipment, status="delivered", occurred_at=handed + dt.timedelta(days=1))
    with django_assert_max_num_queries(2):
        events = list(order_timeline(order=order))
    assert [e.kind for e in events] == [
        "received",
        "validated",
        "allocated",
        "accepted",
        "released_to_pick",
        "picked",
        "packed",
        "label_created",
        "handed_to_carrier",
        "carrier_scan",
        "in_transit",
        "carrier_scan",
        "delivered",
    ]
    assert [(e.at, e.pk) for e in events] == sorted((e.at, e.pk) for e in events)
    assert all(e.message for e in events)
    assert "Madrid" in events[9].message


def test_pick_activity_is_recorded_while_picking_only(accepted_order, operator):
    with pytest.raises(TransitionNotAllowed):
        order_record_pick_activity(order=accepted_order, actor=operator, note="scan")
    order = order_release_to_pick(order=accepted_order, actor=operator)
    before = order.last_activity_at
    order = order_record_pick_activity(order=order, actor=operator, note="line 1 scanned")
    assert Order.objects.get(pk=order.pk).last_activity_at > before
