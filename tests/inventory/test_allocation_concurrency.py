"""Allocation never oversells on PostgreSQL under concurrency (reliability.md): N threads released together by a
Barrier take the last units of one SKU. The canary, the naive read-then-write allocation, must be shown to oversell
under the same load, or this test proves nothing."""

import pytest
from django.db import transaction

from inventory.models import Movement, MovementKind, StockLevel
from inventory.services import stock_allocate, stock_receive
from tests.concurrency import race
from tests.factories import BrandFactory, FacilityFactory
from tests.inventory.factories import SkuFactory
from warehouse.errors import InsufficientStock

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql,
]

THREADS = 12


def _race(worker, n=THREADS):
    return race(worker, n)


@pytest.fixture
def last_units():
    brand, facility = BrandFactory(slug="race"), FacilityFactory(code="RACE")
    sku = SkuFactory(brand=brand, code="LAST-UNITS")
    stock_receive(sku=sku, facility=facility, quantity=5, event_id="rcv", actor=None)
    return sku, facility


def _naive_allocate(*, sku, facility, quantity, event_id):
    """The canary: read available, decide in Python, write the new number back (lost update)."""
    with transaction.atomic():
        level = StockLevel.objects.get(sku=sku, facility=facility)
        if level.available < quantity:
            raise InsufficientStock("short")
        level.allocated += quantity
        level.save(update_fields=["allocated"])
        Movement.objects.create(event_id=event_id, kind=MovementKind.ALLOCATE, sku=sku, facility=facility,
                                quantity=quantity, allocated_delta=quantity)  # fmt: skip


def _round(allocate, sku, facility, tag):
    results = _race(lambda i: allocate(sku=sku, facility=facility, quantity=1, event_id=f"{tag}-{i}"))
    granted = [r for r in results if not isinstance(r, Exception)]
    errors = [r for r in results if isinstance(r, Exception)]
    return granted, errors


def test_concurrent_allocations_of_the_last_units_never_oversell(last_units):
    sku, facility = last_units
    for round_no in range(3):
        StockLevel.objects.filter(sku=sku).update(allocated=0)  # a fresh race on the same 5 units
        granted, errors = _round(
            lambda **kw: stock_allocate(facility=kw["facility"], lines=[(kw["sku"], kw["quantity"])],
                                        event_id=kw["event_id"], actor=None),
            sku, facility, f"safe{round_no}",
        )  # fmt: skip
        assert len(granted) == 5, errors
        assert all(isinstance(e, InsufficientStock) for e in errors) and len(errors) == THREADS - 5
        level = StockLevel.objects.get(sku=sku, facility=facility)
        assert (level.allocated, level.available) == (5, 0)
        assert Movement.objects.filter(event_id__startswith=f"safe{round_no}-").count() == 5


def test_the_naive_read_then_write_allocation_oversells_under_the_same_race(last_units):
    """Canary: if this stops overselling, the race above is not racing and proves nothing."""
    sku, facility = last_units
    oversold_rounds = 0
    for round_no in range(10):
        StockLevel.objects.filter(sku=sku).update(allocated=0)
        granted, _ = _round(_naive_allocate, sku, facility, f"naive{round_no}")
        if len(granted) > 5:  # more units promised than exist
            oversold_rounds += 1
        if oversold_rounds >= 3:
            break
    assert oversold_rounds >= 3


def test_replaying_one_event_id_from_ten_threads_allocates_once(last_units):
    sku, facility = last_units
    results = _race(
        lambda i: stock_allocate(facility=facility, lines=[(sku, 2)], event_id="same-event", actor=None), 10
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(not r.replayed for r in results) == 1
    assert {tuple(m.pk for m in r.movements) for r in results} == {
        tuple(Movement.objects.filter(event_id="same-event").values_list("pk", flat=True))
    }
    assert StockLevel.objects.get(sku=sku).allocated == 2


def test_multi_line_allocations_in_opposite_orders_do_not_deadlock(last_units):
    sku, facility = last_units
    other = SkuFactory(brand=sku.brand, code="OTHER")
    stock_receive(sku=other, facility=facility, quantity=5, event_id="rcv-other", actor=None)

    def allocate(i):
        lines = [(sku, 1), (other, 1)] if i % 2 else [(other, 1), (sku, 1)]
        return stock_allocate(facility=facility, lines=lines, event_id=f"pair-{i}", actor=None)

    results = _race(allocate, 10)
    granted = [r for r in results if not isinstance(r, Exception)]
    assert len(granted) == 5 and all(isinstance(r, InsufficientStock) for r in results if r not in granted)
    assert set(StockLevel.objects.values_list("allocated", flat=True)) == {5}
