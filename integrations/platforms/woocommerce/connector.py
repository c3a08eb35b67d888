"""WooCommerce behind the kit's `Connector` protocol: translation of the kit's terms onto `client.py` (REST v3) and
`events.py` (webhooks). Nothing here touches the database.

Ids in the generic mapping table: a listing is `"<product id>"` for a simple product or `"<product id>/<variation
id>"` for a variation; WooCommerce keeps one number per listing, so no location is needed."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

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
from integrations.platforms.woocommerce import events
from integrations.platforms.woocommerce.client import WooCommerceClient, woocommerce_client

logger = logging.getLogger(__name__)

Item = tuple[int, int | None]  # (product id, variation id or None)


class BadListing(PermanentError):
    """A listing id that is not "product" or "product/variation": never worth a retry."""

    def __init__(self, listing: str) -> None:
        super().__init__(f"WooCommerce listing {listing!r} is not 'product' or 'product/variation'", status_code=422)


def listing_item(listing: str) -> Item:
    """`"93"` → (93, None); `"93/411"` → (93, 411)."""
    product, slash, variation = listing.partition("/")
    if not digits(product) or not int(product) or (slash and (not digits(variation) or not int(variation))):
        raise BadListing(listing)
    return int(product), int(variation) if slash else None


def item_listing(product_id: int, variation_id: int | None = None) -> str:
    return f"{product_id}/{variation_id}" if variation_id else str(product_id)


class WooCommerceConnector:
    code = "woocommerce"
    name = "WooCommerce"
    is_marketplace = False
    thin_webhooks = False
    shop_label = "Site URL (https://shop.example)"

    credential_fields: tuple[CredentialField, ...] = (
        CredentialField("consumer_key", "Consumer key", "REST API key (ck_…) with read/write permission"),
        CredentialField("consumer_secret", "Consumer secret", "The key's secret (cs_…)"),
    )

    kept_header_prefixes: tuple[str, ...] = ("x-wc-webhook-",)
    signature_headers: frozenset[str] = frozenset({events.SIGNATURE_HEADER.lower()})
    default_field_mapping: Mapping[str, object] = events.DEFAULT_FIELD_MAPPING
    default_status_mapping: Mapping[str, str] = events.DEFAULT_STATUS_MAPPING

    headroom_pause_seconds = 5.0  # core WooCommerce sends no budget; a host's WAF may, and then a short pause does
    webhook_topics: tuple[str, ...] = ("order.created", "order.updated")
    api_hosts_words: str = "the shop's own host"  # named in the console's error when a base URL is refused
    stock_needs_location = False

    # -- credentials and hosts -------------------------------------------------------------------------------------

    def credential_problems(self, credentials: Mapping[str, Any]) -> list[str]:
        return [
            f"{name} is required"
            for name in ("consumer_key", "consumer_secret")
            if not isinstance(credentials.get(name), str) or not str(credentials.get(name)).strip()
        ]

    def api_base_url(self, *, shop: str, api_base_url: str = "") -> str:
        return (api_base_url or shop).strip().rstrip("/")

    def api_host_allowed(self, host: str, *, shop: str) -> bool:
        """The site's own host (the REST API lives on the shop), or loopback."""
        host = host.lower()
        return is_loopback(host) or (bool(host) and host == (urlsplit(shop.strip()).hostname or "").lower())

    def client(
        self,
        *,
        base_url: str,
        credentials: Mapping[str, Any],
        on_exchange: Callable[[Exchange], None] | None = None,
        **http_options: Any,
    ) -> WooCommerceClient:
        return woocommerce_client(
            base_url=base_url,
            consumer_key=str(credentials.get("consumer_key", "")),
            consumer_secret=str(credentials.get("consumer_secret", "")),
            on_exchange=on_exchange,
            **http_options,
        )

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

    def fetch_order(self, client: WooCommerceClient, order_id: str) -> dict[str, Any]:
        return client.get_order(order_id)

    def orders_changed_since(self, client: WooCommerceClient, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
        return client.list_orders_changed_since(since)

    # -- writes ----------------------------------------------------------------------------------------------------

    def write_fulfilment(self, client: WooCommerceClient, write: FulfilmentWrite) -> WriteResult:
        """Status `completed` (only by the last leg: WooCommerce has no partial fulfilment) and a customer note with
        the tracking, tagged with our key: the notes are read back first, so a retry never adds a second one."""
        note = client.complete_with_tracking(
            order_id=write.order_id,
            tracking_number=write.tracking_number,
            carrier=write.carrier,
            tracking_url=write.tracking_url,
            idempotency_key=write.idempotency_key,
            lines=write.lines or None,
            complete=write.complete,
        )
        return WriteResult(external_id=str(note.note_id), created=note.created, detail={"note_id": note.note_id})

    # Its API has no shipment status after the fulfilment: it hears only the dispatch with tracking.
    shipment_statuses: frozenset[str] = frozenset()

    def write_shipment_status(self, client: WooCommerceClient, write: StatusWrite) -> WriteResult:
        raise PermanentError(f"{self.name} takes no shipment status", status_code=501, body="unsupported")

    def write_tracking(self, client: WooCommerceClient, write: FulfilmentWrite) -> WriteResult:
        """Core WooCommerce has no tracking field: a changed number is one more customer note."""
        return self.write_fulfilment(client, write)

    def external_id_problem(self, *, kind: str, value: str) -> str:
        if kind == "listing":
            try:
                listing_item(value)
            except BadListing:
                return "a WooCommerce listing is 'product id' or 'product id/variation id' (digits)"
        if kind == "location":
            return "WooCommerce has no stock locations: map none"
        return ""

    def publish_stock(self, client: WooCommerceClient, *, target: StockTarget, quantity: int) -> int:
        product, variation = listing_item(target.listing)
        stock = client.update_stock(product_id=product, variation_id=variation, quantity=quantity)
        return int(stock.stock_quantity or 0)

    def publish_stock_many(
        self, client: WooCommerceClient, writes: Sequence[tuple[StockTarget, int]]
    ) -> dict[StockTarget, int | str]:
        """`POST products/batch` (and `products/<id>/variations/batch`), 100 objects a call."""
        done: dict[StockTarget, int | str] = {}
        items: dict[Item, StockTarget] = {}
        batch: list[tuple[int, int | None, int]] = []
        for target, quantity in writes:
            try:
                item = listing_item(target.listing)
            except BadListing as exc:
                done[target] = str(exc)
                continue
            items[item] = target
            batch.append((item[0], item[1], quantity))
        for item, level in client.update_stock_batch(batch).items():
            done[items[item]] = level if isinstance(level, str) else int(level.stock_quantity or 0)
        return done

    def read_stock(self, client: WooCommerceClient, targets: Sequence[StockTarget]) -> dict[StockTarget, int]:
        """Products in lists of 100 ids (`include`), variations one by one. A product the shop sells without
        managing its stock has no number to compare: left out (the next write turns management back on), unless it
        is out of stock (then it offers none)."""
        wanted: dict[Item, StockTarget] = {}
        for target in targets:
            try:
                wanted[listing_item(target.listing)] = target
            except BadListing:
                logger.warning("WooCommerce listing %r is malformed: not read back", target.listing)
        levels = client.stock_levels(wanted)
        shown: dict[StockTarget, int] = {}
        for item, target in wanted.items():
            level = levels.get(item)
            if level is None:
                continue  # gone from the shop: nothing to compare
            if level.stock_quantity is None and level.stock_status != "outofstock":
                logger.warning("WooCommerce item %s is not stock-managed on the shop", item_listing(*item))
                continue
            shown[target] = level.stock_quantity or 0
        return shown

    # -- rate limits and webhooks ----------------------------------------------------------------------------------

    def headroom(self, *, headers: Mapping[str, str], body: Any) -> Headroom | None:
        return None  # core WooCommerce reports no rate-limit budget

    def register_webhooks(self, client: WooCommerceClient, *, address: str, secret: str) -> list[str]:
        """Each WooCommerce webhook carries its own secret: ours, so its deliveries verify like any other. A paused
        or disabled subscription to our address is left to a person (it may have been switched off on purpose)."""
        existing = {str(w["topic"]): str(w["id"]) for w in client.webhooks() if w.get("delivery_url") == address}
        ids = []
        for topic in self.webhook_topics:
            if topic not in existing:
                existing[topic] = str(client.create_webhook(topic=topic, delivery_url=address, secret=secret)["id"])
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
        from integrations.platforms.woocommerce.simulator import WooCommerceSimulator

        credentials = credentials or {}
        given: dict[str, Any] = {
            "consumer_key": str(credentials.get("consumer_key") or ""),
            "consumer_secret": str(credentials.get("consumer_secret") or ""),
            "site_url": shop,
            "secret": secret,
            "hub_url": hub_url,
        }
        return WooCommerceSimulator(**{k: v for k, v in given.items() if v}, **options)

    def demo_credentials(self, seed: Callable[[str], str]) -> dict[str, str]:
        """`seed(name)`: a stable hex value, long enough to cut."""
        return {"consumer_key": "ck_" + seed("key")[:40], "consumer_secret": "cs_" + seed("secret")[:40]}

    def example_orders(self) -> list[dict[str, Any]]:
        return [fixture(__package__, "order_retrieve_response.json")]


connector: Connector = WooCommerceConnector()  # mypy checks the class keeps the protocol
