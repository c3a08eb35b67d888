"""The transactional outbox (issue 12, item 4): the fulfilment write of a shipment's hand-off is an outbox row written
in the hand-off's own transaction, and only the worker's wake-up waits for the commit.

- A real process that commits the hand-off and is SIGKILLed before any after-commit callback runs leaves the row
  pending; the every-minute sweep sends exactly one fulfilment to the simulator.
- A hand-off rolled back after its signal leaves no row and wakes no worker."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time

import pytest
from django.utils import timezone
from django_q.models import OrmQ

from integrations.outbox.models import MessageKind, MessageState, OutboundMessage
from integrations.outbox.services import shipment_key
from integrations.outbox.tasks import outbox_drain_due
from orders.models import Order, OrderState, Shipment, ShipmentState
from orders.services import (
    order_confirm_picked,
    order_ingest,
    order_pack,
    order_release_to_pick,
    shipment_create,
    shipment_hand_to_carrier,
)
from orders.signals import shipment_handed_to_carrier
from tests.integrations.workers import ROOT, current_database_url, hub_env
from tests.orders.factories import CanonicalOrderFactory, line

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]

# Runs in a process of its own on the test database. Its first after-commit callback is registered before the
# hand-off's, so it runs first: it says the commit happened and then hangs, and the outbox's kick never runs.
HAND_OFF_THEN_HANG = """
import sys, time
from django.db import transaction
from django.utils import timezone
from orders.models import Shipment
from orders.services import shipment_hand_to_carrier

def committed_then_hang():
    sys.stdout.write("committed\\n")
    sys.stdout.flush()
    time.sleep(600)

with transaction.atomic():
    transaction.on_commit(committed_then_hang)
    shipment_hand_to_carrier(
        shipment=Shipment.objects.get(pk=%d), carrier_receipt="MANIFEST-K", handed_at=timezone.now(), actor=None
    )
"""


def staged_shipment(connection, sim, tracking="1ZTXN0001"):
    """A channel order of `connection` (its platform order on the simulator), packed, with a staged shipment."""
    created = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]})
    canonical = CanonicalOrderFactory(platform_order_id=str(created["id"]), lines=(line("TEE-BLK-M", 1),))
    order = order_ingest(canonical=canonical, brand=connection.brand, channel=connection.channel).order
    assert order.state == OrderState.ACCEPTED
    order = order_pack(
        order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None), actor=None
    )
    return shipment_create(order=order, carrier="UPS", tracking_number=tracking, actor=None)


def wait_for_line(proc: subprocess.Popen, expected: bytes, *, within: float) -> list[bytes]:
    """The lines `proc` printed until `expected` (included), or until it exited or `within` seconds passed."""
    seen: list[bytes] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.25)
        if ready:
            seen.append(proc.stdout.readline())
            if seen[-1] in (expected, b""):
                break
        elif proc.poll() is not None:
            break
    return seen


@pytest.mark.faults
def test_a_process_killed_after_the_hand_off_commits_and_before_the_drain_kick_leaves_one_pending_fulfilment(
    shopify_sim, shop, stocked_sku, tmp_path
):
    shipment = staged_shipment(shop, shopify_sim)
    log = tmp_path / "hand_off.log"
    with open(log, "wb") as errors:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-v", "0", "-c", HAND_OFF_THEN_HANG % shipment.pk],
            cwd=ROOT,
            env=hub_env(current_database_url()),
            stdout=subprocess.PIPE,
            stderr=errors,
            start_new_session=True,
        )
    try:
        said = wait_for_line(proc, b"committed\n", within=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    assert said[-1:] == [b"committed\n"], (said, log.read_text(errors="replace")[-3000:])
    assert proc.returncode == -signal.SIGKILL

    # The hand-off and its outbox row committed together; no worker was ever woken for it.
    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.HANDED_TO_CARRIER
    assert Order.objects.get(pk=shipment.order_id).state == OrderState.DISPATCHED
    message = OutboundMessage.objects.get()
    assert (message.kind, message.state, message.attempts) == (MessageKind.FULFILMENT, MessageState.PENDING, 0)
    assert message.idempotency_key == shipment_key(shipment.pk) and message.connection_id == shop.pk
    assert not OrmQ.objects.exists()
    assert shopify_sim.ledger()["fulfillments"] == []

    # The every-minute sweep finds it: exactly one fulfilment, however often it runs.
    assert outbox_drain_due() == 1
    assert outbox_drain_due() == 0
    message.refresh_from_db()
    assert message.state == MessageState.SENT
    (fulfilment,) = shopify_sim.ledger()["fulfillments"]
    assert fulfilment["tracking_numbers"] == ["1ZTXN0001"]


class AfterTheSignal(Exception):
    pass


def test_a_hand_off_rolled_back_after_its_signal_leaves_no_outbox_row_and_wakes_no_worker(
    shopify_sim, shop, stocked_sku
):
    shipment = staged_shipment(shop, shopify_sim)
    written = []

    def fail_after_the_outbox(sender, shipment, **kwargs):
        written.append(OutboundMessage.objects.filter(source=f"shipment:{shipment.pk}").count())
        raise AfterTheSignal

    shipment_handed_to_carrier.connect(fail_after_the_outbox, dispatch_uid="test.fail_after_the_outbox")
    try:
        with pytest.raises(AfterTheSignal):
            shipment_hand_to_carrier(shipment=shipment, carrier_receipt="M-RB", handed_at=timezone.now(), actor=None)
    finally:
        shipment_handed_to_carrier.disconnect(dispatch_uid="test.fail_after_the_outbox")

    assert written == [1]  # the outbox row was written inside the hand-off's transaction ...
    assert not OutboundMessage.objects.exists()  # ... and rolled back with it
    assert not OrmQ.objects.exists()  # its after-commit kick went with the rollback
    assert Shipment.objects.get(pk=shipment.pk).state == ShipmentState.STAGED
    assert Order.objects.get(pk=shipment.order_id).state == OrderState.PACKED
    assert outbox_drain_due() == 0 and shopify_sim.ledger()["fulfillments"] == []


def test_a_committed_hand_off_queues_its_row_and_kicks_one_drain_after_commit(shopify_sim, shop, stocked_sku):
    shipment = staged_shipment(shop, shopify_sim, tracking="1ZTXN0002")

    shipment_hand_to_carrier(shipment=shipment, carrier_receipt="M-OK", handed_at=timezone.now(), actor=None)

    message = OutboundMessage.objects.get()
    assert message.state == MessageState.PENDING
    (task,) = OrmQ.objects.all()
    assert task.func() == "integrations.outbox.tasks.outbox_drain_connection"
