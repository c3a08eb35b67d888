"""When demand outruns supply the losers are held "short", never half-accepted, and are allocated in policy order as
stock arrives: SLA-bound marketplace orders before DTC, FIFO by paid time within a class, wholesale against its
contract reservation, pre-orders against scheduled inbound (seed 000 §04 "Allocation order during oversell")."""

import datetime as dt

import pytest

from inventory.models import StockLevel
from inventory.services import stock_receive
from orders.allocation.selectors import orders_at_risk
from orders.allocation.services import allocation_policy_update, contract_reservation_create, scheduled_inbound_create
from orders.models import Order, OrderState
from orders.services import allocation_run_waiting, order_ingest, scheduled_inbound_receive
from tests.factories import SalesChannelFactory
from tests.inventory.factories import SkuFactory
from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def channels(brand):
    """What each channel is comes from its row: a marketplace (Prime orders are SLA-bound), a 72-hour window."""
    return {
        "shopify": SalesChannelFactory(brand=brand, platform_code="shopify"),
        "amazon": SalesChannelFactory(brand=brand, platform_code="amazon", is_marketplace=True),
        "tiktok": SalesChannelFactory(brand=brand, platform_code="tiktok", is_marketplace=True, sla_window_hours=72),
        "woo": SalesChannelFactory(brand=brand, platform_code="woocommerce"),
    }


@pytest.fixture
def tee(brand, facility):
    return SkuFactory(brand=brand, code="TEE")


def _order(brand, *, pid, paid_at, qty=1, channel=None, priority="standard", name="Marta Puig", code="TEE"):
    canonical = CanonicalOrderFactory(
        platform_order_id=pid, paid_at=paid_at, placed_at=paid_at, priority_class=priority,
        lines=(line(code, qty),), address=CanonicalAddressFactory(name=name),
    )  # fmt: skip
    source = "channel" if channel is not None else "manual"
    order = order_ingest(canonical=canonical, brand=brand, channel=channel, source=source).order
    return Order.objects.get(pk=order.pk)


def _receive(sku, facility, n, tag):
    stock_receive(sku=sku, facility=facility, quantity=n, event_id=tag, actor=None)


def test_orders_beyond_stock_are_held_short_never_half_accepted(brand, facility, tee):
    _receive(tee, facility, 1, "r1")
    first = _order(brand, pid="A", paid_at=T0)
    second = _order(brand, pid="B", paid_at=T0, qty=2)

    assert first.state == OrderState.ACCEPTED
    assert second.state == OrderState.ON_HOLD and second.hold_reasons[0]["code"] == "short"
    assert not second.allocation_rows.exists()
    assert StockLevel.objects.get(sku=tee, facility=facility).allocated == 1


def test_sla_bound_marketplace_orders_are_served_before_dtc_and_dtc_first_in_first_out(brand, facility, tee, channels):
    dtc_early = _order(brand, pid="S-1", paid_at=T0, channel=channels["shopify"])
    dtc_late = _order(brand, pid="S-2", paid_at=T0 + dt.timedelta(hours=1), channel=channels["woo"])
    prime = _order(brand, pid="A-1", paid_at=T0 + dt.timedelta(hours=2), channel=channels["amazon"], priority="prime")
    tiktok = _order(brand, pid="T-1", paid_at=T0 + dt.timedelta(hours=3), channel=channels["tiktok"])
    assert {o.state for o in (dtc_early, dtc_late, prime, tiktok)} == {OrderState.ON_HOLD}

    _receive(tee, facility, 3, "restock")
    run = allocation_run_waiting(brand=brand, facility=facility)

    assert run.accepted == [prime.pk, tiktok.pk, dtc_early.pk]
    assert run.still_short == [dtc_late.pk]
    assert Order.objects.get(pk=dtc_late.pk).state == OrderState.ON_HOLD
    assert StockLevel.objects.get(sku=tee, facility=facility).allocated == 3


