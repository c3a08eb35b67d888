"""Pre-orders are promised against scheduled inbound, never current stock (issue 6, items 1 and 4): at intake a
pre-order claims its units from the earliest open inbound of each SKU once (retries, redeliveries and revisions claim
nothing again), gives them back when cancelled or when its lines change, and is held `preorder_sold_out` when no
inbound has room. Receiving an inbound allocates its claiming pre-orders in the same transaction, so an order
arriving meanwhile cannot take their units; the published number falls as claims are made."""

import dataclasses
import datetime as dt

import pytest
from django.db import connection as db
from django.db import transaction
from django.test.utils import CaptureQueriesContext

from integrations.publishing.models import DirtyStock, PublishedLevel
from integrations.publishing.pool import sellable
from integrations.publishing.services import publishing_run_cycle
from inventory.models import StockLevel
from inventory.services import stock_receive
from orders.allocation.models import PreorderClaim, ScheduledInbound
from orders.allocation.services import allocation_policy_update, scheduled_inbound_create
from orders.models import Order, OrderState
from orders.services import allocation_run_waiting, order_accept, order_cancel, order_ingest, scheduled_inbound_receive
from tests.concurrency import race
from tests.factories import BrandFactory, FacilityFactory, SalesChannelFactory
from tests.integrations.factories import ConnectionFactory
from tests.inventory.factories import SkuFactory
from tests.orders.factories import CanonicalOrderFactory, line
from tests.publishing.factories import ListingFactory
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
DEC_1, DEC_15 = dt.date(2026, 12, 1), dt.date(2026, 12, 15)


def inbound_of(sku, facility, *, quantity=10, limit=4, on=DEC_1):
    return scheduled_inbound_create(
        brand=sku.brand, sku=sku, facility=facility, quantity=quantity, preorder_limit=limit, expected_on=on,
        actor=None,
    )  # fmt: skip


def canonical(*lines, pid, priority="preorder", paid_at=T0, updated_at=T0, **kwargs):
    return CanonicalOrderFactory(
        platform_order_id=pid, priority_class=priority, lines=lines, paid_at=paid_at, placed_at=paid_at,
        updated_at=updated_at, **kwargs,
    )  # fmt: skip


def ingest(brand, order_canonical, channel=None):
    source = "channel" if channel is not None else "manual"
    order = order_ingest(canonical=order_canonical, brand=brand, channel=channel, source=source).order
    return Order.objects.get(pk=order.pk)


def preordered(inbound):
    return ScheduledInbound.objects.get(pk=inbound.pk).preordered


def active_claims(order):
    return list(
        PreorderClaim.objects.filter(order=order, released_at__isnull=True).values_list("inbound_id", "quantity")
    )


def level(sku, facility):
    return StockLevel.objects.get(sku=sku, facility=facility)


@pytest.fixture
def tee(brand, facility):
    """5 units in stock now (which pre-orders never take)."""
    sku = SkuFactory(brand=brand, code="TEE")
    stock_receive(sku=sku, facility=facility, quantity=5, event_id="rcv-tee", actor=None)
    return sku


# --- claiming at intake -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_pre_order_claims_its_inbound_once_across_redeliveries_retries_and_revisions(brand, facility, tee):
    inbound = inbound_of(tee, facility, limit=4)
    shop = SalesChannelFactory(brand=brand)
    first = canonical(line("TEE", 2), pid="P-1")

    order = ingest(brand, first, shop)
    assert order.state == OrderState.ON_HOLD and order.hold_reasons[0]["code"] == "awaiting_inbound"
    assert "2 × TEE" in order.hold_reasons[0]["message"] and "2026-12-01" in order.hold_reasons[0]["message"]
    assert preordered(inbound) == 2 and active_claims(order) == [(inbound.pk, 2)]

    ingest(brand, first, shop)  # the same webhook again
    order_accept(order=order, actor=None)  # a retry
    ingest(brand, dataclasses.replace(first, updated_at=T0 + dt.timedelta(minutes=5), phone="+34 600 000 111"), shop)
    assert allocation_run_waiting(brand=brand, facility=facility).awaiting_inbound == [order.pk]

    assert preordered(inbound) == 2 and active_claims(order) == [(inbound.pk, 2)]
    assert PreorderClaim.objects.count() == 1
    assert level(tee, facility).allocated == 0  # current stock is never promised to a pre-order


