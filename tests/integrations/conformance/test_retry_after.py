"""`Retry-After` honoured: a short one is waited out by the client and the write goes through; a long one (on a 429 or
a 503) is handed to the outbox, which does not attempt the write again before it."""

from __future__ import annotations

import datetime as dt

import pytest

from integrations.outbox.models import MessageKind, MessageState
from integrations.outbox.services import outbound_enqueue, outbox_drain
from tests.integrations.conformance.conftest import later

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_http")]


def queued_fulfilment(sim, connection):
    order_id = str(sim.upsert_order({}, deliver=False)["id"])
    message = outbound_enqueue(
        connection=connection,
        kind=MessageKind.FULFILMENT,
        payload={"order_id": order_id, "tracking_number": "1ZWAIT0001", "carrier": "UPS"},
    )
    return order_id, message


def test_a_short_retry_after_is_waited_out_and_the_write_lands(platform_sim, connection, sleeps):
    order_id, message = queued_fulfilment(platform_sim, connection)
    platform_sim.add_fault("429", on="fulfilment", retry_after=2.0)

    report = outbox_drain(now=later(), connection_id=connection.pk)

    message.refresh_from_db()
    assert report.sent == 1 and message.state == MessageState.SENT
    assert sleeps == [2.0]
    assert len(platform_sim.fulfilments_of(order_id)) == 1


@pytest.mark.parametrize("status", ["429", "503"])
def test_the_next_attempt_is_not_before_a_long_retry_after(platform_sim, connection, status):
    order_id, message = queued_fulfilment(platform_sim, connection)
    platform_sim.add_fault(status, on="fulfilment", retry_after=900)
    now = later()

    outbox_drain(now=now, connection_id=connection.pk)

    message.refresh_from_db()
    assert platform_sim.faults == []
    assert (message.state, message.last_status) == (MessageState.PENDING, int(status))
    assert message.next_attempt_at >= now + dt.timedelta(seconds=900)
    assert outbox_drain(now=now + dt.timedelta(seconds=899), connection_id=connection.pk).claimed == 0
    assert outbox_drain(now=message.next_attempt_at, connection_id=connection.pk).sent == 1
    assert len(platform_sim.fulfilments_of(order_id)) == 1
