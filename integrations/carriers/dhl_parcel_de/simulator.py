"""A loopback DHL Parcel DE: `POST/DELETE/GET /parcel/de/shipping/v2/orders` and `GET /track/shipments`, answering in
the shapes of the official response fixtures (`fixtures/`): their titles, status codes and wording, with whole
labels of its own (PDF, or ZPL2 as text) where the fixtures carry stubs.

Refusals, as DHL gives them: a recipient with the kit's `BAD_POSTAL_CODE` fails validation with the fixture's
messages (HTTP 400, or one failed item of a 207); a parcel over 31.5 kg gets the OpenAPI's own message ("The weight
is too high", property `dimension.weight`); a `partial` fault fails the last shipment of a multi-shipment create with
the fixture's `GeneralShipmentError`, or the last of a cancel as an unknown shipment number. A shipment closed out
(`POST /manifests`) or handed over (`scan`) is manifested: it can no longer be cancelled."""

from __future__ import annotations

import base64
import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

from integrations.carriers.base import grams_from, load_fixture
from integrations.carriers.dhl_parcel_de.connector import FIXTURES, LOCAL_TIME_ZONE, timestamp_utc
from integrations.carriers.simulator_kit import (
    BAD_POSTAL_CODE,
    CarrierSimulator,
    Reply,
    Request,
    pdf_label,
    zpl_label,
)

SHIPPING = "/parcel/de/shipping/v2"
MAX_GRAMS = 31500
PROBLEM_JSON = "application/problem+json"


def _fixture(name: str) -> dict[str, Any]:
    return copy.deepcopy(load_fixture(FIXTURES, name))


def shifted_to(events: list[dict[str, Any]], pickup: dt.datetime) -> list[dict[str, Any]]:
    """`events` (oldest first) moved in time so the pickup, the first event that is not pre-transit, is at `pickup`;
    order and spacing kept. Timestamps stay in the fixture's form: German local time without an offset."""
    if not events:
        return events
    moments = [timestamp_utc(str(e["timestamp"])) for e in events]
    anchor = next((m for e, m in zip(events, moments, strict=True) if e.get("statusCode") != "pre-transit"), moments[0])
    shift = pickup.astimezone(dt.UTC) - anchor
    for event, moment in zip(events, moments, strict=True):
        event["timestamp"] = (moment + shift).astimezone(LOCAL_TIME_ZONE).replace(tzinfo=None).isoformat()
    return events


