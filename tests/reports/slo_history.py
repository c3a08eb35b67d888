"""A seeded history for the SLO tests: orders, fulfilment writes and reconciler records at chosen times, written
straight into the tables the SLIs read (the times are the point, not the services that would stamp them now)."""

from __future__ import annotations

import datetime as dt
import itertools

from integrations.models import Connection, DeliverySource, DeliveryState, InboundDelivery
from integrations.outbox.models import MessageKind, OutboundMessage
from orders.models import Order, OrderEvent, OrderEventKind, Shipment

S = dt.timedelta(seconds=1)
_ids = itertools.count(1)


def at(text: str) -> dt.datetime:
    """`"2026-11-10 10:01:00"` in UTC."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def order(connection: Connection, start: dt.datetime, took: float | None, *, arrived_after: float = 0.5,
          kind: str = OrderEventKind.ACCEPTED) -> Order:  # fmt: skip
    """An order placed on the platform at `start`, in the WMS `arrived_after` s later, accepted (or held) `took` s
    after `start` (None: not yet)."""
    n = next(_ids)
    o = Order.objects.create(
        brand=connection.channel.brand, channel=connection.channel, platform_order_id=f"#{n}", placed_at=start
    )
    Order.objects.filter(pk=o.pk).update(created_at=start + arrived_after * S)
    if took is not None:
        OrderEvent.objects.create(order=o, kind=kind, message="Accepted", at=start + took * S)
    return o


def fulfilment(connection: Connection, handed: dt.datetime, took: float | None) -> OutboundMessage:
    """A shipment handed to the carrier at `handed` and its fulfilment write, confirmed `took` s later (None: not
    confirmed)."""
    o = order(connection, handed - dt.timedelta(hours=2), 1)
    shipment = Shipment.objects.create(order=o, carrier="UPS", tracking_number=f"1Z{o.pk}", handed_at=handed)
    message = OutboundMessage.objects.create(
        connection=connection, platform=connection.platform, kind=MessageKind.FULFILMENT,
        payload={"shipment_id": shipment.pk, "order_id": o.platform_order_id}, idempotency_key=f"k{shipment.pk}",
        created_at=handed + 0.2 * S,
    )  # fmt: skip
    if took is not None:
        OutboundMessage.objects.filter(pk=message.pk).update(state="sent", sent_at=handed + took * S)
    return message


def found(connection: Connection, when: dt.datetime, resolved_after: dt.timedelta | None) -> InboundDelivery:
    """A record the reconciler found missing at `when`, applied `resolved_after` later (None: dead-lettered)."""
    n = next(_ids)
    return InboundDelivery.objects.create(
        connection=connection, source=DeliverySource.RECONCILER, delivery_id=f"reconcile:{n}", topic="reconcile",
        body=b"{}", received_at=when, platform_order_id=f"R{n}",
        state=DeliveryState.PROCESSED if resolved_after is not None else DeliveryState.DEAD_LETTER,
        processed_at=when + resolved_after if resolved_after is not None else when + dt.timedelta(minutes=1),
    )  # fmt: skip
