"""DHL Parcel DE as a carrier connector: the kit's shipment in DHL's `ShipmentOrderRequest`, DHL's `LabelDataResponse`
back as per-parcel results, DHL's tracking as `TrackingEvent`s. DHL Paket carries one parcel per shipment number,
so a multi-parcel shipment is one DHL shipment per parcel in one call, and DHL answers each on its own (207)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from integrations.carriers.base import ALPHA3, CUSTOMS_UNION, b64_bytes, is_loopback
from integrations.carriers.dhl_parcel_de.client import Answer, DhlParcelDeClient
from integrations.carriers.errors import CarrierProblem, CarrierRejected, NotSupported
from integrations.carriers.protocol import (
    PDF,
    ZPL,
    Address,
    CancelResult,
    CredentialField,
    CustomsLine,
    EventKind,
    Label,
    Parcel,
    ParcelResult,
    ShipmentRequest,
    ShipmentResult,
    SubscriptionResult,
    TrackingEvent,
    events_in_order,
)
from integrations.http import Exchange, HttpClient

FIXTURES = Path(__file__).parent / "fixtures"
PRODUCTION = "https://api-eu.dhl.com"
SANDBOX = "https://api-sandbox.dhl.com"
DEFAULT_PROFILE = "STANDARD_GRUPPENPROFIL"
# The kit's label formats in DHL's words (`docFormat`, `fileFormat`).
DOC_FORMATS = {PDF: "PDF", ZPL: "ZPL2"}
FILE_FORMATS = {"PDF": PDF, "ZPL2": ZPL}
# Digits 11-12 of a billing number name the product (`Shipment.billingNumber` in the OpenAPI).
PRODUCT_DIGITS = {"V01PAK": "01", "V53WPAK": "53", "V54EPAK": "54", "V62WP": "62", "V66WPI": "66"}
# Tracking: `statusDetailed` when DHL sends it, else the coarse `statusCode` [VERIFY: see fixtures/SOURCE.md].
STATUS_DETAILED = {
    "pre-transit": EventKind.PRE_TRANSIT,
    "picked-up": EventKind.PICKED_UP,
    "in-transit": EventKind.IN_TRANSIT,
    "out-for-delivery": EventKind.OUT_FOR_DELIVERY,
    "delivered": EventKind.DELIVERED,
    "delivery-failed": EventKind.FAILED_DELIVERY,
    "returned": EventKind.RETURNED_TO_SENDER,
    "exception": EventKind.EXCEPTION,
}
STATUS_CODE = {
    "pre-transit": EventKind.PRE_TRANSIT,
    "transit": EventKind.IN_TRANSIT,
    "delivered": EventKind.DELIVERED,
    "failure": EventKind.EXCEPTION,
    "unknown": EventKind.EXCEPTION,
}
LOCAL_TIME_ZONE = zoneinfo.ZoneInfo("Europe/Berlin")  # DHL's timestamps without an offset are German local time


class DhlParcelDeConnector:
    code = "dhl_parcel_de"
    name = "DHL Parcel DE"
    display_name = "DHL Paket"
    channel_names = {
        "shopify": "DHL",  # Shopify's supported tracking companies list DHL Paket as "DHL" (Germany's list)
        "woocommerce": "DHL Paket",  # the customer's note names it
        "bigcommerce": "dhl-germany",  # not a `shipping_provider`: its AfterShip `tracking_carrier` slug
    }
    tracking_url = "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={number}"
    credential_fields = (
        CredentialField("api_key", "API key", "The app's key from DHL's developer portal (header dhl-api-key)"),
        CredentialField("username", "User", "The business customer portal user (GKP) for the API", secret=False),
        CredentialField("password", "Password", "That user's password"),
        CredentialField(
            "ekp", "Customer number (EKP)", "Ten digits; the billing number is EKP + product + procedure", secret=False
        ),
        CredentialField("participation", "Participation", "Two characters, usually 01", False, False),
        CredentialField("profile", "User group profile", f"Default {DEFAULT_PROFILE}", False, False),
        CredentialField("tracking_api_key", "Tracking API key", "Shipment Tracking's key, if not the same", False),
    )
    default_api_base_url = PRODUCTION
    services = {
        "V01PAK": "DHL Paket",
        "V53WPAK": "DHL Paket International",
        "V54EPAK": "DHL Europaket",
        "V62WP": "Warenpost",
        "V66WPI": "Warenpost International",
    }
    label_formats = (PDF, ZPL)
    reprint_formats = (PDF, ZPL)
    max_parcel_grams = 31500  # `Weight.value` maximum in the OpenAPI
    multi_parcel_atomic = False
    token_refresh_supported = False
    supports_webhooks = False
    tracking_poll_minutes = 30

    # -- credentials and hosts -----------------------------------------------------------------------------------------

    def credential_problems(self, credentials: Mapping[str, Any]) -> list[str]:
        problems = [
            f"{f.label} ({f.name}) is missing"
            for f in self.credential_fields
            if f.required and not str(credentials.get(f.name) or "").strip()
        ]
        ekp = str(credentials.get("ekp") or "")
        if ekp and not (len(ekp) == 10 and ekp.isdigit()):
            problems.append("Customer number (ekp) must be ten digits")
        participation = str(credentials.get("participation") or "01")
        if len(participation) != 2:
            problems.append("Participation must be two characters")
        return problems

    def api_base_url(self, *, api_base_url: str = "") -> str:
        return (api_base_url or self.default_api_base_url).rstrip("/")

    def api_host_allowed(self, host: str) -> bool:
        return is_loopback(host) or host in {urlsplit(PRODUCTION).hostname, urlsplit(SANDBOX).hostname}

    def client(
        self,
        *,
        base_url: str,
        credentials: Mapping[str, Any],
        on_exchange: Callable[[Exchange], None] | None = None,
        **http_options: Any,
    ) -> DhlParcelDeClient:
        api_key = str(credentials.get("api_key") or "")
        tracking_key = str(credentials.get("tracking_api_key") or api_key)
        password = str(credentials.get("password") or "")
        http = HttpClient(
            base_url=base_url,
            auth=(str(credentials.get("username") or ""), password),
            auth_headers={"dhl-api-key": api_key},
            secrets=[s for s in (api_key, tracking_key, password) if s],
            on_exchange=on_exchange,
            **http_options,
        )
        account = {k: str(credentials.get(k) or "") for k in ("ekp", "participation", "profile")}
        return DhlParcelDeClient(http, tracking_api_key=tracking_key, account=account)

    # -- labels --------------------------------------------------------------------------------------------------------

    def validate_shipment(self, client: DhlParcelDeClient, request: ShipmentRequest) -> list[CarrierProblem]:
        answer = client.create_orders(self._payload(client, request), doc_format=DOC_FORMATS[PDF], validate=True)
        problems = [p for item in answer.body.get("items") or [] for p in _item_problems(item)]
        if answer.status >= 400 or any(p.severity == "error" for p in problems):
            raise CarrierRejected(self.name, problems or _status_problems(answer), status=answer.status)
        return problems

    def create_shipment(self, client: DhlParcelDeClient, request: ShipmentRequest) -> ShipmentResult:
        if request.label_format not in self.label_formats:
            raise CarrierRejected(self.name, [CarrierProblem(f"no {request.label_format} labels", "label_format")])
        answer = client.create_orders(self._payload(client, request), doc_format=DOC_FORMATS[request.label_format])
        return self.parse_create(answer, request.parcels)

    def parse_create(self, answer: Answer, parcels: Sequence[Parcel]) -> ShipmentResult:
        """Each item answers the parcel at its position. A schema error (items with `propertyPath`) or a refusal of
        every parcel raises `CarrierRejected`; otherwise each parcel gets its own result."""
        items = list(answer.body.get("items") or [])
        if any("propertyPath" in item for item in items):
            raise CarrierRejected(self.name, [p for item in items for p in _item_problems(item)], status=answer.status)
        results: list[ParcelResult] = []
        warnings: list[CarrierProblem] = []
        for index, parcel in enumerate(parcels):
            item = items[index] if index < len(items) else {}
            problems = _item_problems(item)
            label = _label(item.get("label"))
            ok = (item.get("sstatus") or {}).get("statusCode") == 200 and bool(item.get("shipmentNo")) and label
            if ok:
                warnings.extend(problems)
                results.append(ParcelResult(parcel.reference, str(item["shipmentNo"]), label))
            else:
                problems = problems or _status_problems(Answer(answer.status, {"status": item.get("sstatus") or {}}))
                results.append(ParcelResult(parcel.reference, problems=tuple(problems)))
        if not any(r.ok for r in results):
            raise CarrierRejected(self.name, [p for r in results for p in r.problems], status=answer.status)
        return ShipmentResult(parcels=tuple(results), warnings=tuple(warnings))

    def cancel(
        self, client: DhlParcelDeClient, *, shipment_number: str = "", tracking_numbers: Sequence[str]
    ) -> list[CancelResult]:
        profile = str(client.account.get("profile") or DEFAULT_PROFILE)
        answer = client.delete_orders(profile=profile, shipment_numbers=tracking_numbers)
        by_number = {str(item.get("shipmentNo")): item for item in answer.body.get("items") or []}
        results = []
        for number in tracking_numbers:
            status = (by_number.get(number) or {}).get("sstatus") or {}
            cancelled = status.get("statusCode") == 200
            message = "" if cancelled else str(status.get("detail") or status.get("title") or "no answer for it")
            results.append(CancelResult(number, cancelled, message))
        return results

    def close_manifest(self, client: DhlParcelDeClient, *, tracking_numbers: Sequence[str]) -> dict[str, str]:
        """Close these parcels out on today's manifest (DHL's `POST /manifests`). Returns the refused ones with DHL's
        reason (empty: all closed); raises `CarrierRejected` when DHL refused the whole call. An optional capability
        of a connector (UPS closes out on its own at the end of the day)."""
        profile = str(client.account.get("profile") or DEFAULT_PROFILE)
        answer = client.close_manifest(profile=profile, shipment_numbers=tracking_numbers)
        items = {str(item.get("shipmentNo")): item for item in answer.body.get("items") or []}
        if answer.status >= 400 and not items:
            raise CarrierRejected(self.name, _status_problems(answer), status=answer.status)
        refused = {}
        for number in tracking_numbers:
            status = (items.get(number) or {}).get("sstatus") or {}
            if status.get("statusCode") != 200:
                refused[number] = str(status.get("detail") or status.get("title") or "no answer for it")
        return refused

    def reprint_label(self, client: DhlParcelDeClient, *, tracking_number: str, label_format: str) -> Label:
        if label_format not in self.reprint_formats:
            raise NotSupported(f"{self.name} reprints {', '.join(self.reprint_formats)}, not {label_format}")
        answer = client.get_orders(shipment_numbers=[tracking_number], doc_format=DOC_FORMATS[label_format])
        items = answer.body.get("items") or [{}]
        label = _label(items[0].get("label"))
        if label is None:
            raise CarrierRejected(self.name, _item_problems(items[0]) or _status_problems(answer), status=answer.status)
        return label

    # -- tracking ------------------------------------------------------------------------------------------------------

    def track(self, client: DhlParcelDeClient, tracking_number: str) -> list[TrackingEvent]:
        return self.parse_tracking(client.track(tracking_number) or {}, tracking_number)

    def parse_tracking(self, body: Mapping[str, Any], tracking_number: str) -> list[TrackingEvent]:
        events = []
        for shipment in body.get("shipments") or []:
            number = str(shipment.get("id") or tracking_number)
            for raw in shipment.get("events") or []:
                detailed, coarse = str(raw.get("statusDetailed") or ""), str(raw.get("statusCode") or "unknown")
                kind = STATUS_DETAILED.get(detailed) or STATUS_CODE.get(coarse, EventKind.EXCEPTION)
                address = (raw.get("location") or {}).get("address") or {}
                events.append(
                    TrackingEvent(
                        carrier=self.code,
                        tracking_number=number,
                        code=detailed or coarse,
                        kind=kind,
                        occurred_at=timestamp_utc(str(raw.get("timestamp") or "")),
                        location=", ".join(
                            str(v) for v in (address.get("addressLocality"), address.get("countryCode")) if v
                        ),
                        description=str(raw.get("description") or raw.get("status") or ""),
                    )
                )
        return events_in_order(events)

    def subscribe_tracking(self, client: Any, tracking_numbers: Sequence[str]) -> SubscriptionResult:
        raise NotSupported(
            f"{self.name} pushes no tracking events: the kit polls every {self.tracking_poll_minutes} min"
        )

    def webhook_token(self, **kwargs: Any) -> dict[str, Any] | None:
        return None

    def webhook_verify(self, **kwargs: Any) -> bool:
        return False

    def webhook_events(self, body: bytes) -> list[TrackingEvent]:
        raise NotSupported(f"{self.name} pushes no tracking events")

    # -- simulator and examples ----------------------------------------------------------------------------------------

    def simulator(self, *, credentials: Mapping[str, Any] | None = None, **options: Any) -> Any:
        from integrations.carriers.dhl_parcel_de.simulator import DhlParcelDeSimulator

        return DhlParcelDeSimulator(credentials=dict(credentials or self.demo_credentials(_plain)), **options)

    def demo_credentials(self, seed: Callable[[str], str]) -> dict[str, str]:
        return {
            "api_key": seed("dhl-api-key"),
            "username": "user-valid",
            "password": seed("dhl-password"),
            "ekp": "3333333333",
            "participation": "01",
            "profile": DEFAULT_PROFILE,
        }

    def example_request(self, *, parcels: int = 1, label_format: str = PDF) -> ShipmentRequest:
        """The OpenAPI's `DHLPaket` example (Bonn to Bonn, 500 g), with `parcels` parcels."""
        return ShipmentRequest(
            reference="Order No. 1234",
            service="V01PAK",
            shipper=Address(
                name="My Online Shop GmbH",
                street="Sträßchensweg 10",
                line2="2. Etage",
                postal_code="53113",
                city="Bonn",
                country="DE",
                email="max@mustermann.de",
            ),
            recipient=Address(
                name="Maria Musterfrau",
                street="Kurt-Schumacher-Str. 20",
                line2="Apartment 107",
                postal_code="53113",
                city="Bonn",
                country="DE",
                email="maria@musterfrau.de",
            ),
            parcels=tuple(Parcel(f"P{i + 1}", 500, 200, 150, 100) for i in range(parcels)),
            label_format=label_format,
        )

    # -- payloads ------------------------------------------------------------------------------------------------------

    def _payload(self, client: DhlParcelDeClient, request: ShipmentRequest) -> dict[str, Any]:
        account: Mapping[str, Any] = client.account
        if request.service not in PRODUCT_DIGITS:
            raise CarrierRejected(
                self.name,
                [
                    CarrierProblem(
                        f"unknown service {request.service!r}; on offer: {', '.join(self.services)}", "service"
                    )
                ],
            )
        if not request.parcels:
            raise CarrierRejected(self.name, [CarrierProblem("a shipment needs at least one parcel", "parcels")])
        billing = f"{account.get('ekp', '')}{PRODUCT_DIGITS[request.service]}{account.get('participation') or '01'}"
        shipments = []
        for parcel in request.parcels:
            shipment: dict[str, Any] = {
                "product": request.service,
                "billingNumber": billing,
                "shipper": self._address(request.shipper, "shipper"),
                "consignee": self._address(request.recipient, "consignee"),
                "details": {"weight": {"uom": "g", "value": parcel.weight_grams}},
            }
            if 8 <= len(request.reference) <= 35:  # DHL's limits for refNo: outside them it is left off, never cut
                shipment["refNo"] = request.reference
            if request.ship_date:
                shipment["shipDate"] = request.ship_date.isoformat()
            if parcel.length_mm and parcel.width_mm and parcel.height_mm:
                shipment["details"]["dim"] = {
                    "uom": "mm",
                    "length": parcel.length_mm,
                    "width": parcel.width_mm,
                    "height": parcel.height_mm,
                }
            if request.customs and request.recipient.country not in CUSTOMS_UNION:
                shipment["customs"] = self._customs(request.customs)
            shipments.append(shipment)
        return {"profile": str(account.get("profile") or DEFAULT_PROFILE), "shipments": shipments}

    def _address(self, address: Address, role: str) -> dict[str, Any]:
        country = ALPHA3.get(address.country.upper())
        if country is None:
            raise CarrierRejected(
                self.name, [CarrierProblem(f"country {address.country!r} is not known here", f"{role}.country")]
            )
        out: dict[str, Any] = {
            "name1": address.company or address.name,
            "addressStreet": address.street,
            "postalCode": address.postal_code,
            "city": address.city,
            "country": country,
        }
        if address.company and address.name:
            out["name2"] = address.name
        optional = {
            "addressHouse": address.house_number,
            "additionalAddressInformation1": address.line2,
            "state": address.state,
            "email": address.email,
        }
        out.update({k: v for k, v in optional.items() if v})
        if address.phone and address.country.upper() != "DE":  # DHL does not pass phone numbers on inside Germany
            out["phone"] = address.phone
        return out

    def _customs(self, lines: Sequence[CustomsLine]) -> dict[str, Any]:
        return {
            "exportType": "COMMERCIAL_GOODS",
            "items": [
                {
                    "itemDescription": line.description,
                    "packagedQuantity": line.quantity,
                    "itemValue": {"currency": line.currency, "value": float(line.unit_value)},
                    "itemWeight": {"uom": "g", "value": line.unit_weight_grams},
                    **({"hsCode": line.hs_code} if line.hs_code else {}),
                    **(
                        {"countryOfOrigin": ALPHA3.get(line.origin_country, line.origin_country)}
                        if line.origin_country
                        else {}
                    ),
                }
                for line in lines
            ],
        }


