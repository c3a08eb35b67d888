"""BigCommerce behind the kit's `Connector` protocol: translation of the kit's terms onto `client.py` (V2 orders and
shipments, V3 inventory and hooks) and `events.py` (thin webhooks, Standard Webhooks signatures). Nothing here
touches the database.

A connection's `shop` is the store hash (`https://api.bigcommerce.com/stores/{store_hash}/…`); its signing secret is
the app's client secret, which signs every webhook. Webhooks only name the order: the worker fetches it
(`order_reference` → `fetch_order`).

Ids in the generic mapping table: a listing is the variant id (every product has at least its base variant), a
location is a BigCommerce inventory location id (the default location is 1); stock is always written at a location."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from integrations.http import Exchange, Headroom, PermanentError
from integrations.platforms.base import DeliveryMeta, digits, is_loopback
from integrations.platforms.bigcommerce import events
from integrations.platforms.bigcommerce.client import API_HOST, BigCommerceClient, bigcommerce_client, parse_headroom
from integrations.platforms.fixtures import fixture
from integrations.platforms.protocol import (
    Connector,
    CredentialField,
    FulfilmentWrite,
    StatusWrite,
    StockTarget,
    WriteResult,
)


class BadTarget(PermanentError):
    """A listing that is not a variant id, or a missing location: never worth a retry."""

    def __init__(self, target: StockTarget) -> None:
        message = (
            f"BigCommerce stock target {target.listing!r} at {target.location!r} is not a variant id at a location id"
        )
        super().__init__(message, status_code=422, body="bad target")


def _pair(target: StockTarget) -> tuple[int, int]:
    if not digits(target.listing) or not digits(target.location):
        raise BadTarget(target)
    return int(target.listing), int(target.location)


class BigCommerceConnector:
    code = "bigcommerce"
    name = "BigCommerce"
    is_marketplace = False
    thin_webhooks = True
    shop_label = "Store hash (from the API path /stores/{store_hash}/)"

    credential_fields: tuple[CredentialField, ...] = (
        CredentialField("access_token", "API account access token", "Sent as X-Auth-Token"),
        CredentialField("client_id", "API account client ID", "Sent as X-Auth-Client (optional)"),
    )

    kept_header_prefixes: tuple[str, ...] = ("webhook-",)
    signature_headers: frozenset[str] = frozenset({events.SIGNATURE_HEADER})
    default_field_mapping: Mapping[str, object] = events.DEFAULT_FIELD_MAPPING
    default_status_mapping: Mapping[str, str] = events.DEFAULT_STATUS_MAPPING

    # The quota is per 30 s window (150 requests on Standard and Plus plans): half a window restores it.
    headroom_pause_seconds = 15.0
    webhook_topics: tuple[str, ...] = ("store/order/created", "store/order/updated")
    api_hosts_words: str = API_HOST  # named in the console's error when a base URL is refused
    stock_needs_location = True

    # -- credentials and hosts -------------------------------------------------------------------------------------

    def credential_problems(self, credentials: Mapping[str, Any]) -> list[str]:
        token = credentials.get("access_token")
        problems = [] if isinstance(token, str) and token.strip() else ["access_token is required"]
        client_id = credentials.get("client_id", "")
        if not isinstance(client_id, str):
            problems.append("client_id must be text")
        return problems

    def api_base_url(self, *, shop: str, api_base_url: str = "") -> str:
        """The store's API root: `https://api.bigcommerce.com/stores/{store_hash}` (`api_base_url`, e.g. a
        simulator, replaces the host)."""
        root = (api_base_url or f"https://{API_HOST}").strip().rstrip("/")
        if "/stores/" in root:
            return root
        return f"{root}/stores/{quote(shop.strip(), safe='')}"

    def api_host_allowed(self, host: str, *, shop: str) -> bool:
        host = host.lower()
        return is_loopback(host) or host == API_HOST

    def client(
        self,
        *,
        base_url: str,
        credentials: Mapping[str, Any],
        on_exchange: Callable[[Exchange], None] | None = None,
        **http_options: Any,
    ) -> BigCommerceClient:
        return bigcommerce_client(
            base_url=base_url,
            access_token=str(credentials.get("access_token", "")),
            client_id=str(credentials.get("client_id", "") or ""),
            on_exchange=on_exchange,
            **http_options,
        )

    # -- events ----------------------------------------------------------------------------------------------------

    def signature_valid(self, *, body: bytes, headers: Mapping[str, str], secrets: Iterable[str]) -> bool:
        return events.signature_valid(body=body, headers=headers, secrets=secrets)

    def is_handshake(self, *, body: bytes, headers: Mapping[str, str]) -> bool:
        return False  # BigCommerce sends no unsigned set-up ping

    def delivery_meta(self, headers: Mapping[str, str], body: bytes) -> DeliveryMeta:
        return events.delivery_meta(headers, body)

    def is_order_topic(self, topic: str) -> bool:
        return events.is_order_topic(topic)

    def order_reference(self, payload: Mapping[str, Any]) -> str | None:
        return events.order_reference(payload)

    # -- sync ------------------------------------------------------------------------------------------------------

    def fetch_order(self, client: BigCommerceClient, order_id: str) -> dict[str, Any]:
        return client.get_order(order_id)

    def orders_changed_since(self, client: BigCommerceClient, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
        return client.list_orders_changed_since(since)

    # -- writes ----------------------------------------------------------------------------------------------------

    def write_fulfilment(self, client: BigCommerceClient, write: FulfilmentWrite) -> WriteResult:
        """A shipment with tracking of what is left to ship (only `lines` for one leg; BigCommerce ships partially
        and marks the order Partially Shipped until the last leg). No idempotency key: the shipments are read back
        first, by our key in their comments."""
        shipment = client.ship(
            order_id=write.order_id,
            tracking_number=write.tracking_number,
            carrier=write.carrier,
            tracking_url=write.tracking_url,
            idempotency_key=write.idempotency_key,
            lines=write.lines or None,
        )
        return WriteResult(external_id=str(shipment.id), created=shipment.created, detail={"shipment_id": shipment.id})

    # Its API has no shipment status after the fulfilment: it hears only the dispatch with tracking.
    shipment_statuses: frozenset[str] = frozenset()

    def write_shipment_status(self, client: BigCommerceClient, write: StatusWrite) -> WriteResult:
        raise PermanentError(f"{self.name} takes no shipment status", status_code=501, body="unsupported")

    def write_tracking(self, client: BigCommerceClient, write: FulfilmentWrite) -> WriteResult:
        """The new number on the shipments that carry the previous one; a shipment of its own when none does."""
        changed = client.update_tracking(
            order_id=write.order_id,
            tracking_number=write.tracking_number,
            carrier=write.carrier,
            tracking_url=write.tracking_url,
            previous_tracking_number=write.previous_tracking_number,
            idempotency_key=write.idempotency_key,
        )
        if changed is None:
            return self.write_fulfilment(client, write)
        return WriteResult(external_id=str(changed.id), created=changed.created, detail={"shipment_id": changed.id})

    def external_id_problem(self, *, kind: str, value: str) -> str:
        if kind == "listing" and not digits(value):
            return "a BigCommerce listing is the variant id (digits)"
        if kind == "location" and not digits(value):
            return "a BigCommerce location id is digits (the default location is 1)"
        return ""

    def publish_stock(self, client: BigCommerceClient, *, target: StockTarget, quantity: int) -> int:
        variant, location = _pair(target)
        client.set_stock([(variant, location, quantity)])
        level = client.stock_levels([(variant, location)]).get((variant, location))
        if level is None:
            raise PermanentError(
                f"BigCommerce shows no stock for variant {variant} at location {location} after writing it",
                status_code=404,
            )
        return level.on_hand

    def publish_stock_many(
        self, client: BigCommerceClient, writes: Sequence[tuple[StockTarget, int]]
    ) -> dict[StockTarget, int | str]:
        """One absolute adjustment for up to 2000 items, then one bulk read of what the store now shows."""
        done: dict[StockTarget, int | str] = {}
        pairs: dict[tuple[int, int], StockTarget] = {}
        batch: list[tuple[int, int, int]] = []
        for target, quantity in writes:
            try:
                pair = _pair(target)
            except BadTarget as exc:
                done[target] = str(exc)
                continue
            pairs[pair] = target
            batch.append((*pair, quantity))
        if batch:
            client.set_stock(batch)
            shown = client.stock_levels(pairs)
            for pair, target in pairs.items():
                level = shown.get(pair)
                done[target] = level.on_hand if level is not None else "not in the store's answer"
        return done

    def read_stock(self, client: BigCommerceClient, targets: Sequence[StockTarget]) -> dict[StockTarget, int]:
        wanted: dict[tuple[int, int], StockTarget] = {}
        for target in targets:
            try:
                wanted[_pair(target)] = target
            except BadTarget:
                continue
        if not wanted:
            return {}
        return {wanted[pair]: level.on_hand for pair, level in client.stock_levels(wanted).items()}

    # -- rate limits and webhooks ----------------------------------------------------------------------------------

    def headroom(self, *, headers: Mapping[str, str], body: Any) -> Headroom | None:
        return parse_headroom(headers, body)

    def register_webhooks(self, client: BigCommerceClient, *, address: str, secret: str) -> list[str]:
        """BigCommerce signs every webhook with the app's client secret, so `secret` is not sent. Listing first, so
        a second call subscribes nothing twice; a hook BigCommerce deactivated (after days of failed deliveries) is
        switched back on."""
        existing = {str(h["scope"]): h for h in client.hooks(destination=address) if h.get("destination") == address}
        ids = []
        for scope in self.webhook_topics:
            hook = existing.get(scope)
            if hook is None:
                hook = client.create_hook(scope=scope, destination=address)
            elif not hook.get("is_active", True):
                hook = client.activate_hook(hook["id"])
            ids.append(str(hook["id"]))
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
        from integrations.platforms.bigcommerce.simulator import BigCommerceSimulator

        credentials = credentials or {}
        given: dict[str, Any] = {
            "access_token": str(credentials.get("access_token") or ""),
            "client_id": str(credentials.get("client_id") or ""),
            "store_hash": shop,
            "secret": secret,
            "hub_url": hub_url,
        }
        return BigCommerceSimulator(**{k: v for k, v in given.items() if v}, **options)

    def demo_credentials(self, seed: Callable[[str], str]) -> dict[str, str]:
        """`seed(name)`: a stable hex value; BigCommerce's tokens and client ids are 31 characters."""
        return {"access_token": seed("access_token")[:31], "client_id": seed("client_id")[:31]}

    def example_orders(self) -> list[dict[str, Any]]:
        """The V2 order examples, each with the example products and shipping addresses read in as
        `get_order` assembles them."""
        products = fixture(__package__, "order_products_response.json")
        addresses = fixture(__package__, "order_shipping_addresses_response.json")
        return [
            {**fixture(__package__, name), "products": products, "shipping_addresses": addresses}
            for name in ("order_get_response.json", "order_get_response_multiple_items.json")
        ]


connector: Connector = BigCommerceConnector()  # mypy checks the class keeps the protocol
