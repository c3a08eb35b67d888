"""The outbound queue against the simulators over real HTTP: retries on the 1/3/7/15-minute schedule, dead letters,
ambiguous writes resolved by reading back, a worker killed after the platform's 200, 429s, 401s and outages."""

import datetime as dt
import random
import types

import pytest
from django.utils import timezone

from integrations.audit import REDACTED
from integrations.models import AuditRecord
from integrations.outbox import services
from integrations.outbox.models import ConnectionCircuit, MessageKind, MessageState, OutboundMessage
from integrations.outbox.services import (
    deadletter_archived_count,
    deadletter_depth,
    deadletter_discard,
    deadletter_replay,
    deadletters,
    outbound_enqueue,
    outbox_claim_due,
    outbox_drain,
    retry_delay,
)
from integrations.services import connection_resume
from orders.signals import shipment_handed_to_carrier
from tests.conftest import grant
from tests.factories import UserFactory
from tests.integrations.outbox.conftest import TOKEN, shopify_connection_for
from warehouse.errors import NotPermitted, TransitionNotAllowed
from warehouse.models import ExceptionItem, ExceptionKind

pytestmark = pytest.mark.django_db


def fulfilment(connection, order_id, tracking="1Z0001", **extra):
    return outbound_enqueue(
        connection=connection,
        kind=MessageKind.FULFILMENT,
        payload={"order_id": str(order_id), "tracking_number": tracking, "carrier": "UPS", **extra},
    )


def fetch(message):
    return OutboundMessage.objects.get(pk=message.pk)


def later(minutes=0.0, seconds=0.0):
    return timezone.now() + dt.timedelta(minutes=minutes, seconds=seconds)


# --- the schedule ----------------------------------------------------------------------------------------------


def test_retry_delays_are_about_1_3_7_15_minutes_and_bounded_to_12_to_18_in_total():
    rng = random.Random(42)
    for _ in range(500):
        delays = [retry_delay(n, rng=rng).total_seconds() for n in range(1, 5)]
        for n, delay in enumerate(delays, start=1):
            assert 60 * 2 ** (n - 1) * 0.8 <= delay <= 60 * 2 ** (n - 1) * 1.2
        assert 12 * 60 <= sum(delays) <= 18 * 60
    cumulative = [sum(60 * 2**k for k in range(n)) / 60 for n in range(1, 5)]
    assert cumulative == [1, 3, 7, 15]


def test_five_failed_attempts_over_12_to_18_minutes_then_the_platforms_dead_letter_queue(shopify_sim, shop):
    order = shopify_sim.upsert_order({})
    shopify_sim.add_fault("503", method="POST", path="fulfillments.json", times=50)
    message = fulfilment(shop, order["id"])
    created = fetch(message).next_attempt_at

    now = created
    for expected_attempt in range(1, 6):
        report = outbox_drain(now=now, connection_id=shop.pk)
        assert report.claimed == 1
        message = fetch(message)
        assert message.attempts == expected_attempt
        if message.state == MessageState.PENDING:
            gap = (message.next_attempt_at - now).total_seconds()
            assert 60 * 2 ** (expected_attempt - 1) * 0.8 <= gap <= 60 * 2 ** (expected_attempt - 1) * 1.2
            now = message.next_attempt_at
    assert message.state == MessageState.DEAD
    assert dt.timedelta(minutes=12) <= message.dead_at - created <= dt.timedelta(minutes=18)
    assert list(deadletters(platform="shopify")) == [message]
    assert deadletter_depth(platform="shopify") == 1
    assert shopify_sim.ledger()["fulfillments"] == []
    assert ExceptionItem.objects.filter(kind=ExceptionKind.DEAD_LETTER, state="open").count() == 1


def test_a_message_is_not_attempted_before_it_is_due(shopify_sim, shop):
    order = shopify_sim.upsert_order({})
    shopify_sim.add_fault("500", method="POST", path="fulfillments.json")
    message = fulfilment(shop, order["id"])
    outbox_drain(now=later(), connection_id=shop.pk)
    due = fetch(message).next_attempt_at

    assert outbox_drain(now=due - dt.timedelta(seconds=1), connection_id=shop.pk).claimed == 0
    assert outbox_drain(now=due, connection_id=shop.pk).sent == 1


