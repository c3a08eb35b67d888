"""The contract every carrier connector keeps, stated once (the carriers' twin of `integrations.platforms.protocol`).

A carrier is one folder, `integrations/carriers/<code>/`: a pure-HTTP `client.py` (the shared
`integrations.http.HttpClient`, no Django), a `connector.py` that turns the kit's terms (`ShipmentRequest`,
`TrackingEvent`...) into the carrier's payloads and back, a loopback `simulator.py` answering in the carrier's official
shapes, and `fixtures/` from ../shared/specs/carriers/<code>/. `integrations.carriers.registry` maps a carrier code to
its connector; nothing else in the kit names a carrier.

What differs between carriers is stated as data on the connector (`label_formats`, `token_refresh_supported`,
`multi_parcel_atomic`, `supports_webhooks`, `tracking_poll_minutes`), so the kit and the conformance suite
(`tests/integrations/carriers/conformance/`) adapt through the protocol and never by naming a carrier.

Errors: the shared HTTP errors (`RateLimited`, `TransientError`, `AmbiguousWrite`, `AuthExpired`) pass through;
a carrier's refusal of what we asked (a bad address, an overweight parcel, an unknown service) is
`integrations.carriers.errors.CarrierRejected`, whose message a person can read."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from integrations.carriers.errors import CarrierProblem
from integrations.http import Exchange

# Label formats, as the kit names them (each connector maps them onto its carrier's words: DHL "ZPL2", UPS "ZPL").
PDF = "PDF"
ZPL = "ZPL"
GIF = "GIF"
LABEL_MAGIC = {PDF: b"%PDF", ZPL: b"^XA", GIF: b"GIF8"}
LABEL_MEDIA_TYPES = {PDF: "application/pdf", ZPL: "application/x-zpl", GIF: "image/gif"}
LABEL_SUFFIXES = {PDF: "pdf", ZPL: "zpl", GIF: "gif"}


@dataclass(frozen=True)
class CredentialField:
    """One value of a carrier account's credentials, as the administrator's form asks for it."""

    name: str
    label: str
    help: str = ""
    required: bool = True
    secret: bool = True  # False: an identifier (an account number) that may show in audit bodies


@dataclass(frozen=True)
class Address:
    """A postal address in the kit's terms. `country` is ISO 3166-1 alpha-2 ("DE"); connectors convert."""

    name: str
    street: str
    postal_code: str
    city: str
    country: str
    house_number: str = ""
    line2: str = ""
    company: str = ""
    state: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Parcel:
    """One physical parcel. `reference` is ours (the parcel's id) and comes back on its `ParcelResult`."""

    reference: str
    weight_grams: int
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0


@dataclass(frozen=True)
class CustomsLine:
    """One kind of goods for a customs declaration (outside the customs union)."""

    description: str
    quantity: int
    unit_value: Decimal
    currency: str
    unit_weight_grams: int
    hs_code: str = ""
    origin_country: str = ""


@dataclass(frozen=True)
class ShipmentRequest:
    """A shipment to buy labels for: one label per parcel, all to one recipient with one service."""

    reference: str  # ours (an order number); printed on the label where the carrier allows
    service: str  # a key of the connector's `services`
    shipper: Address
    recipient: Address
    parcels: Sequence[Parcel]
    label_format: str = PDF  # one of the connector's `label_formats`
    ship_date: dt.date | None = None
    customs: Sequence[CustomsLine] = ()


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class Label:
    """A label as the carrier returned it: the bytes, unchanged, in `format` (PDF, ZPL or GIF)."""

    format: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def media_type(self) -> str:
        return LABEL_MEDIA_TYPES.get(self.format, "application/octet-stream")

    @property
    def suffix(self) -> str:
        return LABEL_SUFFIXES.get(self.format, "bin")


@dataclass(frozen=True)
class ParcelResult:
    """What the carrier did with one parcel: a tracking number and a label, or the problems that stopped it."""

    parcel_reference: str
    tracking_number: str = ""
    label: Label | None = None
    cost: Money | None = None
    problems: tuple[CarrierProblem, ...] = ()

    @property
    def ok(self) -> bool:
        return bool(self.tracking_number and self.label is not None)


