"""A real worker process (`manage.py qcluster`) killed mid-write: the platform applied the fulfilment, the worker
died before it heard back or recorded anything. After the message's lease lapses the next drain takes it over,
reads back, finds the fulfilment and marks it sent: exactly one fulfilment on the platform."""

from __future__ import annotations

import pytest

from integrations.outbox.models import MessageKind, MessageState, OutboundMessage
from integrations.outbox.services import lease_seconds, outbound_enqueue, outbox_drain
from tests.integrations.conformance.conftest import later
from tests.integrations.workers import qcluster, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql, pytest.mark.faults]

HANG_SECONDS = 60.0  # far past the worker's read timeout: the worker is killed long before it gives up


def test_a_worker_killed_after_the_platform_applied_the_write_yields_exactly_one_fulfilment(
    platform_sim, connection, tmp_path
):
    order = platform_sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]}, deliver=False)
    order_id = str(order["id"])
    platform_sim.add_fault("apply_then_hang", on="fulfilment", seconds=HANG_SECONDS)
    log = tmp_path / "worker.log"

    with qcluster(log, workers=1) as worker:
        message = outbound_enqueue(  # committed at once: its kick wakes the worker
            connection=connection,
            kind=MessageKind.FULFILMENT,
            payload={"order_id": order_id, "tracking_number": "1ZKILLED01", "carrier": "UPS"},
        )
        wait_until(lambda: len(platform_sim.fulfilments_of(order_id)) == 1, within=60,
                   what="the worker's write lands on the platform", log=log)  # fmt: skip
        worker.kill()  # SIGKILL mid-write: the answer never arrives, nothing is recorded

    message = OutboundMessage.objects.get(pk=message.pk)
    assert message.state == MessageState.IN_FLIGHT, "the kill left the message claimed (else this proves nothing)"
    assert message.attempts == 0

    # Inside the lease no other worker touches it; after it, the next drain reads back and finds the write.
    assert outbox_drain(now=later(seconds=lease_seconds() / 2), connection_id=connection.pk).claimed == 0
    report = outbox_drain(now=later(seconds=lease_seconds() + 1), connection_id=connection.pk)

    message.refresh_from_db()
    assert (report.sent, message.state) == (1, MessageState.SENT)
    assert message.result.get("created") is False
    assert len(platform_sim.fulfilments_of(order_id)) == 1
