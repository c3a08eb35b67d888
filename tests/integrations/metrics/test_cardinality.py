"""Label cardinality stays bounded (issue 18): the number of series `/metrics` exports does not grow with orders,
deliveries or exceptions — 10,000 of each (bulk-created, not ingested) add no series, and no label carries an order
id, a delivery id or a topic the platform was not subscribed for."""

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from integrations.metrics.exporter import exposition
from integrations.models import DeliverySource, DeliveryState, InboundDelivery
from orders.models import Order
from warehouse.models import ExceptionItem, ExceptionKind

pytestmark = pytest.mark.django_db

MANY = 10_000


def series(body: bytes) -> set[tuple]:
    return {
        (sample.name, tuple(sorted(sample.labels.items())))
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def bulk(connection, brand, start: int, n: int) -> None:
    now = timezone.now()
    Order.objects.bulk_create(
        [
            Order(
                brand=brand, connection=connection, platform=connection.platform, platform_order_id=f"ORD-{k}",
                placed_at=now - timezone.timedelta(seconds=k % 600),
            )
            for k in range(start, start + n)
        ],
        batch_size=2000,
    )  # fmt: skip
    InboundDelivery.objects.bulk_create(
        [
            InboundDelivery(
                connection=connection, source=DeliverySource.WEBHOOK, delivery_id=f"dlv-{k}",
                topic=("orders/create", "orders/updated", f"made-up/topic-{k}")[k % 3], body=b"{}",
                platform_order_id=f"ORD-{k}", state=DeliveryState.PROCESSED if k % 7 else DeliveryState.DEAD_LETTER,
                processed_at=now,
            )
            for k in range(start, start + n)
        ],
        batch_size=2000,
    )  # fmt: skip
    ExceptionItem.objects.bulk_create(
        [
            ExceptionItem(kind=ExceptionKind.ORDER_ON_HOLD, brand=brand, summary=f"ORD-{k} held",
                          dedupe_key=f"test-hold:{k}")
            for k in range(start, start + n)
        ],
        batch_size=2000,
    )  # fmt: skip


def test_ten_thousand_orders_add_no_series(shopify_connection, woo_connection, brand, django_assert_max_num_queries):
    bulk(shopify_connection, brand, 0, 10)
    few = series(exposition())

    bulk(shopify_connection, brand, 10, MANY)
    with django_assert_max_num_queries(20):  # a scrape's queries do not grow with rows either
        body = exposition()
    many = series(body)

    assert Order.objects.count() == MANY + 10
    assert many == {s for s in many if s in few} and len(many) == len(few)
    text = body.decode()
    for k in (0, 11, 5000, MANY + 9):
        assert f"ORD-{k}" not in text and f"dlv-{k}" not in text and f"topic-{k}" not in text
    topics = {dict(labels)["topic"] for name, labels in many if name == "hub_webhook_ingest_events_per_second"}
    assert topics == {"orders/create", "orders/updated", "orders/cancelled", "other", "order.created", "order.updated"}
    # the values did change: the series are the same ones, counting more
    lag = next(
        dict(labels) for name, labels in many if name == "hub_order_lag_p95_seconds"
    )  # one series for the connection, however many orders
    assert lag == {"platform": "shopify", "connection": str(shopify_connection.pk)}
