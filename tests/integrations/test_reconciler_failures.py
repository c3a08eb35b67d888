"""A reconciler run that dies is marked failed with an exception, never left "running"; a replay it decided on
happens now, waits on its delivery for a retry, or is an exception (issue 11 item 1)."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.delivery_lifecycle import deliveries_sweep
from integrations.models import DeliveryState, InboundDelivery, ReconcileRun
from integrations.reconciler import reconcile_connection, reconcile_runs_expire_stale
from orders.models import Order
from tests.integrations.conftest import run_queued_tasks, shopify_order
from tests.integrations.faults import refusing_writes
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]


def platform_has(*orders):
    """The platform's side of a pull: what its API lists."""

    def pull(connection, since):
        yield from orders

    return pull


def failed_items(connection):
    return ExceptionItem.objects.filter(
        kind=ExceptionKind.RECONCILE_FAILED, object_id=connection.pk, state=ExceptionState.OPEN
    )


def test_a_run_that_dies_is_marked_failed_with_an_exception_and_the_next_run_replays(shopify_connection, stocked_sku):
    with refusing_writes("integrations_inbounddelivery", sqlstate="08006", message="connection failure"):
        run = reconcile_connection(connection=shopify_connection, pull=platform_has(shopify_order(8001)))
    run.refresh_from_db()
    assert run.outcome == "failed" and run.finished_at is not None
    assert "OperationalError: connection failure" in run.error
    [item] = failed_items(shopify_connection)
    assert f"run {run.pk} failed" in item.summary
    shopify_connection.refresh_from_db()
    assert shopify_connection.reconcile_watermark is None, "the watermark stays: the next run decides again"

    again = reconcile_connection(connection=shopify_connection, pull=platform_has(shopify_order(8001)))
    assert (again.outcome, again.missing, again.replayed) == ("ok", 1, 1)
    assert Order.objects.filter(platform_order_id="8001").count() == 1


def test_a_run_left_running_by_a_dead_worker_is_expired_as_failed(shopify_connection):
    now = timezone.now()
    dead = ReconcileRun.objects.create(connection=shopify_connection, started_at=now - dt.timedelta(minutes=16))
    alive = ReconcileRun.objects.create(connection=shopify_connection, started_at=now - dt.timedelta(minutes=1))
    assert reconcile_runs_expire_stale(now=now) == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.outcome == "failed" and "never finished" in dead.error
    assert alive.outcome == "running"
    assert failed_items(shopify_connection).count() == 1


def test_a_decided_replay_that_fails_waits_for_its_retry_and_then_happens(shopify_connection, stocked_sku):
    with refusing_writes("orders_order", sqlstate="40001", message="could not serialize access"):
        run = reconcile_connection(connection=shopify_connection, pull=platform_has(shopify_order(8002)))
    assert (run.outcome, run.missing, run.replayed) == ("partial", 1, 0)
    assert "1 received" in run.error
    delivery = InboundDelivery.objects.get(platform_order_id="", source="reconciler")
    assert delivery.state == DeliveryState.RECEIVED and delivery.next_attempt_at is not None
    assert deliveries_sweep(now=delivery.next_attempt_at) == 1
    assert run_queued_tasks() == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.PROCESSED
    assert Order.objects.filter(platform_order_id="8002").count() == 1
