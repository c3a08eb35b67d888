"""Pre-orders under real concurrency (their own file: a transactional test flushes the database, so it must not share a
file with tests that rely on migration data; pytest-django runs such files last)."""

import pytest

from orders.allocation.models import PreorderClaim
from orders.models import Order, OrderState
from orders.services import order_ingest, scheduled_inbound_receive
from tests.allocation.test_preorders import (
    EACH,
    IN_STOCK,
    INBOUND,
    LIMIT,
    PREORDERS,
    THREADS,
    _claim_race_setup,
    _naive_claim,
    _naive_receive,
    _run_race,
    canonical,
    preordered,
)
from tests.concurrency import race
from tests.orders.factories import line


@pytest.mark.concurrency
@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_receipt_racing_new_ordinary_orders_never_leaves_a_claimed_pre_order_short():
    for round_ in range(3):
        results, served, after, brand = _run_race(
            round_, lambda inbound, event_id: scheduled_inbound_receive(
                inbound=inbound, quantity=INBOUND, event_id=event_id, actor=None
            )
        )  # fmt: skip

        assert not [r for r in results if isinstance(r, Exception)], results
        assert served == PREORDERS  # every claimed pre-order got its units
        ordinary = Order.objects.filter(brand=brand, state=OrderState.ACCEPTED).count() - PREORDERS
        assert ordinary == IN_STOCK + INBOUND - PREORDERS * EACH  # the rest went to ordinary orders, no more
        assert after.allocated == after.on_hand == IN_STOCK + INBOUND and after.available == 0


@pytest.mark.concurrency
@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_canary_receipt_that_leaves_pre_orders_to_the_next_run_lets_new_orders_take_their_units():
    shortchanged = 0
    for round_ in range(5):
        results, served, after, _ = _run_race(round_, _naive_receive)
        assert not [r for r in results if isinstance(r, Exception)], results
        assert after.allocated <= after.on_hand  # never oversold, only promised units lost
        shortchanged += served < PREORDERS
    assert shortchanged > 0, "the canary never lost a pre-order's units: the race is not exercising the window"


@pytest.mark.concurrency
@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_pre_orders_never_claim_more_than_the_pre_order_limit():
    brand, inbound = _claim_race_setup(0)

    def worker(i):
        order = canonical(line("LAUNCH", 1), pid=f"L-{i}")
        return order_ingest(canonical=order, brand=brand, source="manual").order.hold_reasons[0]["code"]

    codes = race(worker, THREADS)

    assert not [c for c in codes if isinstance(c, Exception)], codes
    assert sorted(codes) == ["awaiting_inbound"] * LIMIT + ["preorder_sold_out"] * (THREADS - LIMIT)
    assert preordered(inbound) == LIMIT == PreorderClaim.objects.filter(released_at__isnull=True).count()


@pytest.mark.concurrency
@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_naive_read_then_write_claim_canary_over_promises_under_the_same_race():
    over = 0
    for round_ in range(5):
        _, inbound = _claim_race_setup(round_)
        granted = sum(1 for r in race(lambda i, inbound=inbound: _naive_claim(inbound=inbound), THREADS) if r is True)
        over += granted > LIMIT
    assert over > 0, "the canary never over-promised: the race is not exercising concurrency"
