"""A loopback UPS: the OAuth token endpoint, Ship, Void, Label Recovery, Track and Track Alert subscriptions, answering
in the shapes of `fixtures/` (the official examples and the OpenAPI schemas), and pushing Track Alert events to the
hub the way UPS does (a token from the hub's token URL first, then the event with `Authorization: Bearer` and
`x-api-key`).

Tokens live `token_seconds`; a `token_expired` fault revokes the token of the next call (401 with the official
250002 body). A recipient with the kit's `BAD_POSTAL_CODE` is refused as an address UPS cannot validate, a package
over 70 kg as overweight; both refuse the whole shipment, as UPS does. A `partial` fault leaves the last package of
the next void "Not Voided", or refuses the last tracking number of the next subscription. A shipment handed over
(`scan`) can no longer be voided."""

from __future__ import annotations

import base64
import copy
import json
import math
import re
import time
import uuid
from decimal import Decimal
from typing import Any

import requests

from integrations.carriers.base import grams_from, load_fixture
from integrations.carriers.simulator_kit import (
    BAD_POSTAL_CODE,
    CarrierSimulator,
    Reply,
    Request,
    gif_label,
    pdf_label,
    zpl_label,
)
from integrations.carriers.ups.connector import FIXTURES

MAX_GRAMS = 70000
TRACKING_NUMBER = re.compile(r"^1Z[0-9A-Z]{16}$")
PRICE_PER_KG = Decimal("4.20")
BASE_PRICE = Decimal("7.90")


def _fixture(name: str) -> Any:
    return copy.deepcopy(load_fixture(FIXTURES, name))


