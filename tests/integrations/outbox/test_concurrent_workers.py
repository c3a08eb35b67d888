"""Several workers draining the same queue at once (threads, one PostgreSQL connection each): `skip_locked`
claims and leases mean each message is attempted by one worker and each fulfilment lands once."""

import threading

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from integrations.outbox.models import MessageKind, MessageState, OutboundMessage
from integrations.outbox.services import outbound_enqueue, outbox_drain

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgresql,
]

WORKERS = 4
MESSAGES = 24


def test_four_workers_draining_at_once_send_each_fulfilment_exactly_once(shopify_sim, shop):
    shopify_sim.configure(bucket_size=1000)  # a Plus-sized bucket: this test is about workers, not rate limits
    for n in range(MESSAGES):
        order = shopify_sim.upsert_order({})
        outbound_enqueue(
            connection=shop,
            kind=MessageKind.FULFILMENT,
            payload={"order_id": str(order["id"]), "tracking_number": f"1ZC{n:03}", "carrier": "UPS"},
        )
    now = timezone.now()
    barrier = threading.Barrier(WORKERS)
    claimed: list[int] = []
    errors: list[BaseException] = []

    def worker():
        try:
            barrier.wait()
            for _ in range(10):
                report = outbox_drain(now=now, limit=5)
                claimed.append(report.claimed)
        except BaseException as exc:  # asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    close_old_connections()

    assert errors == []
    assert sum(claimed) == MESSAGES
    assert OutboundMessage.objects.filter(state=MessageState.SENT).count() == MESSAGES
    fulfilments = shopify_sim.ledger()["fulfillments"]
    assert len(fulfilments) == MESSAGES
    assert len({f["tracking_number"] for f in fulfilments}) == MESSAGES
