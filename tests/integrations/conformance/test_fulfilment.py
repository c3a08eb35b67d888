"""Exactly one fulfilment on the platform through every fault the simulator injects on the fulfilment write (429, 500,
a timeout, a write applied then an answer too late or a 500), drained by the outbox: a retry reads back before it
writes, so it never fulfils twice. (A worker process killed mid-write: `test_killed_worker.py`.)"""

from __future__ import annotations

import pytest

from integrations.outbox.models import MessageKind, MessageState, OutboundMessage
from integrations.outbox.services import outbound_enqueue, outbox_drain
from tests.integrations.conformance.conftest import later

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_http")]

TRACKING = "1ZCONFORMANCE01"


def fulfilment_for(connection, order_id: str, tracking: str = TRACKING) -> OutboundMessage:
    return outbound_enqueue(
        connection=connection,
        kind=MessageKind.FULFILMENT,
        payload={"order_id": order_id, "tracking_number": tracking, "carrier": "UPS"},
    )


def platform_order(sim) -> str:
    return str(sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 2}]}, deliver=False)["id"])


def drain_until_settled(message: OutboundMessage, *, rounds: int = 5) -> OutboundMessage:
    """Drain when the message is next due, until it is sent or dead (each round is one attempt)."""
    now = later()
    for _ in range(rounds):
        outbox_drain(now=now, connection_id=message.connection_id)
        message.refresh_from_db()
        if message.state not in (MessageState.PENDING, MessageState.IN_FLIGHT):
            break
        now = max(message.next_attempt_at, now) if message.next_attempt_at else later(minutes=30)
    return message


@pytest.mark.parametrize("fault", ["429", "500", "503", "timeout", "apply_then_hang", "apply_then_500"])
def test_exactly_one_fulfilment_through_a_fault_on_the_write(platform_sim, connection, fault):
    order_id = platform_order(platform_sim)
    platform_sim.add_fault(fault, on="fulfilment", retry_after=1.0)
    message = fulfilment_for(connection, order_id)

    message = drain_until_settled(message)

    assert platform_sim.faults == [], "the fault hit the fulfilment write"
    assert message.state == MessageState.SENT, (message.last_status, message.last_error)
    (done,) = platform_sim.fulfilments_of(order_id)
    assert TRACKING in str(done)
    if fault.startswith("apply_then"):  # it landed the first time: the retry found it by reading back
        assert message.result.get("created") is False


def test_exactly_one_fulfilment_through_every_fault_in_a_row(platform_sim, connection, sleeps):
    order_id = platform_order(platform_sim)
    # Once a write is applied the next attempt finds it by reading back and writes nothing: that fault comes last.
    for fault in ("429", "500", "503", "timeout", "apply_then_hang"):
        platform_sim.add_fault(fault, on="fulfilment", retry_after=1.0)
    message = fulfilment_for(connection, order_id)

    message = drain_until_settled(message, rounds=6)

    assert platform_sim.faults == [], "every fault hit the fulfilment write"
    assert message.state == MessageState.SENT
    assert len(platform_sim.fulfilments_of(order_id)) == 1
    assert 1.0 in sleeps  # the 429's Retry-After was waited out in the client
