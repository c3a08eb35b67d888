"""Ingestion is at-least-once (design §1): duplicates, replays and out-of-order delivery are normal. An order is
materialised once per (channel, order id); an older version never overwrites a newer one; the platform owns the
order until release to pick, after which its edits are escalated, not applied."""

import datetime as dt
import itertools

import pytest

from inventory.models import StockLevel
from orders.canonical import CanonicalAddress
from orders.models import Order, OrderEventKind, OrderLine, OrderSource, OrderState
from orders.selectors import order_timeline
from orders.services import order_create_manual, order_ingest, order_pack, order_release_to_pick
from tests.factories import SalesChannelFactory
from tests.orders.factories import T0, CanonicalAddressFactory, CanonicalOrderFactory, line
from warehouse.models import ExceptionItem, ExceptionKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(brand):
    return SalesChannelFactory(brand=brand, platform_code="shopify")


def version(n):
    return T0 + dt.timedelta(minutes=n)


def payload(n, **kwargs):
    """Version n of order #5001: each version changes the street and the quantity, so the newest is visible."""
    kwargs.setdefault("lines", (line("TEE-M", n, external_line_id="L1"),))
    kwargs.setdefault("address", CanonicalAddressFactory(street1=f"Carrer {n}"))
    return CanonicalOrderFactory(platform_order_id="5001", updated_at=version(n), **kwargs)


def test_a_repeated_webhook_lands_once(brand, channel, stock):
    first = order_ingest(canonical=payload(1), brand=brand, channel=channel)
    again = order_ingest(canonical=payload(1), brand=brand, channel=channel)
    assert (first.created, first.applied) == (True, True)
    assert (again.created, again.applied) == (False, False)
    assert again.order.pk == first.order.pk
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 1
    assert order_timeline(order=first.order).filter(kind=OrderEventKind.RECEIVED).count() == 1


def test_the_order_keeps_its_channel_and_its_platform(brand, channel, stock):
    order = order_ingest(canonical=payload(1), brand=brand, channel=channel).order
    assert (order.channel_id, order.platform_code, order.source) == (channel.pk, "shopify", OrderSource.CHANNEL)
    assert order.source_updated_at == version(1)


def test_the_same_order_id_on_two_channels_is_two_orders(brand, stock):
    a, b = SalesChannelFactory(brand=brand), SalesChannelFactory(brand=brand)
    order_ingest(canonical=payload(1), brand=brand, channel=a)
    order_ingest(canonical=payload(1), brand=brand, channel=b)
    assert Order.objects.count() == 2


def test_an_older_update_never_overwrites_a_newer_one(brand, channel, stock):
    order_ingest(canonical=payload(3), brand=brand, channel=channel)
    stale = order_ingest(canonical=payload(2), brand=brand, channel=channel)
    assert stale.applied is False
    assert stale.reason.startswith("stale")
    order = Order.objects.get()
    assert (order.delivery_street1, order.lines.get().quantity, order.source_updated_at) == ("Carrer 3", 3, version(3))


@pytest.mark.parametrize("arrival", list(itertools.permutations([1, 2, 3, 4])))
def test_create_and_three_updates_in_any_order_end_in_the_newest_state(brand, channel, stock, facility, arrival):
    """Version 1 is the create; 2–4 are updates. Whatever the arrival order, one order with version 4's data."""
    for n in arrival:
        order_ingest(canonical=payload(n), brand=brand, channel=channel)
    order = Order.objects.get()
    assert order.delivery_street1 == "Carrer 4"
    assert order.lines.get().quantity == 4
    assert order.source_updated_at == version(4)
    assert order.state == OrderState.ACCEPTED
    assert StockLevel.objects.get(sku=stock["TEE-M"], facility=facility).allocated == 4  # never 1+2+3+4


def test_an_update_that_arrives_before_its_create_is_materialised_once(brand, channel, stock):
    update = order_ingest(canonical=payload(2), brand=brand, channel=channel)
    create = order_ingest(canonical=payload(1), brand=brand, channel=channel)
    assert update.created is True
    assert (create.created, create.applied) == (False, False)
    assert Order.objects.count() == 1
    assert Order.objects.get().delivery_street1 == "Carrer 2"


def test_an_update_before_release_to_pick_applies_and_reallocates(brand, channel, stock, facility):
    order_ingest(canonical=payload(5), brand=brand, channel=channel)
    result = order_ingest(canonical=payload(6), brand=brand, channel=channel)
    assert result.applied is True
    assert result.order.state == OrderState.ACCEPTED
    assert StockLevel.objects.get(sku=stock["TEE-M"], facility=facility).allocated == 6
    kinds = [e.kind for e in order_timeline(order=result.order)]
    assert OrderEventKind.ALLOCATION_RELEASED in kinds and OrderEventKind.UPDATED in kinds