@pytest.mark.django_db
def test_changed_lines_give_back_what_no_longer_fits_and_claim_the_new_lines(brand, facility, tee):
    inbound = inbound_of(tee, facility, limit=4)
    cap = SkuFactory(brand=brand, code="CAP")
    cap_inbound = inbound_of(cap, facility, limit=3, on=DEC_15)
    shop = SalesChannelFactory(brand=brand)
    order = ingest(brand, canonical(line("TEE", 2), pid="P-2"), shop)

    order = ingest(brand, canonical(line("TEE", 3), pid="P-2", updated_at=T0 + dt.timedelta(minutes=1)), shop)
    assert preordered(inbound) == 3 and active_claims(order) == [(inbound.pk, 3)]
    claim = PreorderClaim.objects.get(order=order)
    assert [h.quantity for h in claim.history.order_by("history_id")] == [2, 2, 3]  # claimed, given back, claimed

    order = ingest(brand, canonical(line("CAP", 1), pid="P-2", updated_at=T0 + dt.timedelta(minutes=2)), shop)
    assert (preordered(inbound), preordered(cap_inbound)) == (0, 1)
    assert active_claims(order) == [(cap_inbound.pk, 1)]
    assert "2026-12-15" in order.hold_reasons[0]["message"]


@pytest.mark.django_db
def test_cancelling_a_pre_order_gives_its_units_back_to_the_inbound(brand, facility, tee):
    inbound = inbound_of(tee, facility, limit=4)
    shop = SalesChannelFactory(brand=brand)
    by_person = ingest(brand, canonical(line("TEE", 1), pid="P-3"))
    ingest(brand, canonical(line("TEE", 2), pid="P-4"), shop)
    assert preordered(inbound) == 3

    order_cancel(order=by_person, actor=None, reason="customer changed their mind")
    ingest(brand, canonical(line("TEE", 2), pid="P-4", status="cancelled", updated_at=T0 + dt.timedelta(hours=1)), shop)

    assert preordered(inbound) == 0
    assert PreorderClaim.objects.filter(released_at__isnull=True).count() == 0
    assert PreorderClaim.objects.filter(released_at__isnull=False).count() == 2  # the record stays


@pytest.mark.django_db
def test_pre_orders_claim_the_earliest_open_inbound_with_room(brand, facility, tee):
    early, late = inbound_of(tee, facility, limit=2, on=DEC_1), inbound_of(tee, facility, limit=5, on=DEC_15)

    first = ingest(brand, canonical(line("TEE", 2), pid="P-5"))
    second = ingest(brand, canonical(line("TEE", 2), pid="P-6"))

    assert active_claims(first) == [(early.pk, 2)] and active_claims(second) == [(late.pk, 2)]
    assert "2026-12-15" in second.hold_reasons[0]["message"]


# --- sold out -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_pre_order_beyond_the_limit_is_held_sold_out_never_accepted_against_current_stock(brand, facility, tee):
    inbound = inbound_of(tee, facility, quantity=10, limit=2)
    ingest(brand, canonical(line("TEE", 2), pid="P-7"))

    late = ingest(brand, canonical(line("TEE", 1), pid="P-8"))

    assert late.state == OrderState.ON_HOLD
    reason = late.hold_reasons[0]
    assert reason["code"] == "preorder_sold_out"
    assert "TEE" in reason["message"] and "not promised current stock" in reason["message"]
    assert preordered(inbound) == 2 and active_claims(late) == []
    assert level(tee, facility).allocated == 0 and level(tee, facility).available == 5
    item = ExceptionItem.objects.get(object_id=str(late.pk), state=ExceptionState.OPEN)
    assert item.kind == ExceptionKind.ORDER_SHORT and "sold out" in item.summary


@pytest.mark.django_db
def test_a_pre_order_without_any_scheduled_inbound_is_sold_out_too(brand, facility, tee):
    order = ingest(brand, canonical(line("TEE", 1), pid="P-9"))

    assert order.hold_reasons[0]["code"] == "preorder_sold_out" and level(tee, facility).allocated == 0


@pytest.mark.django_db
def test_a_sold_out_pre_order_that_cannot_claim_every_sku_keeps_no_claim(brand, facility, tee):
    inbound = inbound_of(tee, facility, limit=4)
    cap = SkuFactory(brand=brand, code="CAP")
    inbound_of(cap, facility, limit=1)

    order = ingest(brand, canonical(line("TEE", 2), line("CAP", 2), pid="P-10"))

    assert order.hold_reasons[0]["code"] == "preorder_sold_out" and "CAP" in order.hold_reasons[0]["message"]
    assert preordered(inbound) == 0 and not PreorderClaim.objects.exists()


