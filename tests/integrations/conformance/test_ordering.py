"""Every ordering of one create and three updates of an order, delivered to the inbox, gives exactly one WMS order at
the newest version: 24 orders, one per permutation, each delivered in its own order and processed by the queue."""

from __future__ import annotations

import itertools

import pytest

from integrations.mappings import normalise
from integrations.models import InboundDelivery
from orders.models import Order
from tests.integrations.conformance.conftest import default_mappings, post_delivery
from tests.integrations.conftest import run_queued_tasks

pytestmark = pytest.mark.django_db

ORDERINGS = list(itertools.permutations(range(4)))  # version 0 is the create, 1-3 the updates


def versions_of(sim) -> list[tuple[str, dict]]:
    """One order's create and three updates, as the platform would send them (not delivered yet)."""
    order = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]}, deliver=False)
    for n in range(3):
        sim.upsert_order({"id": order["id"], "line_items": [{"sku": "TEE-BLK-M", "quantity": n + 2}]}, deliver=False)
    payloads = sim.order_versions[order["id"]]
    assert len(payloads) == 4
    return [(sim.topic("create" if n == 0 else "update"), payload) for n, payload in enumerate(payloads)]


def test_every_create_and_three_updates_ordering_gives_one_order_at_the_newest_version(
    connector, platform_sim, connection
):
    mappings = default_mappings(connector)
    newest: dict[str, tuple] = {}
    for ordering in ORDERINGS:
        versions = versions_of(platform_sim)
        canonical = [normalise(payload=payload, mappings=mappings) for _, payload in versions]
        assert len({c.updated_at for c in canonical}) == 4, "each version is newer than the one before"
        newest[canonical[0].platform_order_id] = (ordering, canonical[-1])
        for n in ordering:
            body, headers = platform_sim.signed_delivery(*versions[n])
            assert post_delivery(connection, body, headers).status_code == 200

    run_queued_tasks()

    assert InboundDelivery.objects.filter(connection=connection).count() == 4 * len(ORDERINGS)
    held = Order.objects.filter(channel=connection.channel).prefetch_related("lines")
    orders = {o.platform_order_id: o for o in held}
    assert sorted(orders) == sorted(newest)
    assert Order.objects.filter(channel=connection.channel).count() == len(ORDERINGS)
    wrong = []
    for pid, (ordering, canonical) in newest.items():
        order = orders[pid]
        quantities = [line.quantity for line in order.lines.all()]
        if order.source_updated_at != canonical.updated_at or quantities != [canonical.lines[0].quantity]:
            wrong.append((ordering, order.source_updated_at, quantities))
    assert wrong == [], "orderings left at an older version"