def test_a_non_transient_4xx_goes_to_the_dead_letter_queue_at_once(shopify_sim, shop):
    message = fulfilment(shop, 424242)  # no such order on the platform: 404

    outbox_drain(now=later(), connection_id=shop.pk)

    message = fetch(message)
    assert (message.state, message.attempts, message.last_status) == (MessageState.DEAD, 1, 404)
    assert deadletter_depth(platform="shopify") == 1


@pytest.mark.parametrize("status", [408, 409, 425, 500, 502, 503, 504])
def test_transient_statuses_are_retried_not_dead_lettered(shopify_sim, shop, status):
    order = shopify_sim.upsert_order({})
    shopify_sim.add_fault(str(status), method="POST", path="fulfillments.json")
    message = fulfilment(shop, order["id"])

    outbox_drain(now=later(), connection_id=shop.pk)

    message = fetch(message)
    assert (message.state, message.attempts, message.last_status) == (MessageState.PENDING, 1, status)
    assert outbox_drain(now=message.next_attempt_at, connection_id=shop.pk).sent == 1
    assert len(shopify_sim.ledger()["fulfillments"]) == 1


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_non_transient_statuses_on_the_write_are_dead_letters_at_once(shopify_sim, shop, status):
    order = shopify_sim.upsert_order({})
    shopify_sim.add_fault(str(status), method="POST", path="fulfillments.json")
    message = fulfilment(shop, order["id"])

    outbox_drain(now=later(), connection_id=shop.pk)

    message = fetch(message)
    assert (message.state, message.attempts, message.last_status) == (MessageState.DEAD, 1, status)


# --- ambiguous writes ------------------------------------------------------------------------------------------


# --- rate limits, credentials, outages -------------------------------------------------------------------------


def test_an_outage_of_one_connection_does_not_block_another(shopify_sim, other_shopify_sim, shop, brand):
    healthy = shopify_connection_for(other_shopify_sim, brand)
    down = [fulfilment(shop, shopify_sim.upsert_order({})["id"], tracking=f"1ZA{n}") for n in range(3)]
    up = [fulfilment(healthy, other_shopify_sim.upsert_order({})["id"], tracking=f"1ZB{n}") for n in range(2)]
    shopify_sim.add_fault("timeout", times=100)  # every call to the first shop hangs
    now = later()

    report = outbox_drain(now=now)

    assert all(fetch(m).state == MessageState.SENT for m in up)
    assert len(other_shopify_sim.ledger()["fulfillments"]) == 2
    states = [fetch(m) for m in down]
    assert sorted(m.attempts for m in states) == [0, 0, 1]  # one probe spent an attempt, the rest waited
    assert report.released == 2
    circuit = ConnectionCircuit.objects.get(connection=shop)
    assert circuit.open_until > now
    # While the circuit is open the shop's due messages are not even claimed; the healthy shop's new ones are.
    fresh = fulfilment(healthy, other_shopify_sim.upsert_order({})["id"], tracking="1ZB9")
    assert outbox_drain(now=now + dt.timedelta(seconds=5)).claimed == 1
    assert fetch(fresh).state == MessageState.SENT


# --- dead letters ----------------------------------------------------------------------------------------------


@pytest.fixture
def dead(shopify_sim, shop):
    order = shopify_sim.upsert_order({})
    shopify_sim.add_fault("500", method="POST", path="fulfillments.json", times=5)
    message = fulfilment(shop, order["id"])
    for _ in range(5):
        outbox_drain(now=fetch(message).next_attempt_at, connection_id=shop.pk)
    assert fetch(message).state == MessageState.DEAD
    return fetch(message)


@pytest.fixture
def operator(db):
    return grant(UserFactory(username="integrations-admin"), "outbox.manage_deadletter")


