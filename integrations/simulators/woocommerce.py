"""A WooCommerce REST v3 simulator: orders with `page`/`per_page` (≤ 100) and `X-WP-Total`/`X-WP-TotalPages`
(+ `Link`), `modified_after`, order updates, order notes, product and variation stock, HTTP Basic auth with the
consumer key/secret (or the query-string variant), WP error bodies, and signed `order.created|updated` webhooks with
WooCommerce's `X-WC-Webhook-*` headers."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import itertools
import math
import re
import uuid
from typing import Any

import requests

from integrations.simulators.base import Reply, Request, Simulator, sign, utcnow

_PATH = re.compile(r"^/wp-json/wc/v3/(?P<resource>.+?)/?$")


class WooCommerceSimulator(Simulator):
    platform = "woocommerce"

    def __init__(
        self,
        *,
        consumer_key: str = "ck_simulator",
        consumer_secret: str = "cs_simulator",  # noqa: S107 - a fake platform's test secret
        site_url: str = "https://woo.example",
        webhook_id: int = 7,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.site_url = site_url
        self.webhook_id = webhook_id
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.stock: dict[str, dict[str, Any]] = {}
        self.order_updates: list[dict[str, Any]] = []
        self._note_ids = itertools.count(281)

    def configure(self, **options: Any) -> None:
        super().configure(**options)
        with self.lock:
            for name in ("consumer_key", "consumer_secret", "site_url"):
                if name in options:
                    setattr(self, name, options[name])

    def platform_ledger(self) -> dict[str, Any]:
        return {
            "notes": {str(k): v for k, v in self.notes.items()},
            "stock": list(self.stock.values()),
            "order_updates": self.order_updates,
        }

    # -- auth and errors -------------------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Reply | None:
        key, secret = request.param("consumer_key"), request.param("consumer_secret")
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return self.unauthorized()
        if key != self.consumer_key or secret != self.consumer_secret:
            return self.unauthorized()
        return None

    def unauthorized(self) -> Reply:
        return self.error_reply(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")

    def error_reply(self, status: int, code: str, message: str) -> Reply:
        return Reply(status, {"code": code, "message": message, "data": {"status": status}})

    # -- orders ----------------------------------------------------------------------------------------------------

    def topic(self, event: str) -> str:
        return "order.created" if event == "create" else "order.updated"

    def build_order(self, order_id: int, data: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        now = utcnow()
        order: dict[str, Any] = existing.copy() if existing else _new_order(order_id, now)
        order.update({k: v for k, v in data.items() if k not in ("id", "line_items")})
        if "line_items" in data or not existing:
            order["line_items"] = [
                {
                    "id": order_id * 100 + n,
                    "name": line.get("name", line.get("sku", "Item")),
                    "product_id": int(line.get("product_id", 93)),
                    "variation_id": int(line.get("variation_id", 0)),
                    "quantity": int(line.get("quantity", 1)),
                    "sku": line.get("sku", "TEE-BLK-M"),
                    "price": float(line.get("price", 10)),
                    "total": f"{float(line.get('price', 10)) * int(line.get('quantity', 1)):.2f}",
                    "meta_data": [],
                }
                for n, line in enumerate(data.get("line_items") or [{"sku": "TEE-BLK-M", "quantity": 1}], start=1)
            ]
        if not data.get("date_modified_gmt"):
            previous = dt.datetime.fromisoformat(existing["date_modified_gmt"]) if existing else None
            stamp = now.replace(tzinfo=None)
            if previous is not None and stamp <= previous:
                stamp = previous + dt.timedelta(seconds=1)
            _set_modified(order, stamp)
        return order

    # -- routes ----------------------------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        match = _PATH.match(request.path)
        if not match:
            return self._no_route()
        parts, method = match["resource"].split("/"), request.method
        if parts == ["orders"] and method == "GET":
            return self._list_orders(request)
        if parts[0] == "orders" and len(parts) >= 2:
            try:
                order_id = int(parts[1])
            except ValueError:
                return self._no_route()
            order = self.orders.get(order_id)
            if order is None:
                return self.error_reply(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            if len(parts) == 2 and method == "GET":
                return Reply(200, order)
            if len(parts) == 2 and method in ("PUT", "POST", "PATCH"):
                return self._update_order(order, request)
            if parts[2:] == ["notes"] and method == "GET":
                return Reply(200, self.notes.get(order_id, []))
            if parts[2:] == ["notes"] and method == "POST":
                return self._add_note(order_id, request)
            return self._no_route()
        if parts[0] == "products" and method in ("PUT", "POST") and len(parts) in (2, 4):
            return self._update_stock(parts, request)
        return self._no_route()

    def _no_route(self) -> Reply:
        return self.error_reply(404, "rest_no_route", "No route was found matching the URL and request method.")

    def _list_orders(self, request: Request) -> Reply:
        try:
            page = int(request.param("page", "1"))
            per_page = int(request.param("per_page", "10"))
        except ValueError:
            return self.error_reply(400, "rest_invalid_param", "Invalid parameter(s): page")
        if not 1 <= per_page <= 100 or page < 1:
            return self.error_reply(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        orders = sorted(self.orders.values(), key=lambda o: int(o["id"]))
        if request.param("order", "desc") == "desc":
            orders.reverse()
        modified_after = request.param("modified_after")
        if modified_after:
            since = dt.datetime.fromisoformat(modified_after.replace("Z", "+00:00")).replace(tzinfo=None)
            orders = [o for o in orders if dt.datetime.fromisoformat(o["date_modified_gmt"]) > since]
        status = request.param("status", "any")
        if status != "any":
            orders = [o for o in orders if o["status"] in status.split(",")]
        total = len(orders)
        pages = math.ceil(total / per_page) if total else 0
        chunk = orders[(page - 1) * per_page : page * per_page]
        base = f"{request.base_url}/wp-json/wc/v3/orders"
        query = "&".join(f"{k}={v[0]}" for k, v in request.query.items() if k != "page")
        links = []
        if page < pages:
            links.append(f'<{base}?{query}&page={page + 1}>; rel="next"')
        if page > 1:
            links.append(f'<{base}?{query}&page={page - 1}>; rel="prev"')
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if links:
            headers["Link"] = ", ".join(links)
        return Reply(200, chunk, headers)

    def _update_order(self, order: dict[str, Any], request: Request) -> Reply:
        data = request.json() or {}
        status = data.get("status")
        allowed = {"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"}
        if status is not None and status not in allowed:
            return self.error_reply(400, "rest_invalid_param", "Invalid parameter(s): status")
        if status:
            order["status"] = status
            if status == "completed":
                order["date_completed"] = order["date_completed_gmt"] = utcnow().replace(tzinfo=None).isoformat()
        _set_modified(order, utcnow().replace(tzinfo=None))
        self.order_updates.append({"order_id": order["id"], "changes": data})
        return Reply(200, order)

    def _add_note(self, order_id: int, request: Request) -> Reply:
        data = request.json() or {}
        if not str(data.get("note") or "").strip():
            return self.error_reply(400, "rest_missing_callback_param", "Missing parameter(s): note")
        now = utcnow().replace(tzinfo=None).isoformat()
        note = {
            "id": next(self._note_ids),
            "author": "system",
            "date_created": now,
            "date_created_gmt": now,
            "note": str(data["note"]),
            "customer_note": bool(data.get("customer_note", False)),
        }
        self.notes.setdefault(order_id, []).append(note)
        return Reply(201, note)

    def _update_stock(self, parts: list[str], request: Request) -> Reply:
        data = request.json() or {}
        try:
            product_id = int(parts[1])
            variation_id = int(parts[3]) if len(parts) == 4 else 0
            quantity = int(data["stock_quantity"])
        except (KeyError, TypeError, ValueError):
            return self.error_reply(400, "rest_invalid_param", "Invalid parameter(s): stock_quantity")
        if len(parts) == 4 and parts[2] != "variations":
            return self._no_route()
        key = f"{product_id}:{variation_id}"
        item = {
            "id": variation_id or product_id,
            "product_id": product_id,
            "variation_id": variation_id,
            "manage_stock": bool(data.get("manage_stock", True)),
            "stock_quantity": quantity,
            "stock_status": "instock" if quantity > 0 else "outofstock",
        }
        self.stock[key] = item
        return Reply(200, item)

    # -- webhooks --------------------------------------------------------------------------------------------------

    def webhook_headers(self, topic: str, body: bytes, payload: dict[str, Any]) -> dict[str, str]:
        resource, _, event = topic.partition(".")
        return {
            "Content-Type": "application/json",
            "User-Agent": "WooCommerce/9.4.0 Hookshot (WordPress/6.7)",
            "X-WC-Webhook-Source": self.site_url.rstrip("/") + "/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": sign(body, self.secret),
            "X-WC-Webhook-ID": str(self.webhook_id),
            "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex,
        }

    def ping(self) -> int | None:
        """What WooCommerce sends when a webhook is created: a form body `webhook_id=<id>`, unsigned. The endpoint
        must answer 200 or the webhook is not activated. Returns the hub's status."""
        body = f"webhook_id={self.webhook_id}".encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "WooCommerce/9.4.0 Hookshot"}
        try:
            status: int | None = requests.post(self.hub_url, data=body, headers=headers, timeout=(1, 5)).status_code
        except requests.RequestException:
            status = None
        self._log_webhook({}, "ping", 0, status, "ping")
        return status

    def control(self, request: Request) -> Reply:
        if request.path == "/_sim/ping" and request.method == "POST":
            return Reply(200, {"status": self.ping()})
        return super().control(request)

    def delivery_id(self, headers: dict[str, str]) -> str:
        return headers.get("X-WC-Webhook-Delivery-ID", "")


