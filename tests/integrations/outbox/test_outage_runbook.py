"""Runbook "platform outage" against the Shopify simulator over real HTTP: after three consecutive transient failures
the connection switches to polling fallback (the reconciler takes over), its circuit keeps writes from storming the
platform, and nothing is lost: once the platform answers, the write goes out once and a clean pull ends the fallback."""

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import Connection, ConnectionStatus
from integrations.outbox.models import ConnectionCircuit, MessageKind, MessageState, OutboundMessage
from integrations.outbox.services import OUTAGE_AFTER_FAILURES, outbound_enqueue, outbox_drain
from integrations.reconciler import reconcile_connection

pytestmark = pytest.mark.django_db


def test_an_outage_switches_the_connection_to_polling_and_a_clean_pull_ends_it(shopify_sim, shop):
    order = shopify_sim.upsert_order({})
    shopify_sim.add_fault("503", method="POST", path="fulfillments.json", times=OUTAGE_AFTER_FAILURES)
    message = outbound_enqueue(
        connection=shop,
        kind=MessageKind.FULFILMENT,
        payload={"order_id": str(order["id"]), "tracking_number": "1ZOUTAGE", "carrier": "UPS"},
    )
    now = timezone.now()
    statuses = []
    for _ in range(OUTAGE_AFTER_FAILURES):
        now = OutboundMessage.objects.get(pk=message.pk).next_attempt_at + dt.timedelta(minutes=6)
        outbox_drain(now=now, connection_id=shop.pk)
        statuses.append(Connection.objects.get(pk=shop.pk).status)

    # Active through the first failures, polling from the third; the circuit is open, the message waits, not dead.
    assert statuses == [ConnectionStatus.ACTIVE] * (OUTAGE_AFTER_FAILURES - 1) + [ConnectionStatus.POLLING_FALLBACK]
    assert ConnectionCircuit.objects.get(connection=shop).open_until > now
    pending = OutboundMessage.objects.get(pk=message.pk)
    assert (pending.state, pending.attempts) == (MessageState.PENDING, OUTAGE_AFTER_FAILURES)
    assert shopify_sim.ledger()["fulfillments"] == []

    # The platform is back: the write goes out exactly once (writes continue while polling) ...
    outbox_drain(now=pending.next_attempt_at + dt.timedelta(minutes=6), connection_id=shop.pk)
    assert OutboundMessage.objects.get(pk=message.pk).state == MessageState.SENT
    assert len(shopify_sim.ledger()["fulfillments"]) == 1
    # ... polling picks up the order whose webhook never came, and the next pull, finding nothing missing, makes the
    # connection active again.
    shop.refresh_from_db()
    assert reconcile_connection(connection=shop).missing == 1
    assert Connection.objects.get(pk=shop.pk).status == ConnectionStatus.POLLING_FALLBACK
    shop.refresh_from_db()
    assert reconcile_connection(connection=shop).missing == 0
    assert Connection.objects.get(pk=shop.pk).status == ConnectionStatus.ACTIVE
