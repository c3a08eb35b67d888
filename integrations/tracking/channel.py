"""A shipment's status after dispatch, out to its channel through the transactional outbox: queued in the
transaction that applied the carrier event, sent by the outbox worker. The dispatch itself (the fulfilment with
tracking and carrier) is queued at hand-off by `integrations.outbox.receivers`. A channel whose connector has no
status write (`writes_status`) gets nothing more."""

from __future__ import annotations

import datetime as dt

from integrations.models import Connection
from integrations.outbox.models import MessageKind, OutboundMessage
from integrations.outbox.services import outbound_enqueue
from integrations.platforms.protocol import writes_status
from integrations.platforms.registry import connector_for, is_registered
from orders.models import Shipment


def status_key(shipment_id: int, status: str) -> str:
    """One message per shipment and status: a status seen again (another scan of the same kind) queues nothing."""
    return f"shipment-status:{shipment_id}:{status}"


def shipment_status_enqueue(*, shipment: Shipment, status: str, occurred_at: dt.datetime) -> OutboundMessage | None:
    order = shipment.order
    if not order.channel_id or not order.platform_order_id or not shipment.tracking_number:
        return None
    connection = Connection.objects.select_related("channel").filter(channel_id=order.channel_id).first()
    if connection is None or not is_registered(connection.platform):
        return None
    if not writes_status(connector_for(connection.platform), status):
        return None
    return outbound_enqueue(
        connection=connection,
        kind=MessageKind.STATUS,
        payload={
            "shipment_id": shipment.pk,
            "order_id": str(order.platform_order_id),
            "tracking_number": shipment.tracking_number,
            "carrier": shipment.carrier,
            "status": status,
            "occurred_at": occurred_at.isoformat(),
        },
        idempotency_key=status_key(shipment.pk, status),
        source=f"shipment:{shipment.pk}",
    )
