"""Issue 16 §1, last bullet: a receipt of expected inbound (inventory.receiving, by line or by scan) allocates the
pre-orders that claimed a scheduled inbound referring to the received line, in the receipt's own transaction, and
offers the received SKUs to the orders held short as soon as it commits, without waiting for the minute's sweep. A
replayed receipt, or the same event delivered twice, changes nothing."""

import datetime as dt

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from inventory.models import ExpectedInbound, Movement, StockLevel
from inventory.receiving import expected_inbound_create, inbound_receive_line, inbound_receive_scan
from inventory.signals import stock_received
from orders.allocation.models import ScheduledInbound
from orders.models import Order, OrderState
from orders.services import order_ingest
from tests.inventory.factories import KitComponentFactory, KitFactory, SkuFactory
from tests.orders.factories import CanonicalOrderFactory, line
from tests.permissions.fixtures import make_role_user
from warehouse.roles import roles_sync

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
DEC_1 = dt.date(2026, 12, 1)


@pytest.fixture
def ops():
    roles_sync()
    return make_role_user("operations", username="ops")


@pytest.fixture
def cap(brand):
    return SkuFactory(brand=brand, code="CAP", barcode="8400000000031")


def announce(brand, facility, *lines, reference="ASN-7"):
    return expected_inbound_create(
        brand=brand, facility=facility, reference=reference, expected_on=DEC_1, lines=list(lines), actor=None
    )


def schedule_on(inbound_line, *, limit):
    """The pre-order schedule of the issue's model: a reference to the announced line."""
    return ScheduledInbound.objects.create(preorder_limit=limit, expected_line=inbound_line)


def ingest(brand, *lines, pid, priority="preorder", paid_at=T0):
    canonical = CanonicalOrderFactory(
        platform_order_id=pid, priority_class=priority, lines=lines, paid_at=paid_at, placed_at=paid_at,
        updated_at=paid_at,
    )  # fmt: skip
    return Order.objects.get(pk=order_ingest(canonical=canonical, brand=brand, channel=None, source="manual").order.pk)


def state_of(order):
    order = Order.objects.get(pk=order.pk)
    codes = [r.get("code") for r in order.hold_reasons or [] if isinstance(r, dict)]
    return order.state, codes


def stock(sku, facility):
    level = StockLevel.objects.filter(sku=sku, facility=facility).first()
    return (level.on_hand, level.allocated) if level else (0, 0)


def snapshot(*skus, facility):
    return (
        [stock(sku, facility) for sku in skus],
        list(Order.objects.order_by("pk").values_list("pk", "state", "hold_reasons")),
        Order.history.count(),
        Movement.objects.count(),
        list(ScheduledInbound.objects.order_by("pk").values_list("pk", "received", "preordered")),
        ScheduledInbound.history.count(),
    )


def test_receiving_the_line_allocates_its_pre_orders_in_the_receipts_transaction(
    brand, facility, cap, ops, django_capture_on_commit_callbacks
):
    inbound = announce(brand, facility, ("CAP", 4))
    schedule = schedule_on(inbound.lines.get(), limit=4)
    late = ingest(brand, line("CAP", 2), pid="P-late", paid_at=T0 + dt.timedelta(hours=1))
    early = ingest(brand, line("CAP", 2), pid="P-early")
    assert state_of(early) == (OrderState.ON_HOLD, ["awaiting_inbound"])
    assert ScheduledInbound.objects.get(pk=schedule.pk).preordered == 4

    with pytest.raises(RuntimeError), transaction.atomic():
        inbound_receive_line(line=inbound.lines.get(), quantity=4, actor=ops, event_id="dock-1")
        assert state_of(early)[0] == OrderState.ACCEPTED  # inside the receipt's own transaction
        raise RuntimeError("the receipt fails after the units were counted")
    assert state_of(early) == (OrderState.ON_HOLD, ["awaiting_inbound"]), "a rolled-back receipt allocates nothing"
    assert stock(cap, facility) == (0, 0) and not ScheduledInbound.objects.get(pk=schedule.pk).received

    receipt = inbound_receive_line(line=inbound.lines.get(), quantity=3, actor=ops, event_id="dock-1")

    assert receipt.into_stock == 3
    assert state_of(early)[0] == OrderState.ACCEPTED  # first paid, first served
    assert state_of(late) == (OrderState.ON_HOLD, ["short"])  # one unit short: it waits, first in line
    assert stock(cap, facility) == (3, 2) and ScheduledInbound.objects.get(pk=schedule.pk).received

    before = snapshot(cap, facility=facility)
    again = inbound_receive_line(line=inbound.lines.get(), quantity=3, actor=ops, event_id="dock-1")  # a retry
    stock_received.send(sender=ExpectedInbound, brand=brand, facility=facility, sku_ids=[cap.pk], actor=ops,
                        inbound=inbound)  # fmt: skip  # the same event delivered twice
    assert again.into_stock == 0 and [w.code for w in again.warnings] == ["already_received"]
    assert snapshot(cap, facility=facility) == before

    with django_capture_on_commit_callbacks(execute=True):  # the last unit: the claimer still short goes first
        inbound_receive_scan(inbound=inbound, code="8400000000031", actor=ops, event_id="dock-2")
    assert state_of(late)[0] == OrderState.ACCEPTED and stock(cap, facility) == (4, 4)


