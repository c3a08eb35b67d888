"""UPS as a carrier connector: the kit's shipment in UPS's `ShipmentRequest` (one shipment, one `Package` per parcel:
UPS accepts or refuses it whole), labels from `PackageResults`, Label Recovery as the reprint (and the PDF), the Track
API and Track Alert pushes as `TrackingEvent`s.

Track Alert v2 webhooks carry no signature: UPS first fetches an OAuth token from *our* token URL with the client id
and secret registered under "Manage Webhook Credentials", then posts each event with `Authorization: Bearer <that
token>` and `x-api-key: <client id>` (`UPSTrackAlert.yaml`, scheme `clientOauth2`). `webhook_token` answers that token
request with a self-contained token (HMAC-SHA256 under the webhook secret, with its expiry), and `webhook_verify`
checks both headers over nothing we store: a token we did not issue, or one past its hour, is refused."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from integrations.carriers.base import b64_bytes, is_loopback
from integrations.carriers.errors import CarrierProblem, CarrierRejected, NotSupported
from integrations.carriers.protocol import (
    GIF,
    PDF,
    ZPL,
    Address,
    CancelResult,
    CredentialField,
    EventKind,
    Label,
    Money,
    Parcel,
    ParcelResult,
    ShipmentRequest,
    ShipmentResult,
    SubscriptionResult,
    TrackingEvent,
    events_in_order,
)
from integrations.carriers.ups.client import UpsClient
from integrations.http import Exchange, HttpClient

FIXTURES = Path(__file__).parent / "fixtures"
PRODUCTION = "https://onlinetools.ups.com"
CIE = "https://wwwcie.ups.com"
WEBHOOK_TOKEN_SECONDS = 3600
# Status types of the Track API and Track Alert, and the codes that refine them [VERIFY: fixtures/SOURCE.md].
OUT_FOR_DELIVERY_CODES = frozenset({"OT", "OF"})
PICKUP_CODES = frozenset({"PU", "OR"})  # Track Alert has no pickup type: a pickup or origin scan is "I" with these
FAILED_DELIVERY_CODES = frozenset({"48", "49", "DA"})
STATUS_TYPES = {
    "M": EventKind.PRE_TRANSIT,
    "MV": EventKind.EXCEPTION,  # the label was voided after its data reached UPS
    "P": EventKind.PICKED_UP,
    "I": EventKind.IN_TRANSIT,
    "U": EventKind.IN_TRANSIT,
    "D": EventKind.DELIVERED,
    "X": EventKind.EXCEPTION,
    "RS": EventKind.RETURNED_TO_SENDER,
}


class UpsConnector:
    code = "ups"
    name = "UPS"
    display_name = "UPS"
    channel_names = {
        "shopify": "UPS",  # Shopify's supported tracking companies (every country)
        "woocommerce": "UPS",
        "bigcommerce": "ups",  # one of BigCommerce's `shipping_provider` values
    }
    tracking_url = "https://www.ups.com/track?tracknum={number}"
    credential_fields = (
        CredentialField("client_id", "Client ID", "The app's client id (OAuth client credentials)"),
        CredentialField("client_secret", "Client secret", "The app's secret"),
        CredentialField(
            "account_number", "Shipper number", "The six-character UPS account the labels are billed to", secret=False
        ),
        CredentialField(
            "webhook_client_id", "Webhook client id", "What UPS sends as x-api-key with Track Alert", False, False
        ),
        CredentialField("webhook_client_secret", "Webhook client secret", "What UPS uses to fetch our token", False),
    )
    default_api_base_url = PRODUCTION
    services = {
        "11": "UPS Standard",
        "07": "UPS Worldwide Express",
        "08": "UPS Worldwide Expedited",
        "54": "UPS Worldwide Express Plus",
        "65": "UPS Worldwide Saver",
        "03": "UPS Ground",
        "01": "UPS Next Day Air",
        "02": "UPS 2nd Day Air",
    }
    label_formats = (GIF, ZPL)  # the Ship call never returns a PDF
    reprint_formats = (PDF, ZPL, GIF)
    max_parcel_grams = 70000  # 70 kg per package
    multi_parcel_atomic = True
    token_refresh_supported = True
    supports_webhooks = True
    tracking_poll_minutes = 240  # a sweep behind Track Alert (subscriptions last 14 days)

    # -- credentials and hosts -----------------------------------------------------------------------------------------

    def credential_problems(self, credentials: Mapping[str, Any]) -> list[str]:
        problems = [
            f"{f.label} ({f.name}) is missing"
            for f in self.credential_fields
            if f.required and not str(credentials.get(f.name) or "").strip()
        ]
        if bool(credentials.get("webhook_client_id")) != bool(credentials.get("webhook_client_secret")):
            problems.append("The webhook client id and secret go together")
        return problems

    def api_base_url(self, *, api_base_url: str = "") -> str:
        return (api_base_url or self.default_api_base_url).rstrip("/")

    def api_host_allowed(self, host: str) -> bool:
        return is_loopback(host) or host in {urlsplit(PRODUCTION).hostname, urlsplit(CIE).hostname}

    def client(
        self,
        *,
        base_url: str,
        credentials: Mapping[str, Any],
        on_exchange: Callable[[Exchange], None] | None = None,
        **http_options: Any,
    ) -> UpsClient:
        client_id = str(credentials.get("client_id") or "")
        secret = str(credentials.get("client_secret") or "")
        secrets = [s for s in (client_id, secret) if s]
        http = HttpClient(base_url=base_url, secrets=list(secrets), on_exchange=on_exchange, **http_options)
        token_http = HttpClient(
            base_url=base_url, auth=(client_id, secret), secrets=list(secrets), on_exchange=on_exchange, **http_options
        )
        return UpsClient(http, token_http, account_number=str(credentials.get("account_number") or ""))

    # -- labels --------------------------------------------------------------------------------------------------------

    def validate_shipment(self, client: UpsClient, request: ShipmentRequest) -> list[CarrierProblem]:
        """The Shipping API has no dry run: what can be known before buying is checked here (service, weights)."""
        self.shipment_payload(client, request)
        return []

    def create_shipment(self, client: UpsClient, request: ShipmentRequest) -> ShipmentResult:
        body = client.ship(self.shipment_payload(client, request))
        return self.parse_ship(body, request.parcels)

    def parse_ship(self, body: Mapping[str, Any], parcels: Sequence[Parcel]) -> ShipmentResult:
        results_doc = (body.get("ShipmentResponse") or {}).get("ShipmentResults") or {}
        packages = _as_list(results_doc.get("PackageResults"))
        results = []
        for index, parcel in enumerate(parcels):
            package = packages[index] if index < len(packages) else {}
            label_doc = package.get("ShippingLabel") or {}
            fmt = str((label_doc.get("ImageFormat") or {}).get("Code") or "").upper()
            content = b64_bytes(str(label_doc.get("GraphicImage") or ""))
            number = str(package.get("TrackingNumber") or "")
            if number and content and fmt in (GIF, ZPL, PDF):
                results.append(
                    ParcelResult(
                        parcel.reference, number, Label(fmt, content), _money(package.get("BaseServiceCharge"))
                    )
                )
            else:
                problem = CarrierProblem("UPS returned no label for this parcel", code="no_label")
                results.append(ParcelResult(parcel.reference, problems=(problem,)))
        alerts = (body.get("ShipmentResponse") or {}).get("Response", {}).get("Alert") or []
        charges = results_doc.get("NegotiatedRateCharges", {}).get("TotalCharge") or (
            results_doc.get("ShipmentCharges") or {}
        ).get("TotalCharges")
        return ShipmentResult(
            parcels=tuple(results),
            shipment_number=str(results_doc.get("ShipmentIdentificationNumber") or ""),
            cost=_money(charges),
            warnings=tuple(
                CarrierProblem(str(a.get("Description") or ""), code=str(a.get("Code") or ""), severity="warning")
                for a in _as_list(alerts)
            ),
        )

    def cancel(self, client: UpsClient, *, shipment_number: str, tracking_numbers: Sequence[str]) -> list[CancelResult]:
        try:
            body = client.void(shipment_number, tracking_numbers if len(tracking_numbers) > 1 else ())
        except CarrierRejected as exc:
            return [CancelResult(n, False, "; ".join(exc.messages)) for n in tracking_numbers]
        answer = body.get("VoidShipmentResponse") or {}
        by_number = {str(p.get("TrackingNumber")): p for p in _as_list(answer.get("PackageLevelResults"))}
        summary_ok = str(((answer.get("SummaryResult") or {}).get("Status") or {}).get("Code")) == "1"
        results = []
        for number in tracking_numbers:
            package = by_number.get(number)
            if package is None:
                ok, message = summary_ok and not by_number, "" if summary_ok else "not voided"
            else:
                status = package.get("Status") or {}
                ok, message = str(status.get("Code")) == "1", str(status.get("Description") or "")
            results.append(CancelResult(number, ok, "" if ok else message or "not voided"))
        return results

    def reprint_label(self, client: UpsClient, *, tracking_number: str, label_format: str) -> Label:
        if label_format not in self.reprint_formats:
            raise NotSupported(f"{self.name} reprints {', '.join(self.reprint_formats)}, not {label_format}")
        body = client.recover_label(tracking_number, label_format)
        results = _as_list((body.get("LabelRecoveryResponse") or {}).get("LabelResults"))
        image = (results[0] if results else {}).get("LabelImage") or {}
        content = b64_bytes(str(image.get("GraphicImage") or ""))
        if not content:
            raise CarrierRejected(self.name, [CarrierProblem("UPS returned no label image", code="no_label")])
        return Label(str((image.get("LabelImageFormat") or {}).get("Code") or label_format).upper(), content)

    # -- tracking ------------------------------------------------------------------------------------------------------

    def track(self, client: UpsClient, tracking_number: str) -> list[TrackingEvent]:
        return self.parse_track(client.track(tracking_number) or {})

    def parse_track(self, body: Mapping[str, Any]) -> list[TrackingEvent]:
        events = []
        for shipment in (body.get("trackResponse") or {}).get("shipment") or []:
            for package in shipment.get("package") or []:
                number = str(package.get("trackingNumber") or shipment.get("inquiryNumber") or "")
                for activity in package.get("activity") or []:
                    status = activity.get("status") or {}
                    address = (activity.get("location") or {}).get("address") or {}
                    events.append(
                        self._event(
                            number,
                            str(status.get("type") or ""),
                            str(status.get("code") or status.get("statusCode") or ""),
                            _gmt(
                                str(activity.get("gmtDate") or activity.get("date") or ""),
                                str(activity.get("gmtTime") or activity.get("time") or ""),
                            ),
                            _place(
                                address.get("city"),
                                address.get("stateProvince"),
                                address.get("countryCode") or address.get("country"),
                            ),
                            str(status.get("description") or ""),
                        )
                    )
        return events_in_order(events)

    def subscribe_tracking(self, client: UpsClient, tracking_numbers: Sequence[str]) -> SubscriptionResult:
        body = client.subscribe(tracking_numbers)
        return SubscriptionResult(
            subscribed=tuple(str(n) for n in body.get("validTrackingNumbers") or []),
            refused=tuple(str(n) for n in body.get("invalidTrackingNumbers") or []),
        )

    def webhook_token(
        self, *, authorization: str, body: bytes, credentials: Mapping[str, Any], now: dt.datetime
    ) -> dict[str, Any] | None:
        client_id = str(credentials.get("webhook_client_id") or "")
        secret = str(credentials.get("webhook_client_secret") or "")
        if not client_id or not secret:
            return None
        grant = parse_qs(body.decode("utf-8", errors="replace")).get("grant_type", [""])[0]
        scheme, _, encoded = authorization.partition(" ")
        try:
            given_id, _, given_secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return None
        same = hmac.compare_digest(given_id.encode(), client_id.encode()) & hmac.compare_digest(
            given_secret.encode(), secret.encode()
        )
        if scheme.lower() != "basic" or grant != "client_credentials" or not same:
            return None
        expires = int(now.timestamp()) + WEBHOOK_TOKEN_SECONDS
        payload = _b64url(json.dumps({"cid": client_id, "exp": expires}, separators=(",", ":")).encode())
        token = f"{payload}.{_b64url(_sign(secret, payload))}"
        return {"access_token": token, "token_type": "Bearer", "expires_in": WEBHOOK_TOKEN_SECONDS}

    def webhook_verify(
        self, *, headers: Mapping[str, str], body: bytes, credentials: Mapping[str, Any], now: dt.datetime
    ) -> bool:
        client_id = str(credentials.get("webhook_client_id") or "")
        secret = str(credentials.get("webhook_client_secret") or "")
        lowered = {k.lower(): v for k, v in headers.items()}
        scheme, _, token = str(lowered.get("authorization") or "").partition(" ")
        api_key = str(lowered.get("x-api-key") or "")
        if not client_id or not secret or scheme.lower() != "bearer" or not body:
            return False
        payload, _, signature = token.strip().partition(".")
        try:
            expected = _b64url(_sign(secret, payload))
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return False
        ok = hmac.compare_digest(expected.encode(), signature.encode()) & hmac.compare_digest(
            api_key.encode(), client_id.encode()
        )
        return bool(
            ok
            and isinstance(claims, dict)
            and claims.get("cid") == client_id
            and int(claims.get("exp") or 0) > now.timestamp()
        )

    def webhook_events(self, body: bytes) -> list[TrackingEvent]:
        data = json.loads(body)
        items = data if isinstance(data, list) else [data]
        events = []
        for item in items:
            status = item.get("activityStatus") or {}
            place = item.get("activityLocation") or {}
            events.append(
                self._event(
                    str(item.get("trackingNumber") or ""),
                    str(status.get("type") or ""),
                    str(status.get("code") or ""),
                    _gmt(str(item.get("gmtActivityDate") or ""), str(item.get("gmtActivityTime") or "")),
                    _place(place.get("city"), place.get("stateProvince"), place.get("country")),
                    str(status.get("description") or ""),
                )
            )
        return events_in_order(events)

    def _event(
        self, number: str, status_type: str, code: str, when: dt.datetime, location: str, description: str
    ) -> TrackingEvent:
        kind = STATUS_TYPES.get(status_type.upper(), EventKind.EXCEPTION)
        if kind in (EventKind.IN_TRANSIT, EventKind.DELIVERED) and code.upper() in OUT_FOR_DELIVERY_CODES:
            kind = EventKind.OUT_FOR_DELIVERY
        elif kind == EventKind.IN_TRANSIT and code.upper() in PICKUP_CODES:
            kind = EventKind.PICKED_UP
        elif kind == EventKind.EXCEPTION and code.upper() in FAILED_DELIVERY_CODES:
            kind = EventKind.FAILED_DELIVERY
        return TrackingEvent(self.code, number, f"{status_type}:{code}", kind, when, location, description)

    # -- simulator and examples ----------------------------------------------------------------------------------------

    def simulator(self, *, credentials: Mapping[str, Any] | None = None, **options: Any) -> Any:
        from integrations.carriers.ups.simulator import UpsSimulator

        return UpsSimulator(credentials=dict(credentials or self.demo_credentials(_plain)), **options)

    def demo_credentials(self, seed: Callable[[str], str]) -> dict[str, str]:
        return {
            "client_id": seed("ups-client-id"),
            "client_secret": seed("ups-client-secret"),
            "account_number": "A1B2C3",
            "webhook_client_id": seed("ups-webhook-id"),
            "webhook_client_secret": seed("ups-webhook-secret"),
        }

    def example_request(self, *, parcels: int = 1, label_format: str = GIF) -> ShipmentRequest:
        """The Shipping API's example 2 (Berlin to Alpharetta, GA), with `parcels` parcels of 0.5 kg."""
        return ShipmentRequest(
            reference="1507 US shipment",
            service="07",
            shipper=Address(
                name="Shipper_name",
                company="Shipper_company",
                street="Shipper_Addrline1",
                postal_code="10785",
                city="BERLIN",
                country="DE",
                phone="5555555555",
            ),
            recipient=Address(
                name="ShipTo_name",
                company="ShipTo_company",
                street="Shipper_Addrline1",
                postal_code="30005",
                city="Alpharetta",
                state="GA",
                country="US",
                phone="5555555555",
            ),
            parcels=tuple(Parcel(f"P{i + 1}", 500, 80, 20, 20) for i in range(parcels)),
            label_format=label_format,
        )

    # -- payloads ------------------------------------------------------------------------------------------------------

    def shipment_payload(self, client: UpsClient, request: ShipmentRequest) -> dict[str, Any]:
        if request.service not in self.services:
            raise CarrierRejected(
                self.name,
                [
                    CarrierProblem(
                        f"unknown service {request.service!r}; on offer: {', '.join(self.services)}", "service"
                    )
                ],
            )
        if request.label_format not in self.label_formats:
            raise CarrierRejected(
                self.name,
                [
                    CarrierProblem(
                        f"no {request.label_format} labels from the Ship call; on offer: "
                        + ", ".join(self.label_formats),
                        "label_format",
                    )
                ],
            )
        if not request.parcels:
            raise CarrierRejected(self.name, [CarrierProblem("a shipment needs at least one parcel", "parcels")])
        account = client.account_number
        packages = []
        for parcel in request.parcels:
            package: dict[str, Any] = {
                "Description": parcel.reference,
                "Packaging": {"Code": "02", "Description": "Customer Supplied Package"},
                "PackageWeight": {
                    "UnitOfMeasurement": {"Code": "KGS", "Description": "Kilograms"},
                    "Weight": _kg(parcel.weight_grams),
                },
            }
            if parcel.length_mm and parcel.width_mm and parcel.height_mm:
                package["Dimensions"] = {
                    "UnitOfMeasurement": {"Code": "CM", "Description": "Centimeters"},
                    "Length": _cm(parcel.length_mm),
                    "Width": _cm(parcel.width_mm),
                    "Height": _cm(parcel.height_mm),
                }
            packages.append(package)
        shipper = _party(request.shipper) | {"ShipperNumber": account}
        return {
            "ShipmentRequest": {
                "Request": {
                    "RequestOption": "nonvalidate",
                    "TransactionReference": {"CustomerContext": request.reference},
                },
                "Shipment": {
                    "Description": request.reference,
                    "Shipper": shipper,
                    "ShipTo": _party(request.recipient),
                    "ShipFrom": _party(request.shipper),
                    "PaymentInformation": {
                        "ShipmentCharge": [{"Type": "01", "BillShipper": {"AccountNumber": account}}]
                    },
                    "Service": {"Code": request.service, "Description": self.services[request.service]},
                    "Package": packages,
                },
                "LabelSpecification": {
                    "LabelImageFormat": {"Code": request.label_format, "Description": request.label_format},
                    "LabelStockSize": {"Height": "6", "Width": "4"},
                    "HTTPUserAgent": "Mozilla/4.5",
                },
            }
        }