def _item_problems(item: Mapping[str, Any]) -> list[CarrierProblem]:
    problems = [
        CarrierProblem(
            message=str(m.get("validationMessage") or ""),
            field=str(m.get("property") or ""),
            severity="warning" if str(m.get("validationState") or "").lower() == "warning" else "error",
        )
        for m in item.get("validationMessages") or []
    ]
    if "propertyPath" in item:
        problems.append(CarrierProblem(str(item.get("message") or ""), str(item.get("propertyPath") or "")))
    return problems


def _status_problems(answer: Answer) -> list[CarrierProblem]:
    status = answer.body.get("status") or {}
    text = str(status.get("detail") or status.get("title") or f"HTTP {answer.status}")
    return [CarrierProblem(text, code=str(status.get("title") or ""))]


def _label(document: Mapping[str, Any] | None) -> Label | None:
    if not document:
        return None
    fmt = FILE_FORMATS.get(str(document.get("fileFormat") or "PDF").upper(), PDF)
    if document.get("zpl2"):
        return Label(ZPL, str(document["zpl2"]).encode("utf-8"))
    if document.get("b64"):
        content = b64_bytes(str(document["b64"]))
        return Label(fmt, content) if content else None
    return None


def timestamp_utc(text: str) -> dt.datetime:
    """A DHL timestamp in UTC (one without an offset is German local time)."""
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=LOCAL_TIME_ZONE)
    return when.astimezone(dt.UTC)


def _plain(name: str) -> str:
    return f"{name}-0123456789"


connector = DhlParcelDeConnector()
