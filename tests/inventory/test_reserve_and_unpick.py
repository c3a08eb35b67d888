"""Contract reservations live in the `reserved` bucket and picked units can go back to the shelf, both through the
ledger (issue 6, issue 3 "Cancellation"): a reservation is taken from available and never oversold, only the
contract's own allocation takes it, and an unpick is idempotent on its event id."""

import pytest

from inventory.models import Movement, MovementKind, StockLevel
from inventory.services import (
    inventory_verify_ledger,
    stock_allocate,
    stock_allocate_reserved,
    stock_receive,
    stock_reserve,
    stock_start_pick,
    stock_unpick,
    stock_unreserve,
)
from tests.inventory.factories import SkuFactory
from warehouse.errors import Conflict, InsufficientStock

pytestmark = pytest.mark.django_db


def level(sku, facility):
    return StockLevel.objects.get(sku=sku, facility=facility)


@pytest.fixture
def tee(brand, facility):
    sku = SkuFactory(brand=brand, code="TEE")
    stock_receive(sku=sku, facility=facility, quantity=5, event_id="rcv-tee", actor=None)
    return sku


def test_reserved_units_leave_available_and_ordinary_allocation_cannot_take_them(tee, facility):
    stock_reserve(sku=tee, facility=facility, quantity=3, event_id="res-1", actor=None, reason="contract")

    assert (level(tee, facility).reserved, level(tee, facility).available) == (3, 2)
    with pytest.raises(InsufficientStock):
        stock_allocate(facility=facility, lines=[(tee, 3)], event_id="alloc-3", actor=None)
    stock_allocate(facility=facility, lines=[(tee, 2)], event_id="alloc-2", actor=None)
    assert (level(tee, facility).allocated, level(tee, facility).reserved, level(tee, facility).available) == (2, 3, 0)


def test_a_reservation_never_takes_more_than_is_available(tee, facility):
    with pytest.raises(InsufficientStock):
        stock_reserve(sku=tee, facility=facility, quantity=6, event_id="res-6", actor=None, reason="contract")
    assert level(tee, facility).reserved == 0


def test_the_contract_allocation_takes_only_reserved_units_and_is_short_otherwise(tee, facility):
    stock_reserve(sku=tee, facility=facility, quantity=2, event_id="res-2", actor=None, reason="contract")

    with pytest.raises(InsufficientStock) as short:
        stock_allocate_reserved(facility=facility, lines=[(tee, 3)], event_id="w-3", actor=None)
    assert short.value.reasons[0].code == "insufficient_reserved"
    stock_allocate_reserved(facility=facility, lines=[(tee, 2)], event_id="w-2", actor=None)

    now = level(tee, facility)
    assert (now.reserved, now.allocated, now.available) == (0, 2, 3)
    assert Movement.objects.get(event_id="w-2").kind == MovementKind.ALLOCATE_RESERVED


def test_unreserve_gives_units_back_to_available_and_refuses_more_than_reserved(tee, facility):
    stock_reserve(sku=tee, facility=facility, quantity=2, event_id="res-2", actor=None, reason="contract")
    with pytest.raises(Conflict):
        stock_unreserve(sku=tee, facility=facility, quantity=3, event_id="unres-3", actor=None, reason="ended")
    stock_unreserve(sku=tee, facility=facility, quantity=2, event_id="unres-2", actor=None, reason="ended")
    assert (level(tee, facility).reserved, level(tee, facility).available) == (0, 5)
    assert inventory_verify_ledger(facility=facility) == []


def test_unpick_moves_in_pick_back_to_available_once_per_event_id(tee, facility):
    stock_allocate(facility=facility, lines=[(tee, 3)], event_id="a", actor=None)
    stock_start_pick(facility=facility, lines=[(tee, 3)], event_id="p", actor=None)

    first = stock_unpick(facility=facility, lines=[(tee, 3)], event_id="order:1:unpick:1", actor=None)
    again = stock_unpick(facility=facility, lines=[(tee, 3)], event_id="order:1:unpick:1", actor=None)

    now = level(tee, facility)
    assert (now.in_pick, now.allocated, now.on_hand, now.available) == (0, 0, 5, 5)
    assert not first.replayed and again.replayed
    assert [m.pk for m in again.movements] == [m.pk for m in first.movements]
    assert first.movements[0].kind == MovementKind.UNPICK and first.movements[0].in_pick_delta == -3
    assert inventory_verify_ledger(facility=facility) == []


def test_unpick_refuses_more_than_is_in_pick(tee, facility):
    stock_allocate(facility=facility, lines=[(tee, 1)], event_id="a", actor=None)
    stock_start_pick(facility=facility, lines=[(tee, 1)], event_id="p", actor=None)
    with pytest.raises(Conflict) as refused:
        stock_unpick(facility=facility, lines=[(tee, 2)], event_id="u", actor=None)
    assert refused.value.reasons[0].code == "insufficient_in_pick"
    assert level(tee, facility).in_pick == 1
