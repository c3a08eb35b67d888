"""The channel side of publishing: queue an absolute stock write through the outbound queue, send it with the
platform's client, and read back what the channel shows. Absolute sets (never deltas): a repeated or reordered
write can never double-count, and the latest number wins."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from integrations.models import Connection
from integrations.publishing.models import ChannelListing
from inventory.models import Sku
from warehouse.errors import InvalidInput, Reason

logger = logging.getLogger(__name__)

SUPPORTED_PLATFORMS = frozenset({"shopify", "woocommerce"})  # the platforms with a stock write and read-back


def _listings(connection: Connection, skus: Sequence[Sku]) -> dict[int, ChannelListing]:
    found = {
        listing.sku_id: listing for listing in ChannelListing.objects.filter(connection=connection, sku__in=list(skus))
    }
    return found


def _client(connection: Connection) -> Any:
    if connection.platform == "shopify":
        from integrations.platforms.shopify.client import client_for as shopify_client_for

        return shopify_client_for(connection)
    if connection.platform == "woocommerce":
        from integrations.platforms.woocommerce.client import client_for as woocommerce_client_for

        return woocommerce_client_for(connection)
    message = f"Publishing stock to {connection.get_platform_display()} is not built yet"
    raise InvalidInput(message, reasons=[Reason("platform_unsupported", message)])


def _listing_or_refuse(connection: Connection, sku: Sku) -> ChannelListing:
    listing = ChannelListing.objects.filter(connection=connection, sku=sku).first()
    if listing is None:
        message = f"{sku.code} has no listing on {connection.name}"
        raise InvalidInput(message, reasons=[Reason("listing_missing", message)])
    return listing


def send_level(*, connection: Connection, sku: Sku, quantity: int) -> int:
    """Write the absolute number to the platform; returns what the platform now says."""
    listing = _listing_or_refuse(connection, sku)
    client = _client(connection)
    if connection.platform == "shopify":
        level = client.set_inventory_level(
            inventory_item_id=int(listing.external_id), location_id=int(listing.location_id), available=quantity
        )
        return int(level.available)
    product, variation = _woo_item(listing)
    stock = client.update_stock(product_id=product, quantity=quantity, variation_id=variation)
    return int(stock.stock_quantity or 0)


def read_levels(*, connection: Connection, skus: Sequence[Sku]) -> dict[int, int]:
    """{sku_id: units the channel advertises} for the listed SKUs (unlisted ones are left out)."""
    listings = _listings(connection, skus)
    if not listings:
        return {}
    client = _client(connection)
    shown: dict[int, int] = {}
    if connection.platform == "shopify":
        by_item = {(listing.external_id, listing.location_id): sku_id for sku_id, listing in listings.items()}
        items = sorted({listing.external_id for listing in listings.values()})
        for start in range(0, len(items), 50):
            body = client.http.get(
                f"/admin/api/{client.api_version}/inventory_levels.json",
                params={"inventory_item_ids": ",".join(items[start : start + 50]), "limit": 250},
            ).json()
            for level in body.get("inventory_levels", []):
                key = (str(level["inventory_item_id"]), str(level["location_id"]))
                if key in by_item and level.get("available") is not None:
                    shown[by_item[key]] = int(level["available"])
        return shown
    wanted = {sku_id: _woo_item(listing) for sku_id, listing in listings.items()}
    levels = client.stock_levels(wanted.values())
    for sku_id, item in wanted.items():
        level = levels.get(item)
        if level is None:
            continue  # the product is gone from the shop: nothing to compare
        if level.stock_quantity is None and level.stock_status != "outofstock":
            # Stock management switched off on the shop: it sells by status alone, with no count to weigh against
            # the threshold. Our next write for the SKU turns management back on (every write sends manage_stock).
            logger.warning("connection %s: product %s is not stock-managed on the shop", connection.pk, item)
            continue
        shown[sku_id] = level.stock_quantity or 0  # unmanaged and out of stock: the shop offers none
    return shown


def _woo_item(listing: ChannelListing) -> tuple[int, int | None]:
    """A WooCommerce listing's (product id, variation id or None): the variation rides in `location_id`."""
    return int(listing.external_id), int(listing.location_id) if listing.location_id else None


def level_payload(*, connection: Connection, sku: Sku, quantity: int) -> dict[str, Any]:
    """The outbound queue's inventory payload for this platform (absolute number), naming our SKU for read-back."""
    listing = _listing_or_refuse(connection, sku)
    base: dict[str, Any] = {"sku_id": sku.pk, "sku": sku.code}
    if connection.platform == "shopify":
        return {**base, "inventory_item_id": int(listing.external_id), "location_id": int(listing.location_id),
                "available": quantity}  # fmt: skip
    if connection.platform == "woocommerce":
        variation = int(listing.location_id) if listing.location_id else None
        return {**base, "product_id": int(listing.external_id), "variation_id": variation, "quantity": quantity}
    message = f"Publishing stock to {connection.get_platform_display()} is not built yet"
    raise InvalidInput(message, reasons=[Reason("platform_unsupported", message)])


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