def test_receiving_by_scan_allocates_the_pre_orders_of_the_scanned_line_only(brand, facility, cap, ops):
    SkuFactory(brand=brand, code="TEE", barcode="8400000000017")
    inbound = announce(brand, facility, ("CAP", 2), ("TEE", 2))
    cap_line, tee_line = inbound.lines.order_by("number")
    cap_schedule, tee_schedule = schedule_on(cap_line, limit=2), schedule_on(tee_line, limit=2)
    cap_order = ingest(brand, line("CAP", 2), pid="P-cap")
    tee_order = ingest(brand, line("TEE", 1), pid="P-tee")

    inbound_receive_scan(inbound=inbound, code="8400000000031", quantity=2, actor=ops)

    assert state_of(cap_order)[0] == OrderState.ACCEPTED and stock(cap, facility) == (2, 2)
    assert state_of(tee_order) == (OrderState.ON_HOLD, ["awaiting_inbound"])
    assert ScheduledInbound.objects.get(pk=cap_schedule.pk).received
    assert not ScheduledInbound.objects.get(pk=tee_schedule.pk).received


def test_an_order_held_short_is_accepted_as_soon_as_the_receipt_commits(
    brand, facility, cap, ops, django_capture_on_commit_callbacks
):
    mug = SkuFactory(brand=brand, code="MUG")
    kit = KitFactory(brand=brand, code="CAP-KIT")
    KitComponentFactory(kit=kit, component=cap, quantity=2)
    short = ingest(brand, line("CAP", 1), pid="S-1", priority="standard")
    bundle = ingest(brand, line("CAP-KIT", 1), pid="S-2", priority="standard", paid_at=T0 + dt.timedelta(hours=1))
    other = ingest(brand, line("MUG", 1), pid="S-3", priority="standard")
    assert state_of(short) == (OrderState.ON_HOLD, ["short"]) and state_of(bundle)[1] == ["short"]
    inbound = announce(brand, facility, ("CAP", 5))  # no pre-order schedule refers to it
    other_history = Order.history.filter(id=other.pk).count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            inbound_receive_scan(inbound=inbound, code="CAP", quantity=3, actor=ops)
            raise RuntimeError("rolled back")
    assert callbacks == [] and state_of(short)[0] == OrderState.ON_HOLD, "a rolled-back receipt offers nothing"

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        inbound_receive_scan(inbound=inbound, code="CAP", quantity=3, actor=ops)

    assert len(callbacks) == 1
    assert state_of(short)[0] == OrderState.ACCEPTED and state_of(bundle)[0] == OrderState.ACCEPTED
    assert stock(cap, facility) == (3, 3)
    assert state_of(other) == (OrderState.ON_HOLD, ["short"]), "an order of another SKU is not touched"
    assert Order.history.filter(id=other.pk).count() == other_history

    before = snapshot(cap, mug, facility=facility)
    with django_capture_on_commit_callbacks(execute=True):  # the same event delivered again
        stock_received.send(sender=ExpectedInbound, brand=brand, facility=facility, sku_ids=[cap.pk], actor=ops,
                            inbound=inbound)  # fmt: skip
    assert snapshot(cap, mug, facility=facility) == before


def test_a_receipt_posted_through_the_api_serves_pre_orders_and_short_orders(
    brand, facility, cap, ops, django_capture_on_commit_callbacks
):
    inbound = announce(brand, facility, ("CAP", 3))
    schedule_on(inbound.lines.get(), limit=2)
    preorder = ingest(brand, line("CAP", 2), pid="P-api")
    short = ingest(brand, line("CAP", 1), pid="S-api", priority="standard")
    client = APIClient()
    client.force_authenticate(user=ops)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/expected-inbound/{inbound.pk}/receive/", {"line": 1, "quantity": 3, "event_id": "api-1"},
            format="json",
        )  # fmt: skip

    assert response.status_code == 200 and response.json()["into_stock"] == 3
    assert state_of(preorder)[0] == OrderState.ACCEPTED and state_of(short)[0] == OrderState.ACCEPTED
    assert stock(cap, facility) == (3, 3)