@pytest.mark.django_db
def test_a_sold_out_pre_order_claims_new_inbound_on_the_next_waiting_run(brand, facility, tee):
    inbound_of(tee, facility, limit=1)
    order = ingest(brand, canonical(line("TEE", 2), pid="P-11"))
    assert allocation_run_waiting(brand=brand, facility=facility).sold_out == [order.pk]

    more = inbound_of(tee, facility, limit=6, on=DEC_15)
    run = allocation_run_waiting(brand=brand, facility=facility)

    assert run.awaiting_inbound == [order.pk] and active_claims(order) == [(more.pk, 2)]
    assert Order.objects.get(pk=order.pk).hold_reasons[0]["code"] == "awaiting_inbound"


# --- receipt ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_receiving_the_inbound_allocates_its_pre_orders_in_policy_order_and_nobody_else(brand, facility):
    cap = SkuFactory(brand=brand, code="CAP")  # nothing in stock
    inbound = inbound_of(cap, facility, quantity=4, limit=4)
    ingest(brand, canonical(line("CAP", 2), pid="P-late", paid_at=T0 + dt.timedelta(hours=2)))
    ingest(brand, canonical(line("CAP", 2), pid="P-early", paid_at=T0))
    ingest(brand, canonical(line("CAP", 1), pid="S-1", priority="standard"))  # held short
    # Even a policy that serves standard orders first does not hand claimed units to them.
    allocation_policy_update(
        brand=brand, actor=None, reason="test", class_order=["standard", "marketplace_sla", "preorder", "wholesale"]
    )

    scheduled_inbound_receive(inbound=inbound, quantity=3, event_id="inbound-cap", actor=None)  # one unit short

    orders = {o.platform_order_id: o for o in Order.objects.all()}
    assert orders["P-early"].state == OrderState.ACCEPTED  # first paid, first served
    assert orders["P-late"].state == OrderState.ON_HOLD and orders["P-late"].hold_reasons[0]["code"] == "short"
    assert orders["S-1"].state == OrderState.ON_HOLD  # the receipt serves the inbound's own pre-orders only
    assert (level(cap, facility).on_hand, level(cap, facility).allocated) == (3, 2)

    run = allocation_run_waiting(brand=brand, facility=facility)  # the claimer first, then policy order
    assert run.still_short == [orders["P-late"].pk] and run.accepted == [orders["S-1"].pk]


@pytest.mark.django_db
def test_a_pre_order_waits_until_every_inbound_it_claimed_has_arrived(brand, facility, tee):
    cap = SkuFactory(brand=brand, code="CAP")
    tee_in, cap_in = inbound_of(tee, facility, limit=2), inbound_of(cap, facility, limit=2, on=DEC_15)
    order = ingest(brand, canonical(line("TEE", 1), line("CAP", 1), pid="P-12"))

    scheduled_inbound_receive(inbound=tee_in, quantity=10, event_id="in-tee", actor=None)
    assert Order.objects.get(pk=order.pk).state == OrderState.ON_HOLD
    assert allocation_run_waiting(brand=brand, facility=facility).awaiting_inbound == [order.pk]

    scheduled_inbound_receive(inbound=cap_in, quantity=10, event_id="in-cap", actor=None)
    assert Order.objects.get(pk=order.pk).state == OrderState.ACCEPTED
    assert (level(tee, facility).allocated, level(cap, facility).allocated) == (1, 1)


@pytest.mark.django_db
def test_a_replayed_receipt_changes_nothing(brand, facility, tee):
    inbound = inbound_of(tee, facility, limit=4)
    order = ingest(brand, canonical(line("TEE", 2), pid="P-13"))
    scheduled_inbound_receive(inbound=inbound, quantity=10, event_id="in-1", actor=None)

    scheduled_inbound_receive(inbound=inbound, quantity=10, event_id="in-1", actor=None)

    assert (level(tee, facility).on_hand, level(tee, facility).allocated) == (15, 2)
    assert Order.objects.get(pk=order.pk).state == OrderState.ACCEPTED


