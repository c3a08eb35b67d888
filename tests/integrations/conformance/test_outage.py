"""Runbook "platform outage": consecutive failed writes switch the connection to polling fallback (the reconciler pulls
at the fallback cadence; the circuit keeps writes from storming the platform); once the platform answers, the write
goes out once, polling finds the order whose webhook never came, and a clean pull returns the connection to active."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from integrations.models import Connection, ConnectionStatus
from integrations.outbox.models import ConnectionCircuit, MessageKind, MessageState, OutboundMessage
from integrations.outbox.services import OUTAGE_AFTER_FAILURES, outbound_enqueue, outbox_drain
from integrations.reconciler import reconcile_connection, reconcile_due

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_http")]


def status_of(connection) -> str:
    return Connection.objects.get(pk=connection.pk).status


def test_an_outage_switches_to_polling_and_a_clean_pull_switches_back(platform_sim, connection):
    order_id = str(platform_sim.upsert_order({}, deliver=False)["id"])  # its webhook never comes
    platform_sim.add_fault("503", on="fulfilment", times=OUTAGE_AFTER_FAILURES)
    message = outbound_enqueue(
        connection=connection,
        kind=MessageKind.FULFILMENT,
        payload={"order_id": order_id, "tracking_number": "1ZOUTAGE01", "carrier": "UPS"},
    )
    reconciled = timezone.now()
    Connection.objects.filter(pk=connection.pk).update(last_reconciled_at=reconciled)
    assert connection.pk not in reconcile_due(now=reconciled + dt.timedelta(minutes=3))  # the normal cadence

    statuses = []
    now = timezone.now()
    for _ in range(OUTAGE_AFTER_FAILURES):
        now = OutboundMessage.objects.get(pk=message.pk).next_attempt_at + dt.timedelta(minutes=6)
        outbox_drain(now=now, connection_id=connection.pk)
        statuses.append(status_of(connection))

    assert statuses == [ConnectionStatus.ACTIVE] * (OUTAGE_AFTER_FAILURES - 1) + [ConnectionStatus.POLLING_FALLBACK]
    assert ConnectionCircuit.objects.get(connection=connection).open_until > now
    pending = OutboundMessage.objects.get(pk=message.pk)
    assert (pending.state, pending.attempts) == (MessageState.PENDING, OUTAGE_AFTER_FAILURES)
    assert platform_sim.fulfilments_of(order_id) == []
    # Polling: the reconciler's cadence is the fallback one.
    assert connection.pk in reconcile_due(now=reconciled + dt.timedelta(minutes=3))

    # The platform is back: the write goes out exactly once (writes continue while polling) ...
    outbox_drain(now=pending.next_attempt_at + dt.timedelta(minutes=6), connection_id=connection.pk)
    assert OutboundMessage.objects.get(pk=message.pk).state == MessageState.SENT
    assert len(platform_sim.fulfilments_of(order_id)) == 1
    # ... polling finds the order whose webhook never came, and the next pull, finding nothing missing, ends it.
    connection.refresh_from_db()
    assert reconcile_connection(connection=connection).missing == 1
    assert status_of(connection) == ConnectionStatus.POLLING_FALLBACK
    connection.refresh_from_db()
    assert reconcile_connection(connection=connection).missing == 0
    assert status_of(connection) == ConnectionStatus.ACTIVE
    assert connection.pk not in reconcile_due(now=timezone.now() + dt.timedelta(minutes=3))  # the normal cadence
