"""Control points (seed 001 "Status transitions"): an order picking with no activity for 4 hours raises an alert; a
shipment handed to the carrier with no acknowledgement within 24 hours raises an alert. Re-running adds nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from orders.models import Order
from orders.schedules import SCHEDULES
from orders.services import (
    order_confirm_picked,
    order_pack,
    order_record_pick_activity,
    order_release_to_pick,
    shipment_create,
    shipment_hand_to_carrier,
    shipment_record_scan,
)
from orders.tasks import orders_check_picking_stalled, shipments_check_carrier_ack
from warehouse.management.commands.sync_schedules import declared_schedules
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def stalled_items(kind):
    return ExceptionItem.objects.filter(kind=kind, state=ExceptionState.OPEN)


def test_an_order_picking_with_no_activity_for_4_hours_raises_an_alert(accepted_order, operator):
    order = order_release_to_pick(order=accepted_order, actor=operator)
    now = timezone.now()
    assert orders_check_picking_stalled(now=now + 3 * HOUR + 59 * dt.timedelta(minutes=1)) == 0
    assert not stalled_items(ExceptionKind.PICKING_STALLED).exists()
    assert orders_check_picking_stalled(now=now + 4 * HOUR + dt.timedelta(minutes=1)) == 1
    item = stalled_items(ExceptionKind.PICKING_STALLED).get()
    assert item.object_id == order.pk
    assert item.reasons[0]["code"] == "picking_stalled"


def test_the_picking_alarm_is_idempotent(accepted_order, operator):
    order_release_to_pick(order=accepted_order, actor=operator)
    later = timezone.now() + 5 * HOUR
    orders_check_picking_stalled(now=later)
    orders_check_picking_stalled(now=later + HOUR)
    assert stalled_items(ExceptionKind.PICKING_STALLED).count() == 1


def test_pick_activity_keeps_the_picking_alarm_quiet(accepted_order, operator):
    order = order_release_to_pick(order=accepted_order, actor=operator)
    Order.objects.filter(pk=order.pk).update(last_activity_at=timezone.now() - 3 * HOUR)
    order_record_pick_activity(order=order, actor=operator, note="line 2 scanned")
    assert orders_check_picking_stalled(now=timezone.now() + 2 * HOUR) == 0


def test_orders_not_picking_never_raise_the_picking_alarm(accepted_order):
    assert orders_check_picking_stalled(now=timezone.now() + 48 * HOUR) == 0


@pytest.fixture
def handed(accepted_order, operator):
    order = order_release_to_pick(order=accepted_order, actor=operator)
    order = order_confirm_picked(order=order, actor=operator)
    order = order_pack(order=order, actor=operator)
    shipment = shipment_create(order=order, carrier="GLS", tracking_number="GLS-1", actor=operator)
    return shipment_hand_to_carrier(shipment=shipment, carrier_receipt="R-1", handed_at=timezone.now(), actor=operator)


def test_a_shipment_handed_over_with_no_carrier_acknowledgement_in_24_hours_raises_an_alert(handed):
    assert shipments_check_carrier_ack(now=handed.handed_at + 23 * HOUR) == 0
    assert shipments_check_carrier_ack(now=handed.handed_at + 25 * HOUR) == 1
    shipments_check_carrier_ack(now=handed.handed_at + 26 * HOUR)
    item = stalled_items(ExceptionKind.CARRIER_ACK_MISSING).get()
    assert item.object_id == handed.pk
    assert "dock" in item.reasons[0]["message"]


def test_a_late_carrier_scan_closes_the_acknowledgement_alert(handed):
    shipments_check_carrier_ack(now=handed.handed_at + 25 * HOUR)
    shipment_record_scan(shipment=handed, status="in_transit", occurred_at=timezone.now(), event_id="late")
    assert not stalled_items(ExceptionKind.CARRIER_ACK_MISSING).exists()
    assert shipments_check_carrier_ack(now=handed.handed_at + 30 * HOUR) == 0


def test_the_schedules_are_declared_for_sync_schedules():
    funcs = {spec["func"] for spec in declared_schedules()}
    assert {"orders.tasks.orders_check_picking_stalled", "orders.tasks.shipments_check_carrier_ack"} <= funcs
    assert all(spec["name"].startswith("orders:") for spec in SCHEDULES)
