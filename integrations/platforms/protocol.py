"""The contract every platform connector keeps, stated once (design.md §4a).

A connector is one object per platform (`integrations/platforms/<code>/connector.py`, registered in
`integrations.platforms.registry`). It is translation work on the shared kit: it turns the platform's headers,
payloads and endpoints into the kit's terms, and holds nothing about our database. The kit (inbox, outbox,
publishing, reconciler, admin, demo seed, simulator command) asks the registry for a connector and never names a
platform. Its client is pure HTTP (`integrations.http.HttpClient`, no Django); the kit builds one for a connection
with `integrations.connections.client_for`.

The conformance suite (`tests/integrations/conformance/`) runs every registered connector against its simulator:
registering a platform gives it those tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from integrations.http import Exchange, Headroom
from integrations.platforms.base import DeliveryMeta


@dataclass(frozen=True)
class CredentialField:
    """One value of a platform's credentials, as the administrator's form asks for it."""

    name: str
    label: str
    help: str = ""


@dataclass(frozen=True)
class StockTarget:
    """Where one SKU's number lives on a platform, from the generic mapping table: the SKU's listing id and the
    facility's location id, both opaque to the kit (only the connector reads them). `location` is "" when the
    platform keeps one number per listing."""

    listing: str
    location: str = ""


@dataclass(frozen=True)
class FulfilmentWrite:
    """A fulfilment (or a tracking change) as the outbox asks for it, in the kit's terms."""

    order_id: str
    tracking_number: str
    carrier: str = ""
    tracking_url: str = ""
    idempotency_key: str = ""
    # One leg of an order shipped from several facilities: [{"line_item_id", "sku", "quantity"}] (the platform's line
    # id, our SKU code when the id is unknown, units); None: the whole order.
    lines: Sequence[Mapping[str, Any]] | None = None
    complete: bool = True  # False: a partial fulfilment (the order stays open on the platform)
    previous_tracking_number: str = ""  # a tracking change: the number being replaced
    notify_customer: bool = True  # the brand's choice: the platform e-mails the customer the tracking


# Shipment statuses the kit reports to channels after the dispatch (the fulfilment itself says "dispatched").
SHIPMENT_STATUSES = ("in_transit", "out_for_delivery", "delivered", "attempted_delivery")


@dataclass(frozen=True)
class StatusWrite:
    """A shipment's status after dispatch, for the fulfilment that carries `tracking_number` on order `order_id`."""

    order_id: str
    tracking_number: str
    status: str  # one of SHIPMENT_STATUSES
    occurred_at: dt.datetime
    carrier: str = ""
    idempotency_key: str = ""