def _party(address: Address) -> dict[str, Any]:
    """A Shipper, ShipTo or ShipFrom: optional values are left out when empty (UPS refuses empty strings)."""
    lines = [line for line in (f"{address.street} {address.house_number}".strip(), address.line2) if line]
    place = {
        "AddressLine": lines,
        "City": address.city,
        "StateProvinceCode": address.state,
        "PostalCode": address.postal_code,
        "CountryCode": address.country.upper(),
    }
    party: dict[str, Any] = {
        "Name": address.company or address.name,
        "Address": {k: v for k, v in place.items() if v},
    }
    if address.name:
        party["AttentionName"] = address.name
    if address.phone:
        party["Phone"] = {"Number": address.phone}
    if address.email:
        party["EMailAddress"] = address.email
    return party


def _kg(grams: int) -> str:
    return format(Decimal(grams) / 1000, "f")


def _cm(mm: int) -> str:
    return str(max(1, round(mm / 10)))


def _money(value: Any) -> Money | None:
    if not isinstance(value, Mapping):
        return None
    try:
        return Money(Decimal(str(value.get("MonetaryValue"))), str(value.get("CurrencyCode") or ""))
    except (InvalidOperation, TypeError):
        return None


def _as_list(value: Any) -> list[Any]:
    """UPS returns one object where an older version had one element, a list otherwise."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _gmt(date: str, time: str) -> dt.datetime:
    digits = "".join(ch for ch in time if ch.isdigit()).zfill(6)
    return dt.datetime.strptime(f"{date}{digits}", "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)


def _place(*parts: Any) -> str:
    return ", ".join(str(p) for p in parts if p)


def _b64url(raw: bytes | str) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(secret: str, payload: str) -> bytes:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()


def _plain(name: str) -> str:
    return f"{name}-0123456789"


connector = UpsConnector()