@dataclass(frozen=True)
class ShipmentResult:
    """One create call, reported per parcel. A partial success is never a whole success: check `all_ok`."""

    parcels: tuple[ParcelResult, ...]
    shipment_number: str = ""  # the carrier's id of the whole shipment where it has one (UPS); else ""
    cost: Money | None = None  # the carrier's total charge, when it sends one (DHL bills by contract: None)
    warnings: tuple[CarrierProblem, ...] = ()

    @property
    def all_ok(self) -> bool:
        return bool(self.parcels) and all(p.ok for p in self.parcels)

    @property
    def partial(self) -> bool:
        return any(p.ok for p in self.parcels) and not self.all_ok

    @property
    def failed(self) -> tuple[ParcelResult, ...]:
        return tuple(p for p in self.parcels if not p.ok)


@dataclass(frozen=True)
class CancelResult:
    tracking_number: str
    cancelled: bool
    message: str = ""


@dataclass(frozen=True)
class SubscriptionResult:
    """Tracking numbers the carrier now pushes events for, and those it refused."""

    subscribed: tuple[str, ...]
    refused: tuple[str, ...] = ()


class EventKind(StrEnum):
    """What a carrier event means for the shipment, whatever the carrier calls it."""

    PRE_TRANSIT = "pre_transit"  # label created / data received: the carrier has not touched the parcel
    PICKED_UP = "picked_up"  # the carrier's first scan: it has the parcel
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    FAILED_DELIVERY = "failed_delivery"
    RETURNED_TO_SENDER = "returned_to_sender"
    EXCEPTION = "exception"


# Within one instant, the order events happen in (two events with the same time are applied in this order).
_KIND_RANK = {kind: rank for rank, kind in enumerate(EventKind)}


@dataclass(frozen=True)
class TrackingEvent:
    """One carrier event for one parcel. `code` is the carrier's own status code, kept as sent; `kind` its meaning.
    `occurred_at` is aware (UTC). The same event seen twice (a webhook redelivered, a poll overlapping the last) has
    the same `dedupe_key`: store it once."""

    carrier: str
    tracking_number: str
    code: str
    kind: EventKind
    occurred_at: dt.datetime
    location: str = ""
    description: str = ""

    @property
    def dedupe_key(self) -> tuple[str, str, str, str]:
        return (self.carrier, self.tracking_number, self.code, self.occurred_at.astimezone(dt.UTC).isoformat())

    @property
    def is_carrier_scan(self) -> bool:
        """The carrier physically handled the parcel (anything but label data): a carrier receipt for custody."""
        return self.kind != EventKind.PRE_TRANSIT


def events_in_order(events: Iterable[TrackingEvent]) -> list[TrackingEvent]:
    """Each event once (by `dedupe_key`), oldest first; simultaneous events in the order of `EventKind`."""
    unique: dict[tuple[str, str, str, str], TrackingEvent] = {}
    for event in events:
        unique.setdefault(event.dedupe_key, event)
    return sorted(unique.values(), key=lambda e: (e.occurred_at, _KIND_RANK[e.kind], e.code))