@dataclass(frozen=True)
class WriteResult:
    """What a write came to: the platform's id for it, and whether this call created it (False: read back, found)."""

    external_id: str
    created: bool
    detail: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Connector(Protocol):
    """One platform's five layers: events, sync, writes, reconciler hooks and audit (via the shared client)."""

    # --- identity (the registry fills the sales channel's platform identity from these) --------------------------
    code: str  # "shopify": the URL segment, the registry key, `SalesChannel.platform_code`
    name: str  # "Shopify"
    is_marketplace: bool  # a marketplace (Amazon, eBay...) rather than the brand's own storefront
    thin_webhooks: bool  # its webhooks only name the order (`order_reference`), so the worker fetches it
    shop_label: str  # what the connection's `shop` is on this platform: "Shop domain", "Site URL"

    # --- credentials and hosts ----------------------------------------------------------------------------------
    credential_fields: tuple[CredentialField, ...]

    def credential_problems(self, credentials: Mapping[str, Any]) -> list[str]:
        """Why these credentials cannot work (an empty list when they have the right shape)."""
        ...

    def api_base_url(self, *, shop: str, api_base_url: str = "") -> str:
        """The API's base URL for a connection (`api_base_url` when set, e.g. a simulator; else from the shop)."""
        ...

    def api_host_allowed(self, host: str, *, shop: str) -> bool:
        """Whether the kit may send the credentials of a connection to `shop` to `host` (loopback is always
        allowed: the simulators)."""
        ...

    def client(
        self,
        *,
        base_url: str,
        credentials: Mapping[str, Any],
        on_exchange: Callable[[Exchange], None] | None = None,
        **http_options: Any,
    ) -> Any:
        """The platform's pure-HTTP client (its `.http` is the shared `HttpClient`, given this platform's headroom
        parser)."""
        ...

    # --- events ---------------------------------------------------------------------------------------------------
    kept_header_prefixes: tuple[str, ...]  # lower-case prefixes of the headers the inbox keeps
    signature_headers: frozenset[str]  # lower-case names of the headers never stored
    default_field_mapping: Mapping[str, object]
    default_status_mapping: Mapping[str, str]

    def signature_valid(self, *, body: bytes, headers: Mapping[str, str], secrets: Iterable[str]) -> bool: ...

    def is_handshake(self, *, body: bytes, headers: Mapping[str, str]) -> bool:
        """The platform's unsigned set-up ping (answered 200, nothing stored)."""
        ...

    def delivery_meta(self, headers: Mapping[str, str], body: bytes) -> DeliveryMeta:
        """Delivery id (the dedupe key), event id, topic and trigger time, from the headers or, for a platform that
        puts them in the payload (a thin webhook's `hash`, `scope`), from the verified raw body."""
        ...

    def is_order_topic(self, topic: str) -> bool: ...

    def order_reference(self, payload: Mapping[str, Any]) -> str | None:
        """The platform order id when this payload only names the order (a thin webhook) and the worker must fetch
        it through `fetch_order` before mapping; None when the payload is the order itself. The fetch happens in the
        worker, never in the webhook request: a failed fetch is retried or dead-lettered like any failed attempt,
        and an order the platform no longer has (404) goes to the exception queue."""
        ...

    # --- sync -----------------------------------------------------------------------------------------------------
    def fetch_order(self, client: Any, order_id: str) -> dict[str, Any]: ...

    def orders_changed_since(self, client: Any, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
        """Every order changed since `since` (all when None), across the platform's own pagination."""
        ...

    # --- writes (read back before a retry where the platform has no idempotency key) ------------------------------
    def write_fulfilment(self, client: Any, write: FulfilmentWrite) -> WriteResult: ...

    def write_tracking(self, client: Any, write: FulfilmentWrite) -> WriteResult: ...

    # Optional: statuses after dispatch (in transit, delivered...). A platform whose API has no such write keeps
    # `shipment_statuses` empty and never gets one (`writes_status` is the check the kit makes); the fulfilment
    # with tracking is all it hears.
    shipment_statuses: frozenset[str]

    def write_shipment_status(self, client: Any, write: StatusWrite) -> WriteResult:
        """Report one status on the fulfilment with `write.tracking_number`, once (read back before writing)."""
        ...

    stock_needs_location: bool  # a listing is written at a location (the facility's location id must be mapped)

    def external_id_problem(self, *, kind: str, value: str) -> str:
        """Why `value` cannot be this platform's id of that kind ("listing" or "location"); "" when it can. Each
        connector decides how its listing id is written (e.g. "product/variation")."""
        ...

    def publish_stock(self, client: Any, *, target: StockTarget, quantity: int) -> int:
        """Set the absolute number; returns what the platform now shows."""
        ...

    def publish_stock_many(
        self, client: Any, writes: Sequence[tuple[StockTarget, int]]
    ) -> dict[StockTarget, int | str]:
        """Set many absolute numbers with the platform's bulk write where it has one (else one by one). Returns, per
        target, what the platform now shows, or its refusal of that target as text. Raises like one write when the
        whole call fails."""
        ...

    def read_stock(self, client: Any, targets: Sequence[StockTarget]) -> dict[StockTarget, int]:
        """What the platform shows for each target (targets it no longer has, or does not count, are left out).
        Uses the platform's bulk read where it has one."""
        ...

    # --- rate limits and webhooks ---------------------------------------------------------------------------------
    headroom_pause_seconds: float  # how long the outbox pauses a connection whose headroom ran low
    # Optional, not a member: `write_latency_budget_seconds: float`, the P95 budget of event to confirmed write the
    # alerts judge (read by `registry.write_latency_budget_seconds`, default 60 s).

    def headroom(self, *, headers: Mapping[str, str], body: Any) -> Headroom | None:
        """Rate-limit headroom from the platform's answer (None when it says nothing)."""
        ...

    webhook_topics: tuple[str, ...]  # the topics the hub subscribes to

    def register_webhooks(self, client: Any, *, address: str, secret: str) -> list[str]:
        """Subscribe `address` to every topic in `webhook_topics` through the platform's webhook API, listing first
        so a second call subscribes nothing twice; returns the platform's ids of the subscriptions. `secret` is the
        connection's signing secret, for platforms that sign each webhook with its own (others ignore it)."""
        ...

    # --- simulator (tests, the demo and `run_simulator`) ----------------------------------------------------------
    def simulator(
        self,
        *,
        shop: str = "",
        credentials: Mapping[str, Any] | None = None,
        secret: str = "",
        hub_url: str = "",
        **options: Any,
    ) -> Any:
        """A not-yet-started loopback simulator (`integrations.platforms.simulator_kit.Simulator`) accepting these
        credentials and signing with `secret`; what is left empty keeps the simulator's default. `options` go to the
        simulator as they are (e.g. `hang_seconds`)."""
        ...

    def example_orders(self) -> list[dict[str, Any]]:
        """The platform's official example order payloads (its `fixtures/`, from ../shared/specs), as a webhook or
        the API would deliver them."""
        ...

    def demo_credentials(self, seed: Callable[[str], str]) -> dict[str, str]:
        """Credentials of the right shape for the demo. `seed(name)` gives a stable hex value of 64 characters for
        each name: the connector cuts what its shape needs."""
        ...


def writes_status(connector: Any, status: str) -> bool:
    """Whether the platform takes this shipment status (False for a connector without the capability)."""
    return status in (getattr(connector, "shipment_statuses", None) or frozenset())


__all__ = [
    "SHIPMENT_STATUSES",
    "Connector",
    "CredentialField",
    "DeliveryMeta",
    "FulfilmentWrite",
    "StatusWrite",
    "StockTarget",
    "WriteResult",
    "writes_status",
]
