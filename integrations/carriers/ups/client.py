"""UPS over the shared HTTP client: OAuth client credentials (`OAuthClientCredentials.yaml`), Shipping and Label
Recovery (`Shipping.yaml`), Tracking (`Tracking.yaml`) and Track Alert subscriptions (`UPSTrackAlert.yaml`). Pure
HTTP: no Django, no database.

The bearer token is fetched with the app's client id and secret (HTTP Basic, form `grant_type=client_credentials`),
kept until shortly before `expires_in` runs out, and fetched again once when UPS answers 401 to a call made with it
(an expired or revoked token); a second 401 is `AuthExpired` for the kit to pause on. UPS answers a refused request
400 with `{"response": {"errors": [{"code", "message"}]}}`: that becomes `CarrierRejected` with those messages."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Sequence
from typing import Any

from integrations.carriers.errors import CarrierProblem, CarrierRejected
from integrations.http import AuthExpired, HttpClient, PermanentError, Response

TOKEN_PATH = "/security/v1/oauth/token"
SHIP_VERSION = "v2409"
TOKEN_SKEW_SECONDS = 60.0  # a token this close to its end is replaced before use


class UpsClient:
    def __init__(
        self,
        http: HttpClient,
        token_http: HttpClient,
        *,
        account_number: str = "",
        transaction_source: str = "warehouse-hub",
        carrier_name: str = "UPS",
    ) -> None:
        self.http = http  # the API: no static auth; each call carries the current bearer token
        self.token_http = token_http  # the token endpoint: HTTP Basic with the client id and secret
        self.account_number = account_number
        self.transaction_source = transaction_source
        self.carrier_name = carrier_name
        self._lock = threading.Lock()
        self._token = ""
        self._expires_at = 0.0
        self.tokens_fetched = 0

    # -- tokens --------------------------------------------------------------------------------------------------------

    def token(self, *, renew: bool = False) -> str:
        """The current bearer token, fetched when there is none, it is about to expire, or `renew`."""
        with self._lock:
            if renew or not self._token or self.http.clock() >= self._expires_at:
                headers = {"x-merchant-id": self.account_number} if self.account_number else None
                answer = self.token_http.post(TOKEN_PATH, form={"grant_type": "client_credentials"}, headers=headers)
                body = answer.json() or {}
                self._token = str(body.get("access_token") or "")
                if self._token and self._token not in self.http.secrets:
                    self.http.secrets.append(self._token)
                lifetime = float(body.get("expires_in") or 0)
                self._expires_at = self.http.clock() + max(lifetime - TOKEN_SKEW_SECONDS, 0.0)
                self.tokens_fetched += 1
            return self._token

    def call(self, method: str, path: str, **kwargs: Any) -> Response:
        """One API call with the bearer token; on 401 the token is renewed and the call sent once more."""
        token = self.token()
        try:
            return self.http.request(method, path, headers=self._headers(token), **kwargs)
        except AuthExpired:
            token = self.token(renew=True)
            return self.http.request(method, path, headers=self._headers(token), **kwargs)

    def _headers(self, token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {token}",
            "transId": uuid.uuid4().hex,  # 32 characters, unique per request (the spec's transId)
            "transactionSrc": self.transaction_source,
        }

    # -- shipping ------------------------------------------------------------------------------------------------------

    def ship(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self._refusing(lambda: self.call("POST", f"/api/shipments/{SHIP_VERSION}/ship", json_body=payload))

    def void(self, shipment_number: str, tracking_numbers: Sequence[str] = ()) -> dict[str, Any]:
        params = {"trackingnumber": json.dumps(list(tracking_numbers))} if tracking_numbers else None
        return self._refusing(
            lambda: self.call("DELETE", f"/api/shipments/{SHIP_VERSION}/void/cancel/{shipment_number}", params=params)
        )

    def recover_label(self, tracking_number: str, image_format: str) -> dict[str, Any]:
        payload = {
            "LabelRecoveryRequest": {
                "Request": {"SubVersion": "1903", "RequestOption": "Non_Validate"},
                "LabelSpecification": {
                    "HTTPUserAgent": "Mozilla/4.5",
                    "LabelImageFormat": {"Code": image_format},
                    "LabelStockSize": {"Height": "6", "Width": "4"},
                },
                "TrackingNumber": tracking_number,
            }
        }
        # A recovery changes nothing at UPS: safe to retry like a read.
        return self._refusing(lambda: self.call("POST", "/api/labels/v1/recovery", json_body=payload, idempotent=True))

    # -- tracking ------------------------------------------------------------------------------------------------------

    def track(self, inquiry_number: str) -> dict[str, Any] | None:
        try:
            answer = self.call("GET", f"/api/track/v1/details/{inquiry_number}", params={"locale": "en_US"})
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        body = answer.json()
        return body if isinstance(body, dict) else None

    def subscribe(self, tracking_numbers: Sequence[str], *, locale: str = "en_US") -> dict[str, Any]:
        payload = {"locale": locale, "trackingNumberList": list(tracking_numbers)}
        try:
            answer = self.call(
                "POST", "/api/track/v2/subscription/standard/package", json_body=payload, idempotent=True
            )
        except PermanentError as exc:
            body = _json(exc.body)
            if exc.status == 400 and body is not None and "invalidTrackingNumbers" in body and not body.get("response"):
                return body
            raise self._rejected(exc) from None
        return answer.json() or {}

    # -- plumbing ------------------------------------------------------------------------------------------------------

    def _refusing(self, send: Any) -> dict[str, Any]:
        try:
            answer: Response = send()
        except PermanentError as exc:
            raise self._rejected(exc) from None
        return answer.json() or {}

    def _rejected(self, exc: PermanentError) -> CarrierRejected:
        body = _json(exc.body) or {}
        errors = ((body.get("response") or {}).get("errors")) or []
        problems = [CarrierProblem(str(e.get("message") or ""), code=str(e.get("code") or "")) for e in errors]
        return CarrierRejected(self.carrier_name, problems or [CarrierProblem(f"HTTP {exc.status}")], status=exc.status)


def _json(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