@runtime_checkable
class Carrier(Protocol):
    """One carrier's connector: identity, credentials and hosts, labels, cancellation, tracking, webhooks, simulator."""

    # --- identity ---------------------------------------------------------------------------------------------------
    code: str  # "dhl_parcel_de": the registry key, `CarrierAccount.carrier`, the folder's name
    name: str  # "DHL Parcel DE"
    # How the sales channels name it on a fulfilment, platform code → name, each from that platform's own list
    # (`integrations.carriers.channel_names` reads it; a platform not listed gets `display_name`).
    display_name: str  # what a customer reads: "DHL Paket"
    channel_names: Mapping[str, str]
    tracking_url: str  # the carrier's public tracking page, "{number}" where the tracking number goes

    # --- credentials and hosts --------------------------------------------------------------------------------------
    credential_fields: tuple[CredentialField, ...]
    default_api_base_url: str

    def credential_problems(self, credentials: Mapping[str, Any]) -> list[str]:
        """Why these credentials cannot work (an empty list when they have the right shape)."""
        ...

    def api_base_url(self, *, api_base_url: str = "") -> str:
        """The API's base URL for an account (`api_base_url` when set, e.g. a simulator or a sandbox)."""
        ...

    def api_host_allowed(self, host: str) -> bool:
        """Whether the kit may send an account's credentials to `host` (loopback is always allowed: simulators)."""
        ...

    def client(
        self,
        *,
        base_url: str,
        credentials: Mapping[str, Any],
        on_exchange: Callable[[Exchange], None] | None = None,
        **http_options: Any,
    ) -> Any:
        """The carrier's pure-HTTP client (its `.http` is the shared `HttpClient`; `http_options` go there)."""
        ...

    # --- what the carrier offers ------------------------------------------------------------------------------------
    services: Mapping[str, str]  # the carrier's service code → a name people read ("V01PAK" → "DHL Paket")
    label_formats: tuple[str, ...]  # formats a create call can return (PDF, ZPL, GIF)
    reprint_formats: tuple[str, ...]  # formats an existing label can be fetched again in
    max_parcel_grams: int  # the heaviest parcel any of its services takes
    multi_parcel_atomic: bool  # True: a multi-parcel create succeeds or fails whole (UPS); False: per parcel (DHL)
    token_refresh_supported: bool  # True: short-lived tokens, refreshed once on a 401 (OAuth); False: static keys

    # --- labels -----------------------------------------------------------------------------------------------------
    def validate_shipment(self, client: Any, request: ShipmentRequest) -> list[CarrierProblem]:
        """Ask the carrier whether `request` would be accepted, creating nothing. Returns its warnings; raises
        `CarrierRejected` with its messages when it would be refused."""
        ...

    def create_shipment(self, client: Any, request: ShipmentRequest) -> ShipmentResult:
        """Buy one label per parcel. Raises `CarrierRejected` when the carrier refused everything; a partial success
        comes back as a `ShipmentResult` whose failed parcels carry their problems."""
        ...

    def cancel(self, client: Any, *, shipment_number: str, tracking_numbers: Sequence[str]) -> list[CancelResult]:
        """Void labels before hand-off, one result per tracking number."""
        ...

    def reprint_label(self, client: Any, *, tracking_number: str, label_format: str) -> Label:
        """The label of an existing parcel again (a reprint), in one of `reprint_formats`."""
        ...

    # --- tracking ---------------------------------------------------------------------------------------------------
    supports_webhooks: bool  # the carrier pushes events (UPS Track Alert); else the kit polls `track`
    tracking_poll_minutes: int  # how often the kit polls a parcel's tracking when there is no push (or as a sweep)

    def track(self, client: Any, tracking_number: str) -> list[TrackingEvent]:
        """Every event the carrier has for the parcel, each once, oldest first."""
        ...

    def subscribe_tracking(self, client: Any, tracking_numbers: Sequence[str]) -> SubscriptionResult:
        """Ask the carrier to push events for these parcels (only where `supports_webhooks`)."""
        ...

    def webhook_token(
        self, *, authorization: str, body: bytes, credentials: Mapping[str, Any], now: dt.datetime
    ) -> dict[str, Any] | None:
        """For carriers that fetch an OAuth token from us before each push (UPS Track Alert v2): the token answer
        for a client-credentials request, or None when the caller's credentials are wrong."""
        ...

    def webhook_verify(
        self, *, headers: Mapping[str, str], body: bytes, credentials: Mapping[str, Any], now: dt.datetime
    ) -> bool:
        """Whether a pushed delivery really comes from the carrier (over the raw bytes, before parsing)."""
        ...

    def webhook_events(self, body: bytes) -> list[TrackingEvent]:
        """The events in a verified delivery."""
        ...

    # --- simulator (tests, the demo) --------------------------------------------------------------------------------
    def simulator(self, *, credentials: Mapping[str, Any] | None = None, **options: Any) -> Any:
        """A not-yet-started loopback simulator (`integrations.carriers.simulator_kit.CarrierSimulator`) accepting
        these credentials."""
        ...

    def demo_credentials(self, seed: Callable[[str], str]) -> dict[str, str]:
        """Credentials of the right shape for the demo and the tests (`seed(name)` gives a stable value)."""
        ...

    def example_request(self, *, parcels: int = 1, label_format: str = PDF) -> ShipmentRequest:
        """A shipment the carrier accepts (from its official examples), for tests and the demo."""
        ...


__all__ = [
    "GIF",
    "LABEL_MAGIC",
    "PDF",
    "ZPL",
    "Address",
    "CancelResult",
    "Carrier",
    "CredentialField",
    "CustomsLine",
    "EventKind",
    "Label",
    "Money",
    "Parcel",
    "ParcelResult",
    "ShipmentRequest",
    "ShipmentResult",
    "SubscriptionResult",
    "TrackingEvent",
    "events_in_order",
]