def _set_modified(order: dict[str, Any], stamp: dt.datetime) -> None:
    order["date_modified"] = order["date_modified_gmt"] = stamp.isoformat()


def _new_order(order_id: int, now: dt.datetime) -> dict[str, Any]:
    stamp = now.replace(tzinfo=None).isoformat()
    return {
        "id": order_id,
        "parent_id": 0,
        "number": str(order_id),
        "order_key": f"wc_order_{uuid.uuid4().hex[:13]}",
        "created_via": "checkout",
        "status": "processing",
        "currency": "EUR",
        "date_created": stamp,
        "date_created_gmt": stamp,
        "date_modified": stamp,
        "date_modified_gmt": stamp,
        "date_paid": stamp,
        "date_paid_gmt": stamp,
        "date_completed": None,
        "date_completed_gmt": None,
        "total": "10.00",
        "customer_id": 0,
        "customer_note": "",
        "billing": {"first_name": "Ana", "last_name": "Garcia", "email": "ana@example.com", "phone": "+34600000000"},
        "shipping": {
            "first_name": "Ana",
            "last_name": "Garcia",
            "address_1": "Carrer de la Pau 3",
            "address_2": "",
            "city": "Valencia",
            "state": "V",
            "postcode": "46002",
            "country": "ES",
            "phone": "+34600000000",
        },
        "payment_method": "bacs",
        "line_items": [],
        "meta_data": [],
    }
