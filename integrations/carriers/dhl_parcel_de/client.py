"""DHL Parcel DE Shipping API v2 (official OpenAPI 2.1.6) and DHL's shipment tracking, over the shared HTTP client.
Pure HTTP: no Django, no database. Auth is static (`dhl-api-key` header + HTTP Basic with the business customer's
user), so there is no token to refresh: a 401 is `AuthExpired` for the kit to pause on.

DHL answers a refused request with HTTP 400 and the per-shipment details in the body (`LabelDataResponse`): the
client hands those bodies back as an `Answer` rather than an error, so the connector can read each shipment's
messages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from integrations.http import HttpClient, PermanentError

SHIPPING = "/parcel/de/shipping/v2"
TRACKING = "/track/shipments"
# Answers whose body is a `LabelDataResponse` with per-shipment details (200 single, 207 multi, 400 refused).
DETAILED = frozenset({200, 207, 400})


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


class DhlParcelDeClient:
    def __init__(
        self,
        http: HttpClient,
        *,
        tracking_api_key: str = "",
        account: dict[str, str] | None = None,
        language: str = "en-US",
    ) -> None:
        self.http = http
        self.account = account or {}  # ekp, participation, profile: billing numbers and the user group, per call
        self.tracking_api_key = tracking_api_key
        self.language = language

    # -- shipping ------------------------------------------------------------------------------------------------------

    def create_orders(self, payload: dict[str, Any], *, doc_format: str, validate: bool = False) -> Answer:
        """POST /orders: create (or, with `validate`, dry-run) up to 30 shipments. `mustEncode` is always on: a label
        for an address DHL cannot route is never printed."""
        params = {"mustEncode": "true", "includeDocs": "include", "docFormat": doc_format, "combine": "true"}
        if validate:
            params["validate"] = "true"
        return self._detailed("POST", f"{SHIPPING}/orders", params=params, json_body=payload)

    def delete_orders(self, *, profile: str, shipment_numbers: Sequence[str]) -> Answer:
        """DELETE /orders: cancel shipments not yet manifested."""
        return self._detailed(
            "DELETE", f"{SHIPPING}/orders", params={"profile": profile, "shipment": list(shipment_numbers)}
        )

    def get_orders(self, *, shipment_numbers: Sequence[str], doc_format: str) -> Answer:
        """GET /orders: the documents of existing shipments again (a reprint)."""
        return self._detailed(
            "GET",
            f"{SHIPPING}/orders",
            params={"shipment": list(shipment_numbers), "docFormat": doc_format, "includeDocs": "include"},
        )

    def close_manifest(self, *, profile: str, shipment_numbers: Sequence[str]) -> Answer:
        """POST /manifests: close these shipments out now (the day's manifest); they can no longer be cancelled."""
        body = {"profile": profile, "shipmentNumbers": list(shipment_numbers)}
        return self._detailed("POST", f"{SHIPPING}/manifests", json_body=body)

    def version(self) -> dict[str, Any]:
        return self.http.get(f"{SHIPPING}/").json() or {}

    # -- tracking ------------------------------------------------------------------------------------------------------

    def track(self, tracking_number: str) -> dict[str, Any] | None:
        """The tracking document of one parcel; None when DHL knows no event for it yet (404)."""
        headers = {"DHL-API-Key": self.tracking_api_key} if self.tracking_api_key else None
        try:
            answer = self.http.get(
                TRACKING, params={"trackingNumber": tracking_number, "service": "parcel-de"}, headers=headers
            )
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        body = answer.json()
        return body if isinstance(body, dict) else None

    # -- plumbing ------------------------------------------------------------------------------------------------------

    def _detailed(self, method: str, path: str, **kwargs: Any) -> Answer:
        headers = {"Accept-Language": self.language}
        try:
            response = self.http.request(method, path, headers=headers, **kwargs)
        except PermanentError as exc:
            body = _json(exc.body)
            if exc.status in DETAILED and body is not None:
                return Answer(exc.status, body)
            raise
        return Answer(response.status, response.json() or {})


def _json(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
