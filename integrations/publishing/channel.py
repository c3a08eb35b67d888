"""The channel side of publishing: where a SKU's number lives on a connection's platform (the generic mapping table,
`integrations.models.ExternalId`), queue an absolute stock write through the outbound queue, and read back what the
channel shows through its connector. Absolute sets (never deltas): a repeated or reordered write can never
double-count, and the latest number wins.

The shared pool is one number per SKU and connection: where a platform keeps stock per location, it is advertised at
the location mapped to the connection's first facility (the lowest facility id with a location)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from integrations.connections import client_for
from integrations.models import Connection, ExternalId, ExternalIdKind
from integrations.platforms.protocol import StockTarget
from integrations.platforms.registry import connector_for, is_registered
from inventory.models import Sku
from warehouse.errors import InvalidInput, Reason


def publishable(connection: Connection) -> bool:
    """Whether stock can be written to this connection: its platform has a connector (a legacy row may name one that
    has none), and a location is mapped where the platform keeps stock per location."""
    if not is_registered(connection.platform):
        return False
    return not connector_for(connection.platform).stock_needs_location or bool(pool_location(connection))


def listed_pairs(connections: Iterable[Connection], skus: Iterable[Sku]) -> set[tuple[int, int]]:
    """(connection id, SKU id) for every SKU listed on each connection."""
    return set(
        ExternalId.objects.filter(
            connection__in=list(connections), kind=ExternalIdKind.LISTING, local_id__in=[s.pk for s in skus]
        ).values_list("connection_id", "local_id")
    )


def listed_sku_ids(connection: Connection) -> set[int]:
    return set(
        ExternalId.objects.filter(connection=connection, kind=ExternalIdKind.LISTING).values_list("local_id", flat=True)
    )


def pool_location(connection: Connection) -> str:
    """The location the shared pool is advertised at ("" when no facility's location is mapped)."""
    found = (
        ExternalId.objects.filter(connection=connection, kind=ExternalIdKind.LOCATION)
        .order_by("local_id")
        .values_list("external_id", flat=True)
        .first()
    )
    return found or ""


def stock_targets(connection: Connection, skus: Sequence[Sku]) -> dict[int, StockTarget]:
    """{sku_id: where its number lives on the platform} for the listed SKUs (unlisted ones are left out)."""
    listings = ExternalId.objects.filter(
        connection=connection, kind=ExternalIdKind.LISTING, local_id__in=[s.pk for s in skus]
    ).values_list("local_id", "external_id")
    location = pool_location(connection)
    return {int(sku_id): StockTarget(listing=listing, location=location) for sku_id, listing in listings}


def _target_or_refuse(connection: Connection, sku: Sku) -> StockTarget:
    if not is_registered(connection.platform):
        message = f"Publishing stock to {connection.platform_name} is not built yet"
        raise InvalidInput(message, reasons=[Reason("platform_unsupported", message)])
    target = stock_targets(connection, [sku]).get(sku.pk)
    if target is None:
        message = f"{sku.code} has no listing on {connection.name}"
        raise InvalidInput(message, reasons=[Reason("listing_missing", message)])
    if connector_for(connection.platform).stock_needs_location and not target.location:
        message = f"{connection.name} has no location mapped for any facility: {sku.code} cannot be written"
        raise InvalidInput(message, reasons=[Reason("location_missing", message)])
    return target


def read_levels(*, connection: Connection, skus: Sequence[Sku]) -> dict[int, int]:
    """{sku_id: units the channel advertises} for the listed SKUs (unlisted ones, and those the platform does not
    count, are left out), with the platform's bulk read."""
    targets = stock_targets(connection, skus)
    if not targets:
        return {}
    shown = connector_for(connection.platform).read_stock(client_for(connection), list(set(targets.values())))
    return {sku_id: shown[target] for sku_id, target in targets.items() if target in shown}


def level_payload(*, connection: Connection, sku: Sku, quantity: int) -> dict[str, Any]:
    """The outbound queue's inventory payload (an absolute number at the SKU's place on the platform), naming our
    SKU for read-back. Platform-neutral: the connector reads `listing` and `location` when it sends."""
    target = _target_or_refuse(connection, sku)
    return {"sku_id": sku.pk, "sku": sku.code, "listing": target.listing, "location": target.location,
            "quantity": quantity}  # fmt: skip


def enqueue_level(*, connection: Connection, sku: Sku, quantity: int, sequence: int) -> None:
    """Queue one absolute write in the outbound queue, in the caller's transaction (the number recorded as pushed
    and the queued write commit together). The key names (connection, SKU, write number): a re-run of the same
    cycle finds the queued row."""
    from integrations.outbox.models import MessageKind
    from integrations.outbox.services import outbound_enqueue

    outbound_enqueue(
        connection=connection,
        kind=MessageKind.INVENTORY,
        payload=level_payload(connection=connection, sku=sku, quantity=quantity),
        idempotency_key=f"inventory:{connection.pk}:{sku.pk}:{sequence}",
        source=f"sku:{sku.pk}",
    )


def pending_skus(*, connection: Connection) -> set[int]:
    """SKUs with a stock write still queued for this connection (their read-back is not yet meaningful)."""
    from integrations.outbox.models import MessageKind, MessageState, OutboundMessage

    payloads = OutboundMessage.objects.filter(
        connection=connection, kind=MessageKind.INVENTORY, state__in=[MessageState.PENDING, MessageState.IN_FLIGHT]
    ).values_list("payload", flat=True)
    return {int(p["sku_id"]) for p in payloads if isinstance(p, dict) and "sku_id" in p}
