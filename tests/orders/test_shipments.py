"""Shipment custody (seed 001 "Object ownership: Shipment"): staged → handed to carrier (carrier receipt, tracking
number and timestamp) → in transit → delivered. Inventory leaves the building at hand-off, not before; a manager
may close a shipment manually with a reason."""

import datetime as dt

import pytest
from django.utils import timezone

from inventory.models import Movement, MovementKind, StockLevel
from orders.models import Order, OrderState, Shipment, ShipmentEvent, ShipmentState
from orders.services import (
    order_confirm_picked,
    order_pack,
    order_release_to_pick,
    shipment_close_manually,
    shipment_create,
    shipment_hand_to_carrier,
    shipment_record_scan,
)
from orders.signals import shipment_handed_to_carrier
from warehouse.errors import InvalidInput, NotPermitted, TransitionNotAllowed
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState
from warehouse.transitions import transition_apply

pytestmark = pytest.mark.django_db


@pytest.fixture
def packed_order(accepted_order, operator):
    order = order_release_to_pick(order=accepted_order, actor=operator)
    order = order_confirm_picked(order=order, actor=operator)
    return order_pack(order=order, actor=operator)


@pytest.fixture
def staged(packed_order, operator):
    return shipment_create(order=packed_order, carrier="SEUR", service="24h", tracking_number="TRK-1", actor=operator)


@pytest.fixture
def handed(staged, operator):
    return shipment_hand_to_carrier(shipment=staged, carrier_receipt="MAN-1", handed_at=timezone.now(), actor=operator)


def tee(stock, facility):
    return StockLevel.objects.get(sku=stock["TEE-M"], facility=facility)


def test_a_packed_order_gets_a_staged_shipment_with_its_label(staged):
    assert staged.state == ShipmentState.STAGED
    assert staged.label_created_at is not None


def test_a_shipment_is_created_only_for_a_packed_order(accepted_order, operator):
    with pytest.raises(TransitionNotAllowed) as refused:
        shipment_create(order=accepted_order, carrier="SEUR", actor=operator)
    assert refused.value.reasons[0].code == "order_not_packed"
    assert not Shipment.objects.exists()


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({"carrier_receipt": "", "tracking_number": "", "handed_at": None},
         ["carrier_receipt_missing", "tracking_number_missing", "handed_at_missing"]),
        ({"carrier_receipt": "", "handed_at": "now"}, ["carrier_receipt_missing"]),
        ({"carrier_receipt": "MAN-1", "tracking_number": "", "handed_at": "now"}, ["tracking_number_missing"]),
        ({"carrier_receipt": "MAN-1", "handed_at": None}, ["handed_at_missing"]),
    ],
)  # fmt: skip
def test_hand_off_needs_carrier_receipt_tracking_number_and_timestamp(
    staged, operator, stock, facility, changes, failed
):
    changes = {k: (timezone.now() if v == "now" else v) for k, v in changes.items()}
    with pytest.raises(TransitionNotAllowed) as refused:
        transition_apply(obj=staged, name="hand_to_carrier", actor=operator, changes=changes)
    assert [r.code for r in refused.value.reasons] == failed
    assert Shipment.objects.get(pk=staged.pk).state == ShipmentState.STAGED
    assert tee(stock, facility).in_pick == 2


def test_the_hand_off_service_refuses_without_proof_and_ships_nothing(staged, operator, stock, facility):
    with pytest.raises(TransitionNotAllowed):
        shipment_hand_to_carrier(shipment=staged, carrier_receipt="", handed_at=None, actor=operator)
    assert Order.objects.get(pk=staged.order_id).state == OrderState.PACKED
    assert not Movement.objects.filter(kind=MovementKind.SHIP).exists()


def test_inventory_leaves_the_building_at_hand_off_not_before(staged, operator, stock, facility):
    assert (tee(stock, facility).on_hand, tee(stock, facility).in_pick) == (10, 2)  # packed: still here
    shipment_hand_to_carrier(shipment=staged, carrier_receipt="MAN-1", handed_at=timezone.now(), actor=operator)
    level = tee(stock, facility)
    assert (level.on_hand, level.in_pick, level.allocated) == (8, 0, 0)
    assert Order.objects.get(pk=staged.order_id).state == OrderState.DISPATCHED