def test_an_update_after_release_to_pick_becomes_an_exception_and_leaves_the_order_unchanged(
    brand, channel, stock, facility, operator
):
    order = order_ingest(canonical=payload(2), brand=brand, channel=channel).order
    order_release_to_pick(order=order, actor=operator)
    result = order_ingest(canonical=payload(3), brand=brand, channel=channel)
    assert result.applied is False
    order = Order.objects.get()
    assert (order.state, order.delivery_street1, order.lines.get().quantity) == (OrderState.PICKING, "Carrer 2", 2)
    assert order.source_updated_at == version(2)
    item = ExceptionItem.objects.get(kind=ExceptionKind.ORDER_EDIT_AFTER_RELEASE, object_id=order.pk)
    assert "street1" in item.reasons[0]["message"] and "lines" in item.reasons[0]["message"]
    assert StockLevel.objects.get(sku=stock["TEE-M"], facility=facility).in_pick == 2


def test_a_payment_update_after_release_is_not_an_edit(brand, channel, stock, operator):
    first = payload(2, status="open", paid_at=None)
    order = order_ingest(canonical=first, brand=brand, channel=channel).order
    order_release_to_pick(order=order, actor=operator)
    paid = payload(3, status="paid", lines=first.lines, address=first.address, paid_at=version(3))
    result = order_ingest(canonical=paid, brand=brand, channel=channel)
    assert result.applied is True
    order = Order.objects.get()
    assert order.paid_at == version(3)
    assert not ExceptionItem.objects.filter(kind=ExceptionKind.ORDER_EDIT_AFTER_RELEASE).exists()


def test_a_platform_cancellation_before_packing_cancels_and_releases(brand, channel, stock, facility):
    order_ingest(canonical=payload(2), brand=brand, channel=channel)
    result = order_ingest(canonical=payload(3, status="cancelled"), brand=brand, channel=channel)
    assert result.applied is True
    assert result.order.state == OrderState.CANCELLED
    assert StockLevel.objects.get(sku=stock["TEE-M"], facility=facility).allocated == 0


def test_a_platform_cancellation_after_packing_is_escalated(brand, channel, stock, operator):
    from orders.services import order_confirm_picked

    order = order_ingest(canonical=payload(2), brand=brand, channel=channel).order
    order = order_release_to_pick(order=order, actor=operator)
    order = order_confirm_picked(order=order, actor=operator)
    order_pack(order=order, actor=operator)
    result = order_ingest(canonical=payload(3, status="cancelled"), brand=brand, channel=channel)
    assert result.applied is False
    assert Order.objects.get().state == OrderState.PACKED
    assert ExceptionItem.objects.filter(kind=ExceptionKind.CANCEL_AFTER_PACK).count() == 1


def test_an_order_first_seen_cancelled_is_stored_cancelled_and_allocates_nothing(brand, channel, stock, facility):
    result = order_ingest(canonical=payload(1, status="cancelled"), brand=brand, channel=channel)
    assert result.order.state == OrderState.CANCELLED
    assert not StockLevel.objects.filter(allocated__gt=0).exists()


def test_an_order_found_by_the_reconciler_says_so_in_its_timeline(brand, channel, stock):
    order = order_ingest(canonical=payload(1), brand=brand, channel=channel, found_by_reconciler=True).order
    assert "reconciler" in order_timeline(order=order).first().message


def test_a_manual_order_is_flagged_and_unique_per_brand_and_source(brand, stock, operator):
    canonical = CanonicalOrderFactory(platform_order_id="EMAIL-77", lines=(line("TEE-M", 1),))
    order = order_create_manual(brand=brand, canonical=canonical, actor=operator)
    assert order.is_manual_entry and order.source == OrderSource.MANUAL and order.channel is None
    assert order_create_manual(brand=brand, canonical=canonical, actor=operator).pk == order.pk
    file_order = order_ingest(canonical=canonical, brand=brand, source=OrderSource.FILE).order
    assert file_order.pk != order.pk
    assert not file_order.is_manual_entry
    assert order_timeline(order=order).first().actor == operator


def test_a_held_order_updated_with_the_missing_data_moves_on(brand, channel, stock):
    held = order_ingest(
        canonical=payload(1, address=CanonicalAddress(street1="Carrer 1", city="Valencia", country="ES")),
        brand=brand,
        channel=channel,
    ).order
    assert held.state == OrderState.ON_HOLD
    fixed = order_ingest(canonical=payload(2), brand=brand, channel=channel).order
    assert fixed.state == OrderState.ACCEPTED
    assert ExceptionItem.objects.get(kind=ExceptionKind.ORDER_ON_HOLD).state == "resolved"