def test_a_replayed_dead_letter_is_sent_with_the_same_key(shopify_sim, dead, operator):
    key = dead.idempotency_key

    replayed = deadletter_replay(message=dead, actor=operator)
    assert (replayed.state, replayed.attempts) == (MessageState.PENDING, 0)
    outbox_drain(now=later(minutes=30), connection_id=dead.connection_id)  # after the connection's circuit

    sent = fetch(dead)
    assert sent.state == MessageState.SENT and sent.idempotency_key == key
    assert shopify_sim.ledger()["fulfillments"][0]["idempotency_key"] == key
    assert deadletter_depth(platform="shopify") == 0
    assert sent.history.filter(history_change_reason="dead letter replayed", history_user=operator).exists()


def test_a_dead_letter_is_discarded_only_with_a_reason_and_the_permission(dead, operator, viewer):
    with pytest.raises(NotPermitted):
        deadletter_discard(message=dead, actor=viewer, reason="order cancelled on the platform")
    with pytest.raises(TransitionNotAllowed):
        deadletter_discard(message=dead, actor=operator, reason="   ")

    discarded = deadletter_discard(message=dead, actor=operator, reason="order cancelled on the platform")

    assert discarded.state == MessageState.DISCARDED
    assert discarded.discard_reason == "order cancelled on the platform"
    assert deadletter_depth(platform="shopify") == 0
    page = ExceptionItem.objects.get(kind=ExceptionKind.DEAD_LETTER)
    assert page.state == "resolved" and "order cancelled" in page.decision_note
    with pytest.raises(TransitionNotAllowed):
        deadletter_replay(message=discarded, actor=operator)


def test_the_dead_letter_queue_is_bounded_per_platform_and_counts_what_it_archived(
    settings, shopify_sim, woo_sim, shop, woo_shop
):
    settings.OUTBOX_DEADLETTER_CAP = 2
    for n in range(4):
        fulfilment(shop, 900000 + n)  # unknown orders: 404, dead at once
    fulfilment(woo_shop, 900100)
    for _ in range(5):
        outbox_drain(now=later(), limit=1)

    assert deadletter_depth(platform="shopify") == 2
    assert deadletter_archived_count(platform="shopify") == 2
    assert deadletter_depth(platform="woocommerce") == 1
    newest = sorted(OutboundMessage.objects.filter(platform="shopify"), key=lambda m: (m.dead_at, m.pk))[-2:]
    assert list(deadletters(platform="shopify")) == newest


# --- enqueueing ------------------------------------------------------------------------------------------------


def test_the_same_business_payload_enqueued_twice_is_one_message_with_a_payload_hash_key(shop):
    first = fulfilment(shop, 1001)
    second = fulfilment(shop, 1001)
    other = fulfilment(shop, 1001, tracking="1Z0002")

    assert first.pk == second.pk != other.pk
    assert first.idempotency_key == services.payload_key(kind=MessageKind.FULFILMENT, payload=first.payload)
    assert len(first.idempotency_key) == 64


def test_a_shipment_handed_to_the_carrier_queues_exactly_one_fulfilment(shopify_sim, shop):
    order = shopify_sim.upsert_order({})
    wms_order = types.SimpleNamespace(channel_id=shop.channel_id, platform_order_id=str(order["id"]))
    shipment = types.SimpleNamespace(pk=77, order=wms_order, tracking_number="1Z77", carrier="UPS")

    shipment_handed_to_carrier.send(sender=None, shipment=shipment)
    shipment_handed_to_carrier.send(sender=None, shipment=shipment)  # a repeated signal

    (message,) = OutboundMessage.objects.all()
    assert message.idempotency_key == services.shipment_key(77)
    assert message.payload["tracking_number"] == "1Z77" and message.source == "shipment:77"
    outbox_drain(now=later())
    assert len(shopify_sim.ledger()["fulfillments"]) == 1


def test_a_manual_order_without_a_channel_queues_nothing():
    shipment = types.SimpleNamespace(pk=5, order=types.SimpleNamespace(channel_id=None, platform_order_id=""))

    shipment_handed_to_carrier.send(sender=None, shipment=shipment)

    assert not OutboundMessage.objects.exists()


