"""Shopify behind the kit's `Connector` protocol: translation of the kit's terms onto `client.py` (the Admin REST
API) and `events.py` (webhooks). Nothing here touches the database.

Ids in the generic mapping table: a listing is the variant's inventory item id, a location is a Shopify location id;
stock is always written at a location."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from integrations.http import Exchange, Headroom, PermanentError
from integrations.platforms.base import DeliveryMeta, digits, is_loopback
from integrations.platforms.fixtures import fixture
from integrations.platforms.protocol import (
    Connector,
    CredentialField,
    FulfilmentWrite,
    StatusWrite,
    StockTarget,
    WriteResult,
)
from integrations.platforms.shopify import events
from integrations.platforms.shopify.client import ShopifyClient, parse_headroom, shopify_client

SHOP_SUFFIX = ".myshopify.com"


class MissingLocation(PermanentError):
    """A stock write without a Shopify location (the facility's location id is not mapped): never worth a retry."""

    def __init__(self, listing: str) -> None:
        message = f"no Shopify location for inventory item {listing}: map the facility's location id"
        super().__init__(message, status_code=422, body="location missing")


class BadListing(PermanentError):
    """A listing that is not an inventory item id (digits): never worth a retry."""

    def __init__(self, listing: str) -> None:
        message = f"Shopify listing {listing!r} is not an inventory item id"
        super().__init__(message, status_code=422, body="bad listing")


class ShopifyConnector:
    code = "shopify"
    name = "Shopify"
    is_marketplace = False
    thin_webhooks = False
    shop_label = "Shop domain (name.myshopify.com)"

    credential_fields: tuple[CredentialField, ...] = (
        CredentialField("access_token", "Admin API access token", "The app's offline token (shpat_…)"),
    )

    kept_header_prefixes: tuple[str, ...] = ("x-shopify-",)
    signature_headers: frozenset[str] = frozenset({events.SIGNATURE_HEADER.lower()})
    default_field_mapping: Mapping[str, object] = events.DEFAULT_FIELD_MAPPING
    default_status_mapping: Mapping[str, str] = events.DEFAULT_STATUS_MAPPING

    # The standard REST bucket leaks 2 calls/s: 10 s restore half of a 40-call bucket.
    headroom_pause_seconds = 10.0
    webhook_topics: tuple[str, ...] = ("orders/create", "orders/updated", "orders/cancelled")
    api_hosts_words: str = "any *.myshopify.com host"  # named in the console's error when a base URL is refused
    stock_needs_location = True

    # -- credentials and hosts -------------------------------------------------------------------------------------

    def credential_problems(self, credentials: Mapping[str, Any]) -> list[str]:
        token = credentials.get("access_token")
        if not isinstance(token, str) or not token.strip():
            return ["access_token is required"]
        return []

    def api_base_url(self, *, shop: str, api_base_url: str = "") -> str:
        if api_base_url:
            return api_base_url.rstrip("/")
        domain = shop.strip().removeprefix("https://").removeprefix("http://").strip("/")
        return f"https://{domain}"

    def api_host_allowed(self, host: str, *, shop: str) -> bool:
        host = host.lower()
        return is_loopback(host) or (host.endswith(SHOP_SUFFIX) and len(host) > len(SHOP_SUFFIX))

    def client(
        self,
        *,
        base_url: str,
        credentials: Mapping[str, Any],
        on_exchange: Callable[[Exchange], None] | None = None,
        **http_options: Any,
    ) -> ShopifyClient:
        token = str(credentials.get("access_token", ""))
        return shopify_client(base_url=base_url, access_token=token, on_exchange=on_exchange, **http_options)

    # -- events ----------------------------------------------------------------------------------------------------

    def signature_valid(self, *, body: bytes, headers: Mapping[str, str], secrets: Iterable[str]) -> bool:
        return events.signature_valid(body=body, headers=headers, secrets=secrets)

    def is_handshake(self, *, body: bytes, headers: Mapping[str, str]) -> bool:
        return events.is_handshake(body=body, headers=headers)

    def delivery_meta(self, headers: Mapping[str, str], body: bytes) -> DeliveryMeta:
        return events.delivery_meta(headers)  # everything is in the headers

    def is_order_topic(self, topic: str) -> bool:
        return events.is_order_topic(topic)

    def order_reference(self, payload: Mapping[str, Any]) -> str | None:
        return None  # a webhook carries the whole order

    # -- sync ------------------------------------------------------------------------------------------------------

    def fetch_order(self, client: ShopifyClient, order_id: str) -> dict[str, Any]:
        return client.get_order(order_id)

    def orders_changed_since(self, client: ShopifyClient, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
        return client.list_orders_changed_since(since)

    # -- writes ----------------------------------------------------------------------------------------------------

    def write_fulfilment(self, client: ShopifyClient, write: FulfilmentWrite) -> WriteResult:
        """A fulfilment on the order's open fulfilment orders (only `lines` for one leg). Shopify has no
        idempotency key for it: the client reads the order's fulfilments back first, by tracking number."""
        done = client.create_fulfillment(
            order_id=write.order_id,
            tracking_number=write.tracking_number,
            tracking_company=write.carrier,
            tracking_url=write.tracking_url,
            idempotency_key=write.idempotency_key,
            lines=write.lines or None,
            notify_customer=write.notify_customer,
        )
        return WriteResult(external_id=str(done.id), created=done.created, detail={"fulfillment_id": done.id})

    def write_tracking(self, client: ShopifyClient, write: FulfilmentWrite) -> WriteResult:
        done = client.update_tracking(
            order_id=write.order_id,
            tracking_number=write.tracking_number,
            tracking_company=write.carrier,
            tracking_url=write.tracking_url,
            previous_tracking_number=write.previous_tracking_number,
            notify_customer=write.notify_customer,
        )
        return WriteResult(external_id=str(done.id), created=done.created, detail={"fulfillment_id": done.id})

    # Fulfillment events (REST `orders/{id}/fulfillments/{id}/events.json`): the order page and the customer's
    # status page show them.
    shipment_statuses = frozenset({"in_transit", "out_for_delivery", "delivered", "attempted_delivery"})

    def write_shipment_status(self, client: ShopifyClient, write: StatusWrite) -> WriteResult:
        found = client.find_fulfillment(order_id=write.order_id, tracking_number=write.tracking_number)
        if found is None:
            raise PermanentError(
                f"order {write.order_id} has no fulfilment with tracking {write.tracking_number}",
                status_code=422,
                body="no fulfilment",
            )
        event, created = client.create_fulfillment_event(
            order_id=write.order_id,
            fulfillment_id=found.id,
            status=write.status,
            happened_at=write.occurred_at.isoformat(),
        )
        return WriteResult(external_id=str(event.get("id")), created=created, detail={"fulfillment_id": found.id})

    def external_id_problem(self, *, kind: str, value: str) -> str:
        if kind == "listing" and not digits(value):
            return "a Shopify listing is the variant's inventory item id (digits)"
        if kind == "location" and not digits(value):
            return "a Shopify location id is digits"
        return ""

    def publish_stock(self, client: ShopifyClient, *, target: StockTarget, quantity: int) -> int:
        item, location = _item_and_location(target)
        return client.set_inventory_level(inventory_item_id=item, location_id=location, available=quantity).available

    def publish_stock_many(
        self, client: ShopifyClient, writes: Sequence[tuple[StockTarget, int]]
    ) -> dict[StockTarget, int | str]:
        """The REST API sets one level per call (its bulk set is GraphQL's `inventorySetQuantities`)."""
        done: dict[StockTarget, int | str] = {}
        for target, quantity in writes:
            try:
                done[target] = self.publish_stock(client, target=target, quantity=quantity)
            except (MissingLocation, BadListing) as exc:
                done[target] = str(exc)
        return done

    def read_stock(self, client: ShopifyClient, targets: Sequence[StockTarget]) -> dict[StockTarget, int]:
        """One bulk read per 50 inventory items (`inventory_levels.json?inventory_item_ids=`)."""
        wanted = {}
        for target in targets:
            if digits(target.listing) and digits(target.location):
                wanted[(int(target.listing), int(target.location))] = target
        if not wanted:
            return {}
        levels = client.inventory_levels(
            inventory_item_ids=[item for item, _ in wanted], location_ids=sorted({loc for _, loc in wanted})
        )
        shown: dict[StockTarget, int] = {}
        for level in levels:
            found = wanted.get((level.inventory_item_id, level.location_id))
            if found is not None:
                shown[found] = level.available
        return shown

    # -- rate limits and webhooks ----------------------------------------------------------------------------------

    def headroom(self, *, headers: Mapping[str, str], body: Any) -> Headroom | None:
        return parse_headroom(headers, body)

    def register_webhooks(self, client: ShopifyClient, *, address: str, secret: str) -> list[str]:
        """Shopify signs every webhook with the app's secret, so `secret` is not sent."""
        existing = {str(w["topic"]): str(w["id"]) for w in client.webhooks(address=address) if w["address"] == address}
        ids = []
        for topic in self.webhook_topics:
            if topic not in existing:
                existing[topic] = str(client.create_webhook(topic=topic, address=address)["id"])
            ids.append(existing[topic])
        return ids

    # -- simulator, demo and fixtures ------------------------------------------------------------------------------

    def simulator(
        self,
        *,
        shop: str = "",
        credentials: Mapping[str, Any] | None = None,
        secret: str = "",
        hub_url: str = "",
        **options: Any,
    ) -> Any:
        from integrations.platforms.shopify.simulator import ShopifySimulator

        given: dict[str, Any] = {
            "access_token": str((credentials or {}).get("access_token") or ""),
            "shop_domain": shop,
            "secret": secret,
            "hub_url": hub_url,
        }
        return ShopifySimulator(**{k: v for k, v in given.items() if v}, **options)

    def demo_credentials(self, seed: Callable[[str], str]) -> dict[str, str]:
        """`seed(name)`: a stable hex value, long enough to cut."""
        return {"access_token": "shpat_" + seed("access_token")[:32]}

    def example_orders(self) -> list[dict[str, Any]]:
        return [fixture(__package__, "order.json")["order"]]


def _item_and_location(target: StockTarget) -> tuple[int, int]:
    if not digits(target.listing):
        raise BadListing(target.listing)
    if not digits(target.location):
        raise MissingLocation(target.listing)
    return int(target.listing), int(target.location)


connector: Connector = ShopifyConnector()  # mypy checks the class keeps the protocol
