"""Fault tests against the real components (issue 11 items 1 and 3): signed webhooks through the inbox's HTTP stack
on PostgreSQL, drained by a real `manage.py qcluster` subprocess (the production queue path: the inbox's own
one-statement task rows). Faults: the worker SIGKILLed mid-burst and restarted, poison payloads, the broker's task
rows deleted under the worker. After each, every delivery answered 2xx is exactly one order or one exception, and
the test counts them. Each test is bounded by its waits (about a minute at most on a loaded machine)."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone
from django_q.models import OrmQ

from integrations.delivery_lifecycle import deliveries_sweep, sweep_after
from integrations.models import DeliveryState, InboundDelivery
from orders.models import Order, OrderState
from tests.integrations.conftest import dumps, shopify_headers, shopify_order
from tests.integrations.workers import qcluster, wait_until
from warehouse.models import ExceptionItem

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql, pytest.mark.faults]

DRAIN_SECONDS = 120


def send(connection, order, *, webhook_id: str, body: bytes | None = None) -> int:
    body = body if body is not None else dumps(order)
    response = Client().post(
        f"/webhooks/shopify/{connection.pk}/",
        data=body,
        content_type="application/json",
        headers=shopify_headers(body, webhook_id=webhook_id, topic="orders/create"),
    )
    return response.status_code


def pending() -> int:
    return InboundDelivery.objects.filter(state=DeliveryState.RECEIVED).count()


def count_outcomes(connection, answered_2xx: list[str]) -> dict[str, int]:
    """Every delivery answered 2xx is exactly one order or one exception (never both, never neither), and no order
    exists twice. Returns the counts."""
    content_type = ContentType.objects.get_for_model(InboundDelivery)
    deliveries = {d.delivery_id: d for d in InboundDelivery.objects.filter(connection=connection)}
    assert set(answered_2xx) <= set(deliveries), "a delivery answered 2xx is stored"
    orders = exceptions = 0
    for key in answered_2xx:
        delivery = deliveries[key]
        assert delivery.state != DeliveryState.RECEIVED, f"{key} is still waiting"
        has_order = delivery.order_id is not None and Order.objects.filter(pk=delivery.order_id).exists()
        has_exception = ExceptionItem.objects.filter(content_type=content_type, object_id=delivery.pk).count()
        assert (has_order, has_exception) in ((True, 0), (False, 1)), (key, delivery.state, delivery.outcome)
        orders += has_order
        exceptions += has_exception
    ids = list(Order.objects.filter(channel=connection.channel).values_list("platform_order_id", flat=True))
    assert len(ids) == len(set(ids)) == orders, "one order per platform order id"
    return {"answered_2xx": len(answered_2xx), "orders": orders, "exceptions": exceptions}


def test_a_real_qcluster_drains_signed_webhooks_into_accepted_orders(shopify_connection, stocked_sku, tmp_path):
    log = tmp_path / "worker.log"
    with qcluster(log):
        keys = [f"e2e-{n}" for n in range(40)]
        answered = [
            k for n, k in enumerate(keys) if send(shopify_connection, shopify_order(20_000 + n), webhook_id=k) == 200
        ]
        # the inbox drained, and the tasks the last orders queued on commit (stock publishing) taken too
        drained = lambda: pending() == 0 and not OrmQ.objects.exists()  # noqa: E731
        wait_until(drained, within=DRAIN_SECONDS, what="the worker drains the inbox and its queue", log=log)
    assert len(answered) == 40
    assert count_outcomes(shopify_connection, answered) == {"answered_2xx": 40, "orders": 40, "exceptions": 0}
    assert set(Order.objects.values_list("state", flat=True)) == {OrderState.ACCEPTED}
    left = [q.task().get("func") for q in OrmQ.objects.all()]
    assert not left, f"every task row was taken and acknowledged: {left}"


def test_a_worker_killed_mid_burst_loses_nothing_once_restarted_and_swept(shopify_connection, stocked_sku, tmp_path):
    log = tmp_path / "worker.log"
    answered: list[str] = []
    with qcluster(log) as first:
        for n in range(100):
            if send(shopify_connection, shopify_order(30_000 + n), webhook_id=f"kill-{n}") == 200:
                answered.append(f"kill-{n}")
            if n == 40:
                wait_until(lambda: InboundDelivery.objects.exclude(state=DeliveryState.RECEIVED).exists(),
                           within=60, what="the worker takes deliveries", log=log)  # fmt: skip
                first.kill()  # SIGKILL: the sentinel, its workers and whatever they held in memory
    assert first.proc.returncode is not None
    waiting = pending()
    assert waiting > 0, "the kill left deliveries behind (else the test proves nothing)"
    with qcluster(log):
        # The sweeper's next minute, past its grace: tasks the dead worker held are woken again.
        deliveries_sweep(now=timezone.now() + sweep_after() + dt.timedelta(seconds=1))
        wait_until(lambda: pending() == 0, within=DRAIN_SECONDS, what="the restarted worker drains", log=log)
    counts = count_outcomes(shopify_connection, answered)
    assert counts == {"answered_2xx": 100, "orders": 100, "exceptions": 0}, counts
    print(f"killed worker: {waiting} deliveries waiting after the kill, {counts}")


def test_poison_payloads_become_exceptions_and_the_worker_goes_on(shopify_connection, stocked_sku, tmp_path):
    poisons = {
        "year-one": shopify_order(40_001, processed_at="0001-01-01T00:00:00+14:00"),  # a bug deep in allocation
        "tz-overflow": shopify_order(40_002, updated_at="9999-12-31T23:59:59-23:59"),  # PostgreSQL refuses it
        "long-id": shopify_order("4" * 500),  # cannot be a key
        "empty-id": shopify_order(""),
    }
    log = tmp_path / "worker.log"
    answered: list[str] = []
    with qcluster(log):
        for n in range(30):
            if send(shopify_connection, shopify_order(41_000 + n), webhook_id=f"good-{n}") == 200:
                answered.append(f"good-{n}")
            if n % 7 == 0 and poisons:
                key, order = poisons.popitem()
                if send(shopify_connection, order, webhook_id=key) == 200:
                    answered.append(key)
        assert send(shopify_connection, None, webhook_id="not-json", body=b'{"id": 1,') == 200
        answered.append("not-json")
        wait_until(lambda: pending() == 0, within=DRAIN_SECONDS, what="the worker drains past the poison", log=log)
    counts = count_outcomes(shopify_connection, answered)
    assert counts["answered_2xx"] == 35 and counts["orders"] >= 30 and counts["orders"] + counts["exceptions"] == 35
    assert Order.objects.filter(platform_order_id__startswith="410", state=OrderState.ACCEPTED).count() == 30
    print(f"poison: {counts}")


def test_task_rows_deleted_under_the_worker_are_swept_back(shopify_connection, stocked_sku, tmp_path):
    log = tmp_path / "worker.log"
    answered: list[str] = []
    deleted = 0
    with qcluster(log):
        for n in range(80):
            if send(shopify_connection, shopify_order(50_000 + n), webhook_id=f"del-{n}") == 200:
                answered.append(f"del-{n}")
            if n % 20 == 10:
                deleted += OrmQ.objects.all().delete()[0]  # the broker's rows vanish (a purge, a restore)
        deleted += OrmQ.objects.all().delete()[0]
        lost = pending()
        deliveries_sweep(now=timezone.now() + sweep_after() + dt.timedelta(seconds=1))
        wait_until(lambda: pending() == 0, within=DRAIN_SECONDS, what="swept deliveries drain", log=log)
    assert deleted > 0 and lost > 0, "rows were deleted before the worker ran them"
    counts = count_outcomes(shopify_connection, answered)
    assert counts == {"answered_2xx": 80, "orders": 80, "exceptions": 0}, counts
    print(f"task rows deleted: {deleted} rows, {lost} deliveries stranded until the sweep, {counts}")