class UpsSimulator(CarrierSimulator):
    carrier = "ups"

    def __init__(
        self,
        *,
        credentials: dict[str, Any],
        token_seconds: float = 14399,
        hub_url: str = "",
        hub_token_url: str = "",
        hang_seconds: float = 2.0,
    ) -> None:
        super().__init__(hang_seconds=hang_seconds)
        self.credentials = credentials
        self.token_seconds = token_seconds
        self.hub_url = hub_url  # where Track Alert posts events ("Manage Webhook Credentials")
        self.hub_token_url = hub_token_url  # where UPS fetches its token for those posts
        self.tokens: dict[str, float] = {}
        self.shipments: dict[str, list[str]] = {}  # shipment number → its packages' tracking numbers
        self.subscribed: set[str] = set()
        self.webhooks: list[dict[str, Any]] = []

    def configure(self, **options: Any) -> None:
        with self.lock:
            for name in ("hub_url", "hub_token_url", "token_seconds"):
                if name in options:
                    setattr(self, name, options[name])

    # -- auth and errors ---------------------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Reply | None:
        if request.path == "/security/v1/oauth/token":
            return None
        scheme, _, token = request.header("Authorization").partition(" ")
        with self.lock:
            valid = scheme == "Bearer" and self.tokens.get(token, 0.0) > time.monotonic()
            if valid and self.token_expired_now(request):
                self.tokens.pop(token, None)
                valid = False
        if not valid:
            return Reply(401, _fixture("api__token_expired.json"))
        return None

    def error_reply(self, status: int, message: str) -> Reply:
        return Reply(status, {"response": {"errors": [{"code": str(status), "message": message}]}})

    # -- routes ------------------------------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        path = request.path
        if path == "/security/v1/oauth/token" and request.method == "POST":
            return self.token(request)
        if re.fullmatch(r"/api/shipments/v\d+/ship", path) and request.method == "POST":
            return self.ship(request)
        match = re.fullmatch(r"/api/shipments/v\d+/void/cancel/([0-9A-Z]+)", path)
        if match and request.method == "DELETE":
            return self.void(request, match.group(1))
        if re.fullmatch(r"/api/labels/v\d+/recovery", path) and request.method == "POST":
            return self.recover(request)
        match = re.fullmatch(r"/api/track/v1/details/([0-9A-Za-z]+)", path)
        if match and request.method == "GET":
            return self.track(match.group(1))
        if path == "/api/track/v2/subscription/standard/package" and request.method == "POST":
            return self.subscribe(request)
        return self.error_reply(404, "The requested resource was not found.")

    def token(self, request: Request) -> Reply:
        basic = base64.b64encode(
            f"{self.credentials.get('client_id', '')}:{self.credentials.get('client_secret', '')}".encode()
        ).decode()
        if (
            request.header("Authorization") != f"Basic {basic}"
            or request.form().get("grant_type") != "client_credentials"
        ):
            return Reply(401, _fixture("token__unauthorized.json"))
        token = uuid.uuid4().hex + uuid.uuid4().hex
        self.tokens[token] = time.monotonic() + self.token_seconds
        self.tokens_issued += 1
        self.issued_tokens.append(token)
        body = _fixture("token__success.json")
        body.update(
            {
                "access_token": token,
                "client_id": self.credentials.get("client_id", ""),
                "expires_in": f"{self.token_seconds:g}",
            }
        )
        body["issued_at"] = str(int(time.time() * 1000))
        return Reply(200, body)

    def ship(self, request: Request) -> Reply:
        data = (request.json() or {}).get("ShipmentRequest") or {}
        shipment = data.get("Shipment") or {}
        ship_to = (shipment.get("ShipTo") or {}).get("Address") or {}
        packages = shipment.get("Package") or []
        packages = packages if isinstance(packages, list) else [packages]
        if not packages:
            return self.error_reply(400, "Missing or invalid package")
        if ship_to.get("PostalCode") == BAD_POSTAL_CODE:
            return Reply(400, _fixture("ship__bad_address.json"))
        weights = []
        for package in packages:
            weight = package.get("PackageWeight") or {}
            unit = str((weight.get("UnitOfMeasurement") or {}).get("Code") or "KGS")
            weights.append(grams_from(float(weight.get("Weight") or 0), unit))
        if any(g > MAX_GRAMS or g <= 0 for g in weights):
            return Reply(400, _fixture("ship__overweight.json"))
        label_format = str(
            ((data.get("LabelSpecification") or {}).get("LabelImageFormat") or {}).get("Code") or "GIF"
        ).upper()
        if label_format not in {"GIF", "ZPL"}:
            return self.error_reply(400, "Invalid label image format")
        service = str((shipment.get("Service") or {}).get("Code") or "11")
        account = str((shipment.get("Shipper") or {}).get("ShipperNumber") or "000000").upper()[:6].ljust(6, "0")
        numbers = [f"1Z{account}{service.zfill(2)[:2]}{next(self.serial):08d}" for _ in packages]
        body = _fixture("ship__success.json")
        results = body["ShipmentResponse"]["ShipmentResults"]
        results["ShipmentIdentificationNumber"] = numbers[0]
        total = Decimal(0)
        for number, grams in zip(numbers, weights, strict=True):
            price = (BASE_PRICE + PRICE_PER_KG * Decimal(grams) / 1000).quantize(Decimal("0.01"))
            total += price
            package = _fixture("ship__package_result.json")
            package["TrackingNumber"] = number
            package["BaseServiceCharge"]["MonetaryValue"] = str(price)
            package["ShippingLabel"] = {
                "ImageFormat": {"Code": label_format, "Description": label_format},
                "GraphicImage": base64.b64encode(self._label(number, ship_to, label_format)).decode(),
            }
            if label_format == "GIF":
                package["ShippingLabel"]["HTMLImage"] = base64.b64encode(b"<html></html>").decode()
            results["PackageResults"].append(package)
            self.parcels[number] = {
                "state": "created",
                "shipment": numbers[0],
                "grams": grams,
                "events": [],
                "labels": 1,
            }
        for key in ("TransportationCharges", "TotalCharges"):
            results["ShipmentCharges"][key]["MonetaryValue"] = str(total)
        billed = Decimal(math.ceil(sum(weights) / 500)) / 2  # kilograms, rounded up to the half
        results["BillingWeight"]["Weight"] = f"{billed:08.1f}"
        context = (data.get("Request") or {}).get("TransactionReference", {}).get("CustomerContext")
        if context:
            body["ShipmentResponse"]["Response"]["TransactionReference"] = {"CustomerContext": context}
        self.shipments[numbers[0]] = numbers
        return Reply(200, body)

    def _label(self, number: str, ship_to: dict[str, Any], label_format: str) -> bytes:
        lines = ["UPS", number, str(ship_to.get("City", "")), str(ship_to.get("PostalCode", ""))]
        if label_format == "ZPL":
            return zpl_label(lines, number).encode()
        if label_format == "PDF":
            return pdf_label(lines)
        return gif_label(" ".join(lines))

    def void(self, request: Request, shipment_number: str) -> Reply:
        numbers = self.shipments.get(shipment_number)
        if numbers is None:
            return self.error_reply(400, "Invalid Shipment Identification Number")
        asked = request.param("trackingnumber")
        wanted = [str(n) for n in json.loads(asked)] if asked else list(numbers)
        if any(self.parcels[n]["state"] == "handed_over" for n in wanted if n in self.parcels):
            return Reply(400, _fixture("void__refused.json"))
        partial = len(wanted) > 1 and self.partial_now(request)
        body = _fixture("void__success.json")
        answer = body["VoidShipmentResponse"]
        for index, number in enumerate(wanted):
            voided = number in numbers and not (partial and index == len(wanted) - 1)
            if voided:
                self.parcels[number]["state"] = "cancelled"
            answer["PackageLevelResults"].append(
                {
                    "TrackingNumber": number,
                    "Status": {"Code": "1" if voided else "0", "Description": "Voided" if voided else "Not Voided"},
                }
            )
        if partial:
            answer["SummaryResult"]["Status"] = {"Code": "1", "Description": "Partially Voided"}
        if len(wanted) == 1 and not asked:
            answer["PackageLevelResults"] = []  # a whole single-package shipment: the summary alone answers
        return Reply(200, body)

    def recover(self, request: Request) -> Reply:
        data = (request.json() or {}).get("LabelRecoveryRequest") or {}
        number = str(data.get("TrackingNumber") or "")
        fmt = str(((data.get("LabelSpecification") or {}).get("LabelImageFormat") or {}).get("Code") or "GIF").upper()
        parcel = self.parcels.get(number)
        if parcel is None or parcel["state"] == "cancelled":
            return self.error_reply(400, "No label found for the tracking number")
        parcel["labels"] += 1
        body = _fixture("label_recovery__success.json")
        answer = body["LabelRecoveryResponse"]
        answer["ShipmentIdentificationNumber"] = parcel["shipment"]
        answer["LabelResults"][0]["TrackingNumber"] = number
        answer["LabelResults"][0]["LabelImage"] = {
            "LabelImageFormat": {"Code": fmt},
            "GraphicImage": base64.b64encode(self._label(number, {}, fmt)).decode(),
        }
        return Reply(200, body)

    def track(self, number: str) -> Reply:
        parcel = self.parcels.get(number)
        if parcel is None or not parcel["events"]:
            return Reply(
                404, {"response": {"errors": [{"code": "TW0001", "message": "Tracking Information Not Found"}]}}
            )
        body = _fixture("track__delivered.json")
        package = body["trackResponse"]["shipment"][0]["package"][0]
        body["trackResponse"]["shipment"][0]["inquiryNumber"] = number
        package["trackingNumber"] = number
        package["activity"] = sorted(parcel["events"], key=lambda a: (a["gmtDate"], a["gmtTime"]), reverse=True)
        return Reply(200, body)

    def subscribe(self, request: Request) -> Reply:
        data = request.json() or {}
        if not data.get("locale"):
            return Reply(
                400,
                {
                    "response": {
                        "errors": [
                            {
                                "code": "VSS300",
                                "message": "Locale is required. The Subscription request has been rejected.",
                            }
                        ]
                    }
                },
            )
        numbers = [str(n) for n in data.get("trackingNumberList") or []]
        partial = len(numbers) > 1 and self.partial_now(request)
        valid = [
            n for i, n in enumerate(numbers) if TRACKING_NUMBER.match(n) and not (partial and i == len(numbers) - 1)
        ]
        invalid = [n for n in numbers if n not in valid]
        if not valid:
            return Reply(
                400,
                {
                    "invalidTrackingNumbers": invalid,
                    "response": {
                        "errors": [
                            {
                                "code": "VSS210",
                                "message": "The Subscription request should have at least one valid tracking number. "
                                "The Subscription request has been rejected.",
                            }
                        ]
                    },
                },
            )
        self.subscribed.update(valid)
        return Reply(200, {"validTrackingNumbers": valid, "invalidTrackingNumbers": invalid})

    # -- tracking events and Track Alert pushes ----------------------------------------------------------------------

    def fixture_events(self, tracking_number: str) -> list[dict[str, Any]]:
        activities = _fixture("track__delivered.json")["trackResponse"]["shipment"][0]["package"][0]["activity"]
        return list(reversed(activities))  # played oldest first

    def scan(self, tracking_number: str) -> None:
        super().scan(tracking_number)
        if tracking_number in self.subscribed and self.hub_url:
            for activity in self.fixture_events(tracking_number):
                self.push(_alert(tracking_number, activity))

    def push(self, event: dict[str, Any]) -> int | None:
        """Post one Track Alert event to the hub as UPS does: fetch a token from the hub's token URL, then post."""
        body = json.dumps(event, separators=(",", ":")).encode()
        client_id = str(self.credentials.get("webhook_client_id") or "")
        headers = {"Content-Type": "application/json", "User-Agent": "UPSPubSubTrackingService", "x-api-key": client_id}
        status: int | None = None
        try:
            if self.hub_token_url:
                answer = requests.post(
                    self.hub_token_url,
                    data={"grant_type": "client_credentials"},
                    auth=(client_id, str(self.credentials.get("webhook_client_secret") or "")),
                    timeout=(1, 5),
                )
                token = (answer.json() or {}).get("access_token", "") if answer.ok else ""
                headers["Authorization"] = f"Bearer {token}"
            status = requests.post(self.hub_url, data=body, headers=headers, timeout=(1, 5)).status_code
        except (requests.RequestException, ValueError):
            status = None
        with self.lock:
            self.webhooks.append(
                {
                    "tracking_number": event.get("trackingNumber"),
                    "code": event["activityStatus"]["code"],
                    "status": status,
                }
            )
        return status

    def own_ledger(self) -> dict[str, Any]:
        return {
            "shipments": self.shipments,
            "subscribed": sorted(self.subscribed),
            "webhooks": self.webhooks,
        }


def _alert(tracking_number: str, activity: dict[str, Any]) -> dict[str, Any]:
    """A Track API activity as the Track Alert `TrackingEventRequest` for the same event."""
    address = (activity.get("location") or {}).get("address") or {}
    status = activity.get("status") or {}
    offset = str(activity.get("gmtOffset") or "+00:00").replace(":", ".")
    return {
        "trackingNumber": tracking_number,
        "localActivityDate": activity.get("date", ""),
        "localActivityTime": activity.get("time", ""),
        "activityLocation": {
            k: v
            for k, v in {
                "city": address.get("city"),
                "stateProvince": address.get("stateProvince"),
                "postalCode": address.get("postalCode"),
                "country": address.get("countryCode") or address.get("country"),
            }.items()
            if v
        },
        "activityStatus": {
            "type": status.get("type", ""),
            "code": status.get("code", ""),
            "description": status.get("description", ""),
        },
        "gmtActivityDate": activity.get("gmtDate", ""),
        "gmtActivityTime": activity.get("gmtTime", ""),
        "gmtOffset": offset,
    }
