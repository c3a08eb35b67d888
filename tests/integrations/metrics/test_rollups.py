"""One-minute rollups in PostgreSQL (issue 18): written every minute from the same numbers `/metrics` reads,
idempotent (re-running a minute changes nothing), kept 90 days, then summarised into hours — on a fake clock."""

import datetime as dt

import pytest

from integrations.metrics.rollups import metrics_rollup, metrics_summarise
from integrations.models import AuditDirection, AuditRecord, DeliverySource, InboundDelivery, MetricHour, MetricMinute
from integrations.outbox.models import MessageState, OutboundMessage
from warehouse.models import ExceptionItem, ExceptionKind

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 6, 1, 10, 0, 30, tzinfo=dt.UTC)  # the fake clock: half a minute into 10:00


def at(hh_mm: str, second: int = 0) -> dt.datetime:
    hour, minute = (int(part) for part in hh_mm.split(":"))
    return T0.replace(hour=hour, minute=minute, second=second)


def delivery(connection, n: int, received_at: dt.datetime, topic="orders/create") -> InboundDelivery:
    return InboundDelivery.objects.create(
        connection=connection, source=DeliverySource.WEBHOOK, delivery_id=f"d{n}", topic=topic, body=b"{}",
        received_at=received_at,
    )  # fmt: skip


def request(connection, at_: dt.datetime, *, outcome="accepted", status=200) -> AuditRecord:
    # The audit log is append-only: rows are inserted at their time, never moved.
    return AuditRecord.objects.create(
        connection=connection, direction=AuditDirection.INBOUND, endpoint="/webhooks/", outcome=outcome,
        status_code=status, at=at_,
    )  # fmt: skip


def rows(model=MetricMinute) -> list[tuple]:
    period = "minute" if model is MetricMinute else "hour"
    return list(
        model.objects.order_by("metric", "connection_id", "label", period).values_list(
            "id", "metric", "platform", "connection_id", "label", period, "value", "count", "total"
        )
    )


def row(metric, label="", model=MetricMinute, **when):
    return model.objects.get(metric=metric, label=label, **when)


@pytest.fixture
def minutes_of_traffic(shopify_connection):
    """09:58: two deliveries and four signed requests, one refused; 09:59: one delivery, one request; a write
    confirmed at 09:59 after 4 s; an open exception."""
    c = shopify_connection
    delivery(c, 1, at("09:58", 5))
    delivery(c, 2, at("09:58", 50), topic="orders/updated")
    delivery(c, 3, at("09:59", 10))
    for second in (1, 2, 3):
        request(c, at("09:58", second))
    request(c, at("09:58", 4), outcome="hmac_failed", status=401)
    request(c, at("09:59", 1))
    OutboundMessage.objects.create(
        connection=c, platform=c.platform, kind="fulfilment", payload={}, idempotency_key="k1",
        state=MessageState.SENT, created_at=at("09:59", 10), sent_at=at("09:59", 14),
    )  # fmt: skip
    ExceptionItem.objects.create(kind=ExceptionKind.ORDER_ON_HOLD, summary="held", dedupe_key="held:1")
    return c


def test_a_minute_holds_what_happened_in_it(minutes_of_traffic):
    c = minutes_of_traffic
    metrics_rollup(now=T0)

    minute = {"minute": at("09:58"), "connection_id": c.pk}
    rate = row("webhook_ingest_rate", "orders/create", **minute)
    assert (rate.platform, rate.count, rate.value) == ("shopify", 1, pytest.approx(1 / 60))
    assert row("webhook_ingest_rate", "orders/updated", **minute).count == 1
    success = row("webhook_ingest_success", **minute)
    assert (success.value, success.count, success.total) == (pytest.approx(3 / 4), 4, 3)
    hmac = row("hmac_failure_rate", **minute)
    assert (hmac.value, hmac.count, hmac.total) == (pytest.approx(1 / 4), 4, 1)
    assert row("webhook_failures", "refused", **minute).value == 1
    assert row("outbound_write_latency_p95", minute=at("09:59"), connection_id=c.pk).value == pytest.approx(4.0)
    assert not MetricMinute.objects.filter(minute=at("10:00")).exists()  # the current minute is not complete
    assert not MetricMinute.objects.filter(minute__lt=at("09:55")).exists()  # five minutes are caught up
    # readings of state are stamped with the last complete minute
    queue = row("exception_queue_depth", "order_on_hold", minute=at("09:59"))
    assert (queue.connection_id, queue.platform, queue.value) == (0, "", 1)
    drift = MetricMinute.objects.filter(metric="catalog_drift")
    assert list(drift.values_list("minute", flat=True)) == []  # the brand has no drifting SKU: no row, read as 0