# --- the hot path -------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_ordinary_order_never_reads_pre_order_tables_at_intake_or_cancellation(brand, facility, tee):
    inbound_of(tee, facility, limit=4)
    with CaptureQueriesContext(db) as queries:
        order = ingest(brand, canonical(line("TEE", 1), pid="S-1", priority="standard"))
        order_cancel(order=order, actor=None, reason="test")
    touched = [
        q["sql"] for q in queries.captured_queries if "preorderclaim" in q["sql"] or "scheduledinbound" in q["sql"]
    ]
    assert order.state == OrderState.ACCEPTED and touched == []


# --- publishing ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_claim_lowers_the_published_pre_order_number_and_a_cancellation_raises_it_again(brand, facility, tee):
    shop = ConnectionFactory(brand=brand)
    ListingFactory(connection=shop, sku=tee)
    inbound_of(tee, facility, limit=4)
    publishing_run_cycle()
    assert PublishedLevel.objects.get(connection=shop, sku=tee).quantity == 5 + 4  # stock + pre-order stock

    order = ingest(brand, canonical(line("TEE", 3), pid="P-14"))
    assert DirtyStock.objects.filter(sku=tee).exists()  # a claim moves no stock, yet marks the SKU dirty
    assert sellable([tee])[tee.pk] == 5 + 1
    publishing_run_cycle()
    assert PublishedLevel.objects.get(connection=shop, sku=tee).quantity == 5 + 1

    order_cancel(order=order, actor=None, reason="changed mind")
    publishing_run_cycle()
    assert PublishedLevel.objects.get(connection=shop, sku=tee).quantity == 5 + 4


# --- receipt racing new orders ------------------------------------------------------------------------------------

THREADS = 12  # one receipt, eleven ordinary orders for the same SKU
PREORDERS, EACH, INBOUND, IN_STOCK = 3, 2, 10, 2


def _race_setup(round_):
    brand = BrandFactory(slug=f"drop-{round_}")
    facility = FacilityFactory(code=f"DROP{round_}")
    sku = SkuFactory(brand=brand, code="DROP")
    stock_receive(sku=sku, facility=facility, quantity=IN_STOCK, event_id=f"stock-{round_}", actor=None)
    inbound = inbound_of(sku, facility, quantity=INBOUND, limit=PREORDERS * EACH)
    preorders = [ingest(brand, canonical(line("DROP", EACH), pid=f"P-{round_}-{i}")) for i in range(PREORDERS)]
    assert all(o.hold_reasons[0]["code"] == "awaiting_inbound" for o in preorders)
    return brand, facility, sku, inbound, preorders


def _naive_receive(*, inbound, event_id):
    """The canary: receive and mark the inbound received, leaving its pre-orders to the next waiting run."""
    stock_receive(sku=inbound.sku, facility=inbound.facility, quantity=INBOUND, event_id=event_id, actor=None)
    ScheduledInbound.objects.filter(pk=inbound.pk).update(received=True)


def _run_race(round_, receive):
    brand, facility, sku, inbound, preorders = _race_setup(round_)

    def worker(i):
        if i == 0:
            return receive(inbound=inbound, event_id=f"inbound-{round_}")
        order = canonical(line("DROP", 1), pid=f"S-{round_}-{i}", priority="standard")
        return order_ingest(canonical=order, brand=brand, source="manual").order.state

    results = race(worker, THREADS)
    allocation_run_waiting(brand=brand, facility=facility)  # what the scheduled sweep would do next
    served = Order.objects.filter(pk__in=[o.pk for o in preorders], state=OrderState.ACCEPTED).count()
    return results, served, level(sku, facility), brand


# --- pre-orders racing for the last pre-order units ---------------------------------------------------------------

LIMIT = 5


def _claim_race_setup(round_):
    brand = BrandFactory(slug=f"launch-{round_}")
    facility = FacilityFactory(code=f"LAUNCH{round_}")
    sku = SkuFactory(brand=brand, code="LAUNCH")
    return brand, inbound_of(sku, facility, quantity=20, limit=LIMIT)


def _naive_claim(*, inbound):
    """The canary: read what is left, decide in Python, write the new count back (a lost update)."""
    with transaction.atomic():
        row = ScheduledInbound.objects.get(pk=inbound.pk)
        if row.preorder_limit - row.preordered < 1:
            return False
        row.preordered += 1
        row.save(update_fields=["preordered"])
        return True