class DhlParcelDeSimulator(CarrierSimulator):
    carrier = "dhl_parcel_de"

    def __init__(self, *, credentials: dict[str, Any], hang_seconds: float = 2.0) -> None:
        super().__init__(hang_seconds=hang_seconds)
        self.credentials = credentials
        self.clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)  # when a scan picks the parcel up

    # -- auth and errors ---------------------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Reply | None:
        if request.path.startswith("/track/"):
            wanted = self.credentials.get("tracking_api_key") or self.credentials.get("api_key")
            ok = request.header("DHL-API-Key") == wanted
        else:
            basic = base64.b64encode(
                f"{self.credentials.get('username', '')}:{self.credentials.get('password', '')}".encode()
            ).decode()
            ok = (
                request.header("dhl-api-key") == self.credentials.get("api_key")
                and request.header("Authorization") == f"Basic {basic}"
            )
        if not ok or self.token_expired_now(request):
            return Reply(
                401,
                {"title": "Unauthorized", "statusCode": 401, "detail": "Unauthorized for given resource."},
                content_type=PROBLEM_JSON,
            )
        return None

    def error_reply(self, status: int, message: str) -> Reply:
        return Reply(status, {"title": message, "statusCode": status, "detail": message}, content_type=PROBLEM_JSON)

    # -- routes ------------------------------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        if request.path in (f"{SHIPPING}/", SHIPPING):
            return Reply(200, _fixture("getversion__getVersionSuccess.json"))
        if request.path == f"{SHIPPING}/orders":
            if request.method == "POST":
                return self.create(request)
            if request.method == "DELETE":
                return self.delete(request)
            if request.method == "GET":
                return self.documents(request)
        if request.path == f"{SHIPPING}/manifests" and request.method == "POST":
            return self.manifest(request)
        if request.path == "/track/shipments" and request.method == "GET":
            return self.tracking(request)
        return self.error_reply(404, "Not Found")

    def create(self, request: Request) -> Reply:
        body = request.json() or {}
        shipments = body.get("shipments") or []
        if not shipments or not body.get("profile"):
            return self.error_reply(400, "Bad Request")
        validate = request.param("validate") == "true"
        doc_format = request.param("docFormat", "PDF")
        partial = len(shipments) > 1 and not validate and self.partial_now(request)
        items: list[dict[str, Any]] = []
        for index, shipment in enumerate(shipments):
            weight = (shipment.get("details") or {}).get("weight") or {}
            grams = grams_from(float(weight.get("value") or 0), str(weight.get("uom") or "g"))
            consignee = shipment.get("consignee") or {}
            if grams > MAX_GRAMS or grams <= 0:
                items.append(
                    {
                        "sstatus": {"title": "Bad Request", "statusCode": 400},
                        "validationMessages": [
                            {
                                "property": "dimension.weight",
                                "validationMessage": "The weight is too high" if grams > 0 else "The weight is too low",
                                "validationState": "Error",
                            }
                        ],
                    }
                )
            elif consignee.get("postalCode") == BAD_POSTAL_CODE:
                name = (
                    "validateshipment__singleShipmentValidationWarning.json"
                    if validate
                    else "createshipment__singleShipmentValidationError.json"
                )
                items.append(_fixture(name)["items"][0])
            elif validate:
                items.append(
                    _fixture("validateshipment__singleShipmentSuccess.json")["items"][0] | {"sequenceNumber": index + 1}
                )
            elif partial and index == len(shipments) - 1:
                items.append(_fixture("createshipment__multiShipmentPartialError.json")["items"][1])
            else:
                items.append(self._created(shipment, doc_format))
        ok = sum(1 for item in items if (item.get("sstatus") or {}).get("statusCode") in (200,))
        verb = "validated OK" if validate else "successfully created"
        return self._summary(items, ok, verb)

    def _created(self, shipment: dict[str, Any], doc_format: str) -> dict[str, Any]:
        number = f"003404343330101{next(self.serial):010d}"
        consignee = shipment.get("consignee") or {}
        lines = [
            "DHL Paket",
            number,
            str(consignee.get("name1", "")),
            f"{consignee.get('postalCode', '')} {consignee.get('city', '')}",
        ]
        self.parcels[number] = {
            "state": "created",
            "product": shipment.get("product"),
            "ref": shipment.get("refNo", ""),
            "events": [],
            "labels": 1,
        }
        item = _fixture("createshipment__singleShipmentSuccess.json")["items"][0]
        item["shipmentNo"] = number
        item["label"] = self._document(number, lines, doc_format)
        return item

    def _document(self, number: str, lines: list[str], doc_format: str) -> dict[str, Any]:
        if doc_format == "ZPL2":
            return {"zpl2": zpl_label(lines, number), "fileFormat": "ZPL2", "printFormat": "910-300-710"}
        pdf = base64.b64encode(pdf_label(lines)).decode()
        return {"b64": pdf, "fileFormat": "PDF", "printFormat": "910-300-710"}

    def delete(self, request: Request) -> Reply:
        numbers = request.params("shipment")
        if not numbers or not request.param("profile"):
            return self.error_reply(400, "Bad Request")
        partial = len(numbers) > 1 and self.partial_now(request)
        unknown = _fixture("cancelshipment__singleShipmentError.json")["items"][0]["sstatus"]
        items: list[dict[str, Any]] = []
        for index, number in enumerate(numbers):
            parcel = self.parcels.get(number)
            if parcel is None or parcel["state"] != "created" or (partial and index == len(numbers) - 1):
                status = dict(unknown)
                if parcel is not None and parcel["state"] in ("handed_over", "manifested"):
                    status["detail"] = "Shipment is already manifested and cannot be canceled."
                items.append({"shipmentNo": number, "sstatus": status})
            else:
                parcel["state"] = "cancelled"
                items.append({"shipmentNo": number, "sstatus": {"title": "OK", "statusCode": 200}})
        ok = sum(1 for item in items if item["sstatus"]["statusCode"] == 200)
        return self._summary(items, ok, "successfully canceled")

    def manifest(self, request: Request) -> Reply:
        """The close-out: each created shipment becomes manifested (no cancel, no reprint afterwards); one closed
        already, cancelled or unknown is refused per item, as DHL answers a repeated close-out."""
        body = request.json() or {}
        numbers = [str(n) for n in body.get("shipmentNumbers") or []]
        if not body.get("profile") or not numbers:
            return self.error_reply(400, "Bad Request")
        items: list[dict[str, Any]] = []
        for number in numbers:
            parcel = self.parcels.get(number)
            if parcel is not None and parcel["state"] == "created":
                parcel["state"] = "manifested"
                items.append({"shipmentNo": number, "sstatus": {"title": "OK", "statusCode": 200}})
            else:
                why = "Shipment is already manifested." if parcel is not None else "Unknown shipment number."
                items.append({"shipmentNo": number, "sstatus": {"title": "Bad Request", "statusCode": 400,
                                                                 "detail": why}})  # fmt: skip
        ok = sum(1 for item in items if item["sstatus"]["statusCode"] == 200)
        status = {"title": "Multi-Status", "statusCode": 207, "detail": f"{ok} of {len(items)} shipments manifested."}
        return Reply(207, {"status": status, "items": items})

    def documents(self, request: Request) -> Reply:
        items: list[dict[str, Any]] = []
        for number in request.params("shipment"):
            parcel = self.parcels.get(number)
            if parcel is None or parcel["state"] != "created":
                items.append(
                    {
                        "shipmentNo": number,
                        "sstatus": _fixture("cancelshipment__singleShipmentError.json")["items"][0]["sstatus"],
                    }
                )
                continue
            parcel["labels"] += 1
            items.append(
                {
                    "shipmentNo": number,
                    "sstatus": {"title": "OK", "statusCode": 200},
                    "label": self._document(
                        number, ["DHL Paket", number, "reprint"], request.param("docFormat", "PDF")
                    ),
                }
            )
        ok = sum(1 for item in items if item["sstatus"]["statusCode"] == 200)
        return self._summary(items, ok, "successfully retrieved")

    def _summary(self, items: list[dict[str, Any]], ok: int, verb: str) -> Reply:
        total = len(items)
        noun = "shipment" if total == 1 else "shipments"
        status: dict[str, Any]
        if ok == total and total == 1:
            status = {"title": "OK", "statusCode": 200}
        elif total > 1:
            status = {"title": "Multi-Status", "statusCode": 207}
        else:
            status = {"title": "Bad Request", "statusCode": 400}
        status["detail"] = f"{ok} of {total} {noun} {verb}."
        if ok == 0 and total > 1:
            status = {"title": "Bad Request", "statusCode": 400, "detail": status["detail"]}
        return Reply(int(status["statusCode"]), {"status": status, "items": items}, content_type="application/json")

    # -- tracking ----------------------------------------------------------------------------------------------------

    def tracking(self, request: Request) -> Reply:
        number = request.param("trackingNumber")
        parcel = self.parcels.get(number)
        if parcel is None or not parcel["events"]:
            return Reply(
                404,
                {"title": "No result found", "status": 404, "detail": "No shipment with given tracking number found."},
                content_type=PROBLEM_JSON,
            )
        events = sorted(parcel["events"], key=lambda e: e["timestamp"], reverse=True)  # DHL lists the newest first
        return Reply(
            200, {"shipments": [{"id": number, "service": "parcel-de", "status": events[0], "events": events}]}
        )

    def fixture_events(self, tracking_number: str) -> list[dict[str, Any]]:
        """The official fixture's journey, oldest first, moved from April 2024 to now: the pickup (the first event
        after the pre-transit label data) happens at the moment of the scan, and every other event keeps its place
        and spacing around it (the label data hours before, delivery about 17 hours after). The alarms and the SLO
        figures then see a hand-off of today, never of 2024. The fixture files themselves are untouched."""
        shipment = _fixture("tracking__unified_delivered.json")["shipments"][0]
        return shifted_to(list(reversed(shipment["events"])), self.clock())

    def own_ledger(self) -> dict[str, Any]:
        return {"now": dt.datetime.now(dt.UTC).isoformat()}