def test_the_brand_can_change_the_policy_and_fifo_by_paid_time_then_decides(brand, facility, tee, channels):
    allocation_policy_update(
        brand=brand, actor=None, reason="brand wants pure FIFO",
        class_order=["standard", "marketplace_sla", "preorder", "wholesale"],
    )  # fmt: skip
    prime = _order(brand, pid="A-1", paid_at=T0 + dt.timedelta(hours=2), channel=channels["amazon"], priority="prime")
    dtc = _order(brand, pid="S-1", paid_at=T0, channel=channels["shopify"])

    _receive(tee, facility, 1, "restock")
    run = allocation_run_waiting(brand=brand, facility=facility)

    assert run.accepted == [dtc.pk] and run.still_short == [prime.pk]


def test_wholesale_orders_draw_on_their_contract_reservation_that_ordinary_orders_never_see(brand, facility, tee):
    allocation_policy_update(
        brand=brand, actor=None, reason="DTC first in line",
        class_order=["standard", "marketplace_sla", "preorder", "wholesale"],
    )  # fmt: skip
    reservation = contract_reservation_create(
        brand=brand, customer="Big Retail", sku=tee, facility=facility, quantity=3, actor=None
    )
    dtc_big = _order(brand, pid="D-1", paid_at=T0, qty=3)
    wholesale = _order(brand, pid="W-1", paid_at=T0 + dt.timedelta(hours=1), qty=3, priority="wholesale",
                       name="Big Retail")  # fmt: skip
    dtc_small = _order(brand, pid="D-2", paid_at=T0 + dt.timedelta(hours=2), qty=1)

    _receive(tee, facility, 4, "restock")
    run = allocation_run_waiting(brand=brand, facility=facility)

    assert run.still_short == [dtc_big.pk]  # first in line, but only 1 unit is not ring-fenced
    assert run.accepted == [dtc_small.pk, wholesale.pk]
    reservation.refresh_from_db()
    assert reservation.drawn == 3 and reservation.remaining == 0


def test_pre_orders_wait_for_their_scheduled_inbound_and_then_take_it_first(brand, facility, tee, channels):
    inbound = scheduled_inbound_create(
        brand=brand, sku=tee, facility=facility, quantity=5, preorder_limit=2, expected_on=dt.date(2026, 12, 1),
        actor=None,
    )  # fmt: skip
    preorder = _order(brand, pid="P-1", paid_at=T0, qty=2, priority="preorder")
    dtc = _order(brand, pid="S-1", paid_at=T0 + dt.timedelta(hours=1), qty=2, channel=channels["shopify"])

    _receive(tee, facility, 2, "current-stock")
    first = allocation_run_waiting(brand=brand, facility=facility)
    assert first.awaiting_inbound == [preorder.pk]  # current stock is not promised to pre-orders
    assert first.accepted == [dtc.pk]

    scheduled_inbound_receive(inbound=inbound, quantity=5, event_id="inbound-1", actor=None)
    # The receipt itself allocates the pre-orders that claimed it, before any other order can take the units.
    assert Order.objects.get(pk=preorder.pk).state == OrderState.ACCEPTED


def test_orders_at_risk_are_those_near_their_ship_by_and_not_yet_packed(brand, facility, tee):
    _receive(tee, facility, 5, "r")
    now = dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC)
    soon = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="R-1", ship_by=now + dt.timedelta(minutes=45),
                                        lines=(line("TEE", 1),)),
        brand=brand, source="manual",
    ).order  # fmt: skip
    later = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="R-2", ship_by=now + dt.timedelta(hours=8),
                                        lines=(line("TEE", 1),)),
        brand=brand, source="manual",
    ).order  # fmt: skip
    late = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="R-3", ship_by=now - dt.timedelta(minutes=5),
                                        lines=(line("TEE", 1),)),
        brand=brand, source="manual",
    ).order  # fmt: skip

    found = list(orders_at_risk(brand=brand, now=now, within=dt.timedelta(hours=1)))

    assert [o.pk for o in found] == [late.pk, soon.pk]
    assert later.pk not in [o.pk for o in found]
