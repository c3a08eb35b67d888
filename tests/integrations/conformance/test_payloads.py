"""The platform's official example payloads (copied from `../shared/specs/` into the platform folder's `fixtures/`)
parse into canonical orders with the connector's default mappings, and arrive as one order each through the inbox."""

from __future__ import annotations

import pytest

from integrations.mappings import mapping_validate, normalise
from integrations.models import DeliveryState, InboundDelivery
from tests.integrations.conformance.conftest import default_mappings, post_delivery
from tests.integrations.conftest import run_queued_tasks

pytestmark = pytest.mark.django_db


def official_orders(connector) -> list[dict]:
    found = connector.example_orders()
    assert found, "the platform folder ships at least one official order payload"
    return found


def test_the_default_mappings_are_valid(connector):
    mapping_validate(field_mapping=connector.default_field_mapping, status_mapping=connector.default_status_mapping)


def test_every_official_order_payload_parses_into_a_canonical_order(connector):
    mappings = default_mappings(connector)
    for name, payload in enumerate(official_orders(connector)):
        canonical = normalise(payload=payload, mappings=mappings)

        assert canonical.platform_order_id, name
        assert canonical.updated_at is not None and canonical.updated_at.tzinfo is not None, name
        assert canonical.status in ("open", "paid", "cancelled"), name
        assert canonical.lines, name
        for line in canonical.lines:
            assert isinstance(line.quantity, int) and line.quantity > 0, (name, line)
            assert line.external_line_id, (name, line)
        address = canonical.address
        for field in ("name", "street1", "postal_code", "city", "country"):
            assert getattr(address, field), (name, field)


def test_every_official_order_payload_signed_and_delivered_becomes_one_order(connector, platform_sim, connection):
    from orders.models import Order

    payloads = official_orders(connector)
    for payload in payloads:
        platform_sim.hold_order(payload)  # what a thin webhook's fetch finds (a full one carries it)
        body, headers = platform_sim.signed_delivery(platform_sim.topic("create"), payload)
        assert post_delivery(connection, body, headers).status_code == 200
    run_queued_tasks()

    mappings = default_mappings(connector)
    ids = {normalise(payload=p, mappings=mappings).platform_order_id for p in payloads}
    assert set(InboundDelivery.objects.filter(connection=connection).values_list("state", flat=True)) <= {
        DeliveryState.PROCESSED,
        DeliveryState.STALE,  # the same order in an older version than one already applied
    }
    held = Order.objects.filter(channel=connection.channel)
    assert sorted(held.values_list("platform_order_id", flat=True)) == sorted(ids)