def test_every_outbound_call_is_audited_without_the_token(shopify_sim, shop):
    order = shopify_sim.upsert_order({})
    fulfilment(shop, order["id"])

    outbox_drain(now=later())

    rows = list(AuditRecord.objects.filter(connection=shop, direction="outbound"))
    assert {r.method for r in rows} == {"GET", "POST"}
    assert all(r.credential_fingerprint == shop.credentials_fingerprint for r in rows)
    assert any(r.headers.get("X-Shopify-Access-Token") == REDACTED for r in rows)
    assert TOKEN not in repr([(r.endpoint, r.headers, r.body, r.detail) for r in rows])


def test_a_connections_queued_stock_writes_go_in_one_bulk_call_and_a_refused_one_is_a_dead_letter(woo_sim, woo_shop):
    for n, listing in enumerate(["301", "302", "410/411", "93/x"]):
        outbound_enqueue(
            connection=woo_shop, kind=MessageKind.INVENTORY, payload={"sku_id": n, "listing": listing, "quantity": n}
        )

    report = outbox_drain(now=later())

    writes = [r["path"] for r in woo_sim.ledger()["requests"] if r["method"] in ("POST", "PUT")]
    assert writes == ["/wp-json/wc/v3/products/batch", "/wp-json/wc/v3/products/410/variations/batch"]
    assert (report.sent, report.dead) == (3, 1)
    shown = {(row["product_id"], row["variation_id"]): row["stock_quantity"] for row in woo_sim.ledger()["stock"]}
    assert shown == {(301, 0): 0, (302, 0): 1, (410, 411): 2}
    dead = OutboundMessage.objects.get(state=MessageState.DEAD)
    assert dead.payload["listing"] == "93/x" and "not 'product' or 'product/variation'" in dead.last_error


def test_low_rate_limit_headroom_slows_that_connections_writes_and_is_recorded(shopify_sim, shop):
    shopify_sim.configure(bucket_size=10, leak_per_second=0.0001)
    for n in range(4):
        fulfilment(shop, shopify_sim.upsert_order({})["id"], tracking=f"1ZH{n}")

    report = outbox_drain(now=later())

    # Each fulfilment is three calls (two read-backs, one write): after the third, 9 of 10 are used.
    assert (report.sent, report.throttled, report.released) == (3, 1, 1)
    assert services.headroom_by_connection()[shop.pk] == pytest.approx(0.1)
    assert OutboundMessage.objects.filter(state=MessageState.PENDING).count() == 1
    # The connection waits a little (no failure counted) before the next write.
    assert outbox_drain(now=later(seconds=1)).claimed == 0
    assert ConnectionCircuit.objects.get(connection=shop).consecutive_failures == 0
    shopify_sim.configure(bucket_size=40)
    assert outbox_drain(now=later(seconds=11)).sent == 1


def test_one_connections_backlog_does_not_fill_every_batch(shopify_sim, other_shopify_sim, shop, brand):
    other = shopify_connection_for(other_shopify_sim, brand)
    for n in range(15):
        fulfilment(shop, 920000 + n)
    for n in range(2):
        fulfilment(other, 930000 + n)

    claimed = outbox_claim_due(now=later(), limit=12, per_connection=10)

    counts = {shop.pk: 0, other.pk: 0}
    for message in claimed:
        counts[message.connection_id] += 1
    assert counts == {shop.pk: 10, other.pk: 2}
    rest = outbox_claim_due(now=later(), limit=12)
    assert len(rest) == 5 and not {m.pk for m in rest} & {m.pk for m in claimed}  # leased rows are not re-claimed


def test_dead_letter_depth_is_reported_per_platform(shopify_sim, woo_sim, shop, woo_shop):
    fulfilment(shop, 910001)
    fulfilment(shop, 910002)
    fulfilment(woo_shop, 910003)

    outbox_drain(now=later())

    assert services.deadletter_depth_by_platform() == {"shopify": 2, "woocommerce": 1}


def test_the_console_offers_replay_and_discard_on_a_dead_letter_only(dead, operator, rf):
    from django.contrib.admin import AdminSite

    from integrations.outbox.console import OutboundMessageAdmin

    console = OutboundMessageAdmin(OutboundMessage, AdminSite())
    request = rf.get("/")
    request.user = operator

    assert {b["name"] for b in console.transition_buttons(request, dead)} == {"replay", "discard"}
    console.get_transition_service("discard")(obj=dead, actor=operator, reason="duplicate order")
    assert console.transition_buttons(request, fetch(dead)) == []
    assert fetch(dead).state == MessageState.DISCARDED


