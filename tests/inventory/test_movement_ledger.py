"""Seed 001 "Inventory Status Transitions": every change of stock is a row of the append-only movement ledger;
replaying an event id changes nothing; the physical count wins; a scheduled check finds buckets that drift from
their ledger."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django_q.models import Schedule

from inventory.models import BUCKETS, Movement, MovementKind, StockLevel
from inventory.selectors import movement_list, sku_available, stock_levels
from inventory.services import (
    inventory_verify_ledger,
    stock_adjust,
    stock_allocate,
    stock_cycle_count,
    stock_dispose_return,
    stock_quarantine,
    stock_quarantine_release,
    stock_receive,
    stock_receive_return,
    stock_release,
    stock_restock_return,
    stock_rework_return,
    stock_ship,
    stock_start_pick,
)
from inventory.tasks import verify_ledger
from tests.conftest import grant
from tests.factories import UserFactory
from tests.inventory.factories import SkuFactory
from warehouse.errors import Conflict, InsufficientStock, InvalidInput, NotPermitted
from warehouse.models import ExceptionItem, ExceptionKind

pytestmark = pytest.mark.django_db


def _level(sku, facility):
    level = StockLevel.objects.get(sku=sku, facility=facility)
    return {bucket: getattr(level, bucket) for bucket in BUCKETS} | {"available": level.available}


@pytest.fixture
def sku(brand):
    return SkuFactory(brand=brand, code="TEE-M")


@pytest.fixture
def stocked(sku, facility):
    stock_receive(sku=sku, facility=facility, quantity=100, event_id="rcv-100", actor=None, reason="ASN 7")
    return sku


@pytest.fixture
def approver(db):
    return grant(UserFactory(username="supervisor"), "inventory.approve_cycle_count")


def test_receiving_records_a_movement_with_actor_and_reason(sku, facility, manager):
    result = stock_receive(sku=sku, facility=facility, quantity=12, event_id="rcv-1", actor=manager, reason="ASN 1")
    (movement,) = result.movements
    assert (movement.kind, movement.quantity, movement.on_hand_delta) == (MovementKind.RECEIVE, 12, 12)
    assert (movement.actor, movement.reason, movement.event_id) == (manager, "ASN 1", "rcv-1")
    assert _level(sku, facility)["on_hand"] == 12 and sku_available(sku=sku, facility=facility) == 12


def test_replaying_an_event_id_returns_the_first_result_and_changes_nothing(stocked, facility):
    first = stock_allocate(facility=facility, lines=[(stocked, 30)], event_id="order-9:allocate", actor=None)
    before = _level(stocked, facility)
    again = stock_allocate(facility=facility, lines=[(stocked, 30)], event_id="order-9:allocate", actor=None)
    assert again.replayed and not first.replayed
    assert [m.pk for m in again.movements] == [m.pk for m in first.movements]
    assert _level(stocked, facility) == before == {**before, "allocated": 30}
    assert Movement.objects.filter(event_id="order-9:allocate").count() == 1
    replay_receive = stock_receive(sku=stocked, facility=facility, quantity=100, event_id="rcv-100", actor=None)
    assert replay_receive.replayed and _level(stocked, facility)["on_hand"] == 100


def test_a_replay_is_a_no_op_even_when_the_stock_it_took_is_gone(stocked, facility):
    stock_allocate(facility=facility, lines=[(stocked, 100)], event_id="all-of-it", actor=None)
    again = stock_allocate(facility=facility, lines=[(stocked, 100)], event_id="all-of-it", actor=None)
    assert again.replayed and _level(stocked, facility)["allocated"] == 100


def test_an_event_id_reused_for_another_kind_of_movement_is_refused(stocked, facility):
    with pytest.raises(Conflict) as excinfo:
        stock_allocate(facility=facility, lines=[(stocked, 1)], event_id="rcv-100", actor=None)
    assert [r.code for r in excinfo.value.reasons] == ["event_id_reused"]
    assert _level(stocked, facility)["allocated"] == 0


@pytest.mark.parametrize("quantity", [0, -1, True, 1.5, "3", None])
def test_a_quantity_that_is_not_a_positive_whole_number_is_refused_and_nothing_moves(stocked, facility, quantity):
    with pytest.raises(InvalidInput) as excinfo:
        stock_allocate(facility=facility, lines=[(stocked, quantity)], event_id="bad", actor=None)
    assert [r.code for r in excinfo.value.reasons] == ["quantity_not_positive"]
    assert _level(stocked, facility)["allocated"] == 0 and not Movement.objects.filter(event_id="bad").exists()


def test_a_blank_event_id_is_refused(stocked, facility):
    with pytest.raises(InvalidInput):
        stock_allocate(facility=facility, lines=[(stocked, 1)], event_id="  ", actor=None)


def test_allocation_is_all_or_nothing_and_names_each_short_sku_with_requested_and_available(brand, stocked, facility):
    cap = SkuFactory(brand=brand, code="CAP")
    sock = SkuFactory(brand=brand, code="SOCK")
    stock_receive(sku=cap, facility=facility, quantity=2, event_id="rcv-cap", actor=None)
    with pytest.raises(InsufficientStock) as excinfo:
        stock_allocate(facility=facility, lines=[(stocked, 10), (cap, 3), (sock, 1)], event_id="o1", actor=None)
    assert [r.message for r in excinfo.value.reasons] == [
        "CAP: requested 3, available 2 at VLC1",
        "SOCK: requested 1, available 0 at VLC1",
    ]
    assert excinfo.value.http_status == 409
    assert _level(stocked, facility)["allocated"] == 0 and _level(cap, facility)["allocated"] == 0
    assert not Movement.objects.filter(event_id="o1").exists()
    # the same event id may be used once the stock is there: a refused allocation recorded nothing
    stock_receive(sku=cap, facility=facility, quantity=1, event_id="rcv-cap-2", actor=None)
    stock_receive(sku=sock, facility=facility, quantity=1, event_id="rcv-sock", actor=None)
    result = stock_allocate(facility=facility, lines=[(stocked, 10), (cap, 3), (sock, 1)], event_id="o1", actor=None)
    assert [m.line for m in result.movements] == [1, 2, 3] and not result.replayed


def test_available_to_allocated_to_in_pick_to_shipped(stocked, facility):
    stock_allocate(facility=facility, lines=[(stocked, 10)], event_id="a", actor=None, reference="order 1")
    assert _level(stocked, facility)["available"] == 90
    stock_start_pick(facility=facility, lines=[(stocked, 10)], event_id="p", actor=None, reference="order 1")
    assert (_level(stocked, facility)["allocated"], _level(stocked, facility)["in_pick"]) == (0, 10)
    stock_ship(facility=facility, lines=[(stocked, 10)], event_id="s", actor=None, reference="order 1")
    level = _level(stocked, facility)
    assert (level["on_hand"], level["allocated"], level["in_pick"], level["available"]) == (90, 0, 0, 90)
    assert [m.kind for m in movement_list(sku=stocked)] == ["ship", "start_pick", "allocate", "receive"]
    assert Movement.objects.get(event_id="s").reference == "order 1"


def test_releasing_an_allocation_makes_the_units_available_again(stocked, facility):
    stock_allocate(facility=facility, lines=[(stocked, 10)], event_id="a", actor=None)
    stock_release(facility=facility, lines=[(stocked, 4)], event_id="r", actor=None)
    assert (_level(stocked, facility)["allocated"], _level(stocked, facility)["available"]) == (6, 94)


@pytest.mark.parametrize(
    ("service", "bucket"),
    [(stock_release, "allocated"), (stock_start_pick, "allocated"), (stock_ship, "in_pick")],
)
def test_moving_more_than_a_bucket_holds_is_refused_naming_the_bucket(stocked, facility, service, bucket):
    stock_allocate(facility=facility, lines=[(stocked, 2)], event_id="a", actor=None)
    before = _level(stocked, facility)
    with pytest.raises(Conflict) as excinfo:
        service(facility=facility, lines=[(stocked, 3)], event_id="too-much", actor=None)
    assert [r.code for r in excinfo.value.reasons] == [f"insufficient_{bucket}"]
    assert _level(stocked, facility) == before


def test_quarantine_holds_units_out_of_available_until_released(stocked, facility):
    stock_quarantine(sku=stocked, facility=facility, quantity=5, event_id="q", actor=None, reason="wet carton")
    assert (_level(stocked, facility)["quarantine"], _level(stocked, facility)["available"]) == (5, 95)
    stock_quarantine_release(sku=stocked, facility=facility, quantity=5, event_id="qr", actor=None, reason="dry")
    assert _level(stocked, facility)["available"] == 100
    with pytest.raises(InsufficientStock):
        stock_quarantine(sku=stocked, facility=facility, quantity=101, event_id="q2", actor=None, reason="x")
    with pytest.raises(InvalidInput):
        stock_quarantine(sku=stocked, facility=facility, quantity=1, event_id="q3", actor=None, reason=" ")


def test_a_returned_unit_is_never_available_before_triage_and_each_disposition_moves_it(stocked, facility):
    stock_receive_return(sku=stocked, facility=facility, quantity=6, event_id="ret", actor=None, reference="RMA-1")
    level = _level(stocked, facility)
    assert (level["on_hand"], level["quarantine"], level["available"]) == (106, 6, 100)
    stock_restock_return(sku=stocked, facility=facility, quantity=3, event_id="restock", actor=None)
    stock_rework_return(sku=stocked, facility=facility, quantity=2, event_id="rework", actor=None)
    stock_dispose_return(sku=stocked, facility=facility, quantity=1, event_id="dispose", actor=None)
    level = _level(stocked, facility)
    assert (level["on_hand"], level["quarantine"], level["damaged"], level["available"]) == (105, 0, 2, 103)
    with pytest.raises(Conflict):
        stock_restock_return(sku=stocked, facility=facility, quantity=1, event_id="restock-2", actor=None)


def test_an_adjustment_needs_a_reason_and_never_takes_committed_units(stocked, facility):
    with pytest.raises(InvalidInput):
        stock_adjust(sku=stocked, facility=facility, delta=-1, event_id="adj0", actor=None, reason="")
    stock_adjust(sku=stocked, facility=facility, delta=-10, event_id="adj1", actor=None, reason="broken")
    stock_allocate(facility=facility, lines=[(stocked, 80)], event_id="a", actor=None)
    with pytest.raises(InsufficientStock):
        stock_adjust(sku=stocked, facility=facility, delta=-11, event_id="adj2", actor=None, reason="lost")
    assert _level(stocked, facility)["on_hand"] == 90
    assert Movement.objects.get(event_id="adj1").on_hand_delta == -10


def test_the_physical_count_wins_and_the_variance_approver_and_reason_are_recorded(
    stocked, facility, manager, approver
):
    result = stock_cycle_count(sku=stocked, facility=facility, counted=80, event_id="count-1", actor=manager,
                               approver=approver, reason="annual stock audit")  # fmt: skip
    (movement,) = result.movements
    assert _level(stocked, facility)["on_hand"] == 80
    assert movement.kind == MovementKind.CYCLE_COUNT and movement.on_hand_delta == -20 and movement.quantity == -20
    assert movement.detail == {"expected": 100, "counted": 80, "variance": -20}
    assert (movement.actor, movement.approver, movement.reason) == (manager, approver, "annual stock audit")
    again = stock_cycle_count(sku=stocked, facility=facility, counted=80, event_id="count-1", actor=manager,
                              approver=approver, reason="annual stock audit")  # fmt: skip
    assert again.replayed and _level(stocked, facility)["on_hand"] == 80


def test_a_cycle_count_needs_a_permitted_approver_and_a_reason(stocked, facility, manager, approver):
    with pytest.raises(NotPermitted):
        stock_cycle_count(sku=stocked, facility=facility, counted=80, event_id="c", actor=manager,
                          approver=UserFactory(username="temp"), reason="audit")  # fmt: skip
    with pytest.raises(InvalidInput):
        stock_cycle_count(sku=stocked, facility=facility, counted=80, event_id="c", actor=manager,
                          approver=approver, reason="")  # fmt: skip
    with pytest.raises(InvalidInput):
        stock_cycle_count(sku=stocked, facility=facility, counted=-1, event_id="c", actor=manager,
                          approver=approver, reason="audit")  # fmt: skip
    assert _level(stocked, facility)["on_hand"] == 100 and not Movement.objects.filter(event_id="c").exists()


def test_a_count_below_the_committed_units_is_refused_with_the_numbers(stocked, facility, approver):
    stock_allocate(facility=facility, lines=[(stocked, 50)], event_id="a", actor=None)
    with pytest.raises(Conflict) as excinfo:
        stock_cycle_count(sku=stocked, facility=facility, counted=40, event_id="c", actor=None,
                          approver=approver, reason="audit")  # fmt: skip
    assert [r.code for r in excinfo.value.reasons] == ["count_below_committed"]
    assert "counted 40" in excinfo.value.message and "50" in excinfo.value.message


def test_a_replayed_count_returns_the_first_result_even_when_stock_has_moved_on(stocked, facility, approver):
    first = stock_cycle_count(sku=stocked, facility=facility, counted=60, event_id="count-2", actor=None,
                              approver=approver, reason="audit")  # fmt: skip
    stock_receive(sku=stocked, facility=facility, quantity=40, event_id="rcv-40", actor=None)
    stock_allocate(facility=facility, lines=[(stocked, 80)], event_id="a", actor=None)  # a new count of 60 is refused
    again = stock_cycle_count(sku=stocked, facility=facility, counted=60, event_id="count-2", actor=None,
                              approver=approver, reason="audit")  # fmt: skip
    assert again.replayed and [m.pk for m in again.movements] == [m.pk for m in first.movements]
    assert _level(stocked, facility)["on_hand"] == 100


def test_a_count_of_a_sku_never_stocked_here_creates_its_stock_row(sku, facility, approver):
    stock_cycle_count(sku=sku, facility=facility, counted=7, event_id="found", actor=None, approver=approver,
                      reason="found on a shelf")  # fmt: skip
    assert _level(sku, facility)["on_hand"] == 7


def test_stock_cannot_go_negative_or_below_what_is_committed_even_by_a_raw_update(stocked, facility):
    for raw in ("UPDATE inventory_stocklevel SET allocated = on_hand + 1",
                "UPDATE inventory_stocklevel SET damaged = -1"):  # fmt: skip
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(raw)


def test_a_ledger_row_cannot_be_changed_or_deleted(stocked):
    movement = Movement.objects.get(event_id="rcv-100")
    with pytest.raises(ValueError):
        movement.save()
    with pytest.raises(ValueError):
        movement.delete()


@pytest.mark.postgresql
def test_the_database_refuses_update_and_delete_of_ledger_rows(stocked):
    for raw in ("UPDATE inventory_movement SET quantity = 1", "DELETE FROM inventory_movement"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(raw)
    assert Movement.objects.get(event_id="rcv-100").quantity == 100


def test_the_invariant_check_opens_an_exception_for_a_bucket_that_drifts_from_its_ledger(stocked, facility, brand):
    stock_allocate(facility=facility, lines=[(stocked, 10)], event_id="a", actor=None)
    assert inventory_verify_ledger() == []
    assert not ExceptionItem.objects.exists()
    with connection.cursor() as cursor:  # someone "fixes" stock behind the ledger's back
        cursor.execute("UPDATE inventory_stocklevel SET on_hand = on_hand + 3, allocated = allocated - 1")
    (drift,) = inventory_verify_ledger()
    assert drift.buckets == {"on_hand": (103, 100), "allocated": (9, 10)}
    item = ExceptionItem.objects.get()
    assert item.kind == ExceptionKind.INVENTORY_DRIFT and item.brand == brand and item.facility == facility
    assert item.subject == StockLevel.objects.get(sku=stocked)
    assert [r["message"] for r in item.reasons] == [
        "on hand is 103 but the ledger says 100",
        "allocated is 9 but the ledger says 10",
    ]
    assert verify_ledger() == 1  # the scheduled task: re-running adds no duplicate
    assert ExceptionItem.objects.count() == 1


def test_the_ledger_check_is_scheduled_hourly(db):
    call_command("sync_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    schedule = Schedule.objects.get(func="inventory.tasks.verify_ledger")
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == ("I", 60, -1)


def test_stock_levels_list_available_from_the_annotation_in_one_query(brand, facility, django_assert_max_num_queries):
    for n in range(15):
        sku = SkuFactory(brand=brand, code=f"S{n:02d}")
        stock_receive(sku=sku, facility=facility, quantity=n + 5, event_id=f"r{n}", actor=None)
        if n:
            stock_allocate(facility=facility, lines=[(sku, n)], event_id=f"a{n}", actor=None)
    with django_assert_max_num_queries(1):
        rows = [(lvl.sku.code, lvl.sku.brand.name, lvl.facility.code, lvl.available) for lvl in stock_levels()]
    assert [r[3] for r in rows] == [5] * 15