def test_rerunning_a_minute_changes_nothing(minutes_of_traffic):
    metrics_rollup(now=T0)
    first = rows()
    assert first

    metrics_rollup(now=T0)
    metrics_rollup(now=T0 + dt.timedelta(seconds=29))  # the same minute, later
    assert rows() == first  # same ids, same values: upserted, not added

    # A reading of state is what it was when the minute was first rolled up.
    ExceptionItem.objects.create(kind=ExceptionKind.ORDER_ON_HOLD, summary="held again", dedupe_key="held:2")
    metrics_rollup(now=T0)
    assert rows() == first

    # The next minute's run rewrites the minutes before it with the same values and adds its own.
    metrics_rollup(now=T0 + dt.timedelta(minutes=1))
    again = {r[0]: r for r in rows()}
    assert all(again[r[0]] == r for r in first)
    assert row("exception_queue_depth", "order_on_hold", minute=at("10:00")).value == 2


def test_a_late_row_is_caught_up_by_the_next_run(minutes_of_traffic):
    c = minutes_of_traffic
    metrics_rollup(now=T0)
    delivery(c, 4, at("09:58", 30))  # stored late, dated inside 09:58
    metrics_rollup(now=T0 + dt.timedelta(minutes=1))
    assert row("webhook_ingest_rate", "orders/create", minute=at("09:58"), connection_id=c.pk).count == 2


def test_after_90_days_minutes_are_summarised_into_hours_once(minutes_of_traffic):
    c = minutes_of_traffic
    metrics_rollup(now=T0)
    later_minutes = MetricMinute.objects.count()
    metrics_rollup(now=T0 + dt.timedelta(days=89))  # readings of state, 89 days on: kept
    assert MetricMinute.objects.count() > later_minutes

    assert metrics_summarise(now=T0 + dt.timedelta(days=89, hours=23)) == 0  # not 90 days old yet
    assert MetricHour.objects.count() == 0

    written = metrics_summarise(now=T0 + dt.timedelta(days=90))
    assert written > 0
    assert not MetricMinute.objects.filter(minute__lt=at("10:00")).exists()
    assert MetricMinute.objects.filter(minute__gte=T0 + dt.timedelta(days=88)).exists()

    hour = {"hour": at("09:00"), "model": MetricHour, "connection_id": c.pk}
    rate = row("webhook_ingest_rate", "orders/create", **hour)
    assert (rate.count, rate.value) == (2, pytest.approx(2 / 3600))  # per second over the hour
    hmac = row("hmac_failure_rate", **hour)
    assert (hmac.count, hmac.total, hmac.value) == (5, 1, pytest.approx(1 / 5))  # Σ failures ÷ Σ requests
    assert row("webhook_ingest_success", **hour).value == pytest.approx(4 / 5)
    assert row("outbound_write_latency_p95", **hour).value == pytest.approx(4.0)
    queue = row("exception_queue_depth", "order_on_hold", model=MetricHour, hour=at("09:00"), connection_id=0)
    assert queue.value == 1

    hours = rows(MetricHour)
    minutes = rows()
    assert metrics_summarise(now=T0 + dt.timedelta(days=90)) == 0
    assert metrics_summarise(now=T0 + dt.timedelta(days=90, minutes=59)) == 0
    assert (rows(MetricHour), rows()) == (hours, minutes)  # summarised once: a re-run changes nothing


def test_the_rollup_runs_every_minute_and_the_summary_hourly_through_sync_schedules(minutes_of_traffic):
    from django.core.management import call_command
    from django_q.models import Schedule

    from integrations.tasks import metrics_rollup_minutes, metrics_summarise_hours

    call_command("sync_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    rollup = Schedule.objects.get(name="integrations.metrics_rollup")
    assert (rollup.func, rollup.schedule_type, rollup.minutes) == (
        "integrations.tasks.metrics_rollup_minutes", Schedule.MINUTES, 1,
    )  # fmt: skip
    summary = Schedule.objects.get(name="integrations.metrics_summarise")
    assert (summary.func, summary.schedule_type) == ("integrations.tasks.metrics_summarise_hours", Schedule.HOURLY)
    assert metrics_rollup_minutes() >= 0 and metrics_summarise_hours() == 0  # the real clock: nothing 90 days old
