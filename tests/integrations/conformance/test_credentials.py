"""Runbook "credential expired": the platform refuses our credentials (401) on a write or on the reconciler's pull; the
connection pauses (a person is told), its queued writes wait without spending attempts, nothing is pulled; setting the
new credentials resumes it and what waited is sent once."""

from __future__ import annotations

import pytest

from integrations.models import ConnectionStatus
from integrations.outbox.models import MessageKind, MessageState
from integrations.outbox.services import outbound_enqueue, outbox_drain
from integrations.reconciler import reconcile_connection, reconcile_due
from integrations.services import connection_set_credentials
from tests.integrations.conformance.conftest import later, seeded
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_http")]


def test_a_credential_problem_shape_is_named(connector, credentials):
    assert connector.credential_problems(credentials) == []
    assert connector.credential_problems({}) != []


def test_a_401_on_a_write_pauses_the_connection_and_rotation_resumes_it(connector, platform_sim, connection):
    order_id = str(platform_sim.upsert_order({}, deliver=False)["id"])
    rotated = connector.demo_credentials(seeded("rotated"))
    platform_sim.accept_credentials(rotated)  # the brand rotated them on the platform; we still hold the old ones
    message = outbound_enqueue(
        connection=connection,
        kind=MessageKind.FULFILMENT,
        payload={"order_id": order_id, "tracking_number": "1ZROTATE01", "carrier": "UPS"},
    )

    report = outbox_drain(now=later(), connection_id=connection.pk)

    connection.refresh_from_db()
    message.refresh_from_db()
    assert report.paused == 1 and connection.status == ConnectionStatus.PAUSED_CREDENTIALS
    assert (message.state, message.attempts) == (MessageState.PENDING, 0)
    item = ExceptionItem.objects.get(kind=ExceptionKind.CREDENTIAL_EXPIRED)
    assert outbox_drain(now=later(minutes=30), connection_id=connection.pk).claimed == 0  # paused: nothing is sent
    assert connection.pk not in reconcile_due(now=later(hours=1))  # nor pulled
    assert platform_sim.fulfilments_of(order_id) == []

    connection_set_credentials(connection=connection, credentials=rotated, actor=None)

    connection.refresh_from_db()
    item.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE and item.state == ExceptionState.RESOLVED
    assert outbox_drain(now=later(minutes=31), connection_id=connection.pk).sent == 1
    assert len(platform_sim.fulfilments_of(order_id)) == 1


def test_a_401_on_the_reconcilers_pull_pauses_the_connection_and_rotation_resumes_it(
    connector, platform_sim, connection
):
    platform_sim.upsert_order({}, deliver=False)
    rotated = connector.demo_credentials(seeded("rotated"))
    platform_sim.accept_credentials(rotated)

    run = reconcile_connection(connection=connection)

    connection.refresh_from_db()
    assert run.outcome == "failed" and "401" in run.error
    assert connection.status == ConnectionStatus.PAUSED_CREDENTIALS

    connection_set_credentials(connection=connection, credentials=rotated, actor=None)

    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE
    assert reconcile_connection(connection=connection).missing == 1