def test_a_payload_missing_its_tracking_number_is_a_dead_letter_without_calling_the_platform(shopify_sim, shop):
    message = outbound_enqueue(connection=shop, kind=MessageKind.FULFILMENT, payload={"order_id": "1001"})

    outbox_drain(now=later())

    message = fetch(message)
    assert message.state == MessageState.DEAD and "tracking_number" in message.last_error
    assert shopify_sim.ledger()["requests"] == []


def test_a_connection_whose_client_cannot_be_built_retries_and_leaves_nothing_in_flight(shop):
    message = fulfilment(shop, 1001)

    def broken(connection):
        raise RuntimeError("no key opens these credentials")

    report = outbox_drain(now=later(), client_factory=broken)

    message = fetch(message)
    assert report.retried == 1
    assert (message.state, message.attempts) == (MessageState.PENDING, 1)
    assert message.last_error == "client unavailable: RuntimeError"


def test_a_tracking_update_is_idempotent_so_a_500_after_applying_is_simply_retried(shopify_sim, shop):
    order = shopify_sim.upsert_order({})
    fulfilment(shop, order["id"], tracking="1ZOLD")
    outbox_drain(now=later())
    shopify_sim.add_fault("apply_then_500", method="POST", path="update_tracking")
    update = outbound_enqueue(
        connection=shop,
        kind=MessageKind.TRACKING,
        payload={"order_id": str(order["id"]), "tracking_number": "1ZNEW", "carrier": "UPS",
                 "previous_tracking_number": "1ZOLD"},
    )  # fmt: skip

    report = outbox_drain(now=later(minutes=1))

    (only,) = shopify_sim.ledger()["fulfillments"]
    assert report.sent == 1 and fetch(update).state == MessageState.SENT
    assert only["tracking_numbers"] == ["1ZNEW"] and only["tracking_updates"] == 2  # set twice, same result
    again = outbound_enqueue(
        connection=shop, kind=MessageKind.TRACKING,
        payload={"order_id": str(order["id"]), "tracking_number": "1ZNEW", "carrier": "UPS", "resent": True},
    )  # fmt: skip
    outbox_drain(now=later(minutes=2))
    assert fetch(again).result["created"] is False and shopify_sim.ledger()["fulfillments"][0]["tracking_updates"] == 2


def test_resuming_a_paused_connection_kicks_a_drain_of_what_waited(shop, django_capture_on_commit_callbacks):
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    from integrations.services import connection_pause_for_credentials

    connection_pause_for_credentials(connection=shop, note="outbound 401")
    with django_capture_on_commit_callbacks(execute=True):
        connection_resume(connection=shop, actor=None, note="credentials rotated")

    tasks = [SignedPackage.loads(row.payload) for row in OrmQ.objects.all()]
    assert [(t["func"], t["args"]) for t in tasks] == [
        ("integrations.outbox.tasks.outbox_drain_connection", (shop.pk,))
    ]


def test_the_every_minute_sweep_is_declared_for_sync_schedules(shopify_sim, shop):
    from integrations.outbox.tasks import outbox_drain_due
    from warehouse.management.commands.sync_schedules import declared_schedules

    assert "integrations.outbox.tasks.outbox_drain_due" in {s["func"] for s in declared_schedules()}
    fulfilment(shop, shopify_sim.upsert_order({})["id"])
    assert outbox_drain_due() == 1
    assert len(shopify_sim.ledger()["fulfillments"]) == 1


def test_a_transaction_queueing_many_writes_kicks_one_drain_per_connection(
    shop, woo_shop, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for n in range(5):
            fulfilment(shop, 1001, tracking=f"1ZK{n}")
        fulfilment(woo_shop, 2002)

    assert OutboundMessage.objects.count() == 6
    assert sorted(cb.outbox_kick for cb in callbacks) == sorted([shop.pk, woo_shop.pk])