def test_hand_off_tells_listeners_inside_its_transaction(staged, operator, django_capture_on_commit_callbacks):
    """Listeners write in the hand-off's transaction (integrations: the outbox row), never after its commit."""
    heard = []

    def listener(sender, shipment, **kwargs):
        heard.append((shipment.pk, Shipment.objects.get(pk=shipment.pk).state))

    shipment_handed_to_carrier.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=False):
            shipment_hand_to_carrier(shipment=staged, carrier_receipt="M", handed_at=timezone.now(), actor=operator)
        assert heard == [(staged.pk, ShipmentState.HANDED_TO_CARRIER)]  # before commit, seeing the hand-off
    finally:
        shipment_handed_to_carrier.disconnect(listener)


def test_a_listener_that_fails_undoes_the_hand_off(staged, operator, stock, facility):
    """The listener's write and the hand-off commit together or not at all."""

    def listener(sender, shipment, **kwargs):
        raise RuntimeError("the outbox row could not be written")

    shipment_handed_to_carrier.connect(listener)
    try:
        with pytest.raises(RuntimeError):
            shipment_hand_to_carrier(shipment=staged, carrier_receipt="M", handed_at=timezone.now(), actor=operator)
    finally:
        shipment_handed_to_carrier.disconnect(listener)
    assert Shipment.objects.get(pk=staged.pk).state == ShipmentState.STAGED
    assert Order.objects.get(pk=staged.order_id).state == OrderState.PACKED
    assert tee(stock, facility).in_pick == 2  # the units did not leave the building


def test_the_first_carrier_scan_acknowledges_custody_and_moves_it_in_transit(handed):
    at = timezone.now()
    shipment = shipment_record_scan(shipment=handed, status="in_transit", occurred_at=at, event_id="s1")
    assert shipment.state == ShipmentState.IN_TRANSIT
    assert shipment.acknowledged_at == at
    assert Order.objects.get(pk=handed.order_id).state == OrderState.IN_TRANSIT


def test_a_repeated_carrier_scan_is_recorded_once(handed):
    at = timezone.now()
    for _ in range(3):
        shipment_record_scan(shipment=handed, status="info", occurred_at=at, description="Arrived at hub")
    assert ShipmentEvent.objects.filter(shipment=handed).count() == 1


def test_delivery_confirmation_closes_the_shipment_and_the_order(handed):
    at = timezone.now()
    shipment_record_scan(shipment=handed, status="in_transit", occurred_at=at, event_id="s1")
    shipment = shipment_record_scan(shipment=handed, status="delivered", occurred_at=at, event_id="s2")
    assert (shipment.state, shipment.delivered_at) == (ShipmentState.DELIVERED, at)
    assert Order.objects.get(pk=handed.order_id).state == OrderState.DELIVERED


def test_a_scan_for_a_shipment_still_staged_is_refused(staged):
    with pytest.raises(TransitionNotAllowed):
        shipment_record_scan(shipment=staged, status="in_transit", occurred_at=timezone.now())
    assert not ShipmentEvent.objects.exists()


def test_an_unknown_scan_status_is_refused(handed):
    with pytest.raises(InvalidInput):
        shipment_record_scan(shipment=handed, status="teleported", occurred_at=timezone.now())


def test_in_transit_shipment_cannot_be_handed_over_again(handed, operator):
    with pytest.raises(TransitionNotAllowed) as refused:
        shipment_hand_to_carrier(shipment=handed, carrier_receipt="X", handed_at=timezone.now(), actor=operator)
    assert refused.value.reasons[0].code == "wrong_state"


def test_a_manager_closes_a_shipment_manually_with_a_reason(handed, order_manager):
    from orders.tasks import shipments_check_carrier_ack

    shipments_check_carrier_ack(now=timezone.now() + dt.timedelta(hours=25))
    shipment = shipment_close_manually(shipment=handed, actor=order_manager, reason="POD received by email")
    assert shipment.state == ShipmentState.DELIVERED
    assert shipment.closed_manually_reason == "POD received by email"
    assert Order.objects.get(pk=handed.order_id).state == OrderState.DELIVERED
    assert shipment.history.filter(history_change_reason="[forced] POD received by email").exists()
    item = ExceptionItem.objects.get(kind=ExceptionKind.CARRIER_ACK_MISSING)
    assert item.state == ExceptionState.RESOLVED


def test_closing_a_shipment_manually_needs_the_permission_and_a_reason(handed, operator, order_manager):
    with pytest.raises(NotPermitted):
        shipment_close_manually(shipment=handed, actor=operator, reason="because")
    with pytest.raises(InvalidInput):
        shipment_close_manually(shipment=handed, actor=order_manager, reason=" ")
    assert Shipment.objects.get(pk=handed.pk).state == ShipmentState.HANDED_TO_CARRIER
