"""A BigCommerce simulator, under `/stores/{store_hash}` with `X-Auth-Token` auth:

- V2 orders: `GET /v2/orders` (`page`, `limit` ≤ 250, `min_date_modified`/`max_date_modified` in RFC 2822 or ISO
  8601, `min_id`, `status_id`, `sort`; a bare array, 204 past the last page), `GET|PUT /v2/orders/{id}` (the order
  links to its sub-resources), `GET /v2/orders/{id}/products|shipping_addresses|shipments` (204 when empty);
  V2 errors as `[{"status", "message"}]`;
- shipments: `POST /v2/orders/{id}/shipments` (201; `order_address_id` and `items` required, quantities checked
  against what is left, tracking number ≤ 50 characters; no idempotency, like BigCommerce: the same POST twice ships
  twice what is left), `GET|PUT /v2/orders/{id}/shipments/{sid}`; shipping moves the order to Shipped (2) or
  Partially Shipped (3);
- V3 inventory: `PUT /v3/inventory/adjustments/absolute` (≤ 2000 items by `variant_id` or `sku` at a
  `location_id`; a variant the store lacks is created as if in the admin) and `GET /v3/inventory/items`
  (`variant_id:in`, `sku:in`, `location_id:in`, paged with `meta.pagination`);
- V3 webhooks: `GET|POST /v3/hooks`, `GET|PUT|DELETE /v3/hooks/{id}` (one hook per scope and destination; an HTTPS
  destination, or loopback for tests and the demo);
- the rate-limit window (`X-Rate-Limit-Requests-Quota/-Left/-Time-Window-Ms/-Time-Reset-Ms` on every answer, 429
  when the quota is spent; the injected 429 names its wait in `X-Rate-Limit-Time-Reset-Ms`, without `Retry-After`);
- thin `store/order/created|updated` webhooks (`scope`, `store_id`, `data`, `hash`, `created_at`, `producer`) signed
  with Standard Webhooks headers by the app's client secret.

Orders are kept as the connector assembles them (the V2 order with `products` and `shipping_addresses` as lists);
`upsert_order` takes the kit's `line_items` (or `products`) of `{"sku", "quantity"}`."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import itertools
import json
import math
import re
import time
import uuid
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from integrations.platforms.bigcommerce.events import standard_signature
from integrations.platforms.simulator_kit import Reply, Request, Simulator, utcnow

_PATH = re.compile(r"^/stores/(?P<store>[^/]+)/(?P<version>v2|v3)/(?P<resource>.+?)/?$")
V2_MAX_LIMIT = 250
ADJUST_MAX = 2000
TRACKING_MAX = 50
STATUS_NAMES = {
    0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded", 5: "Cancelled",
    6: "Declined", 7: "Awaiting Payment", 8: "Awaiting Pickup", 9: "Awaiting Shipment", 10: "Completed",
    11: "Awaiting Fulfillment", 12: "Manual Verification Required", 13: "Disputed", 14: "Partially Refunded",
}  # fmt: skip
V3_ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"


def rfc2822(stamp: dt.datetime) -> str:
    """`Tue, 05 Mar 2019 21:40:11 +0000`, as the V2 API writes dates."""
    return format_datetime(stamp.astimezone(dt.UTC).replace(microsecond=0))


def _parse_date(value: str) -> dt.datetime | None:
    """What V2 accepts for a date filter: RFC 2822 or ISO 8601."""
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class BigCommerceSimulator(Simulator):
    platform = "bigcommerce"

    def __init__(
        self,
        *,
        access_token: str = "bcsimulatoraccesstoken000000001",  # noqa: S107 - a fake platform's test token
        client_id: str = "bcsimulatorclientid000000000001",
        store_hash: str = "simstore01",
        store_id: str = "1025646",
        location_id: int = 1,
        requests_quota: int = 450,  # the Pro plan's 450 per 30 s: a test's bursts stay inside it
        window_ms: int = 30_000,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.access_token = access_token
        self.client_id = client_id
        self.store_hash = store_hash
        self.store_id = store_id
        self.location_id = location_id
        self.locations = {location_id}
        self.requests_quota = requests_quota
        self.window_ms = window_ms
        self._window_started = time.monotonic()
        self._window_used = 0
        self.shipments: dict[int, list[dict[str, Any]]] = {}
        self.catalog: dict[int, dict[str, Any]] = {}  # variant id → {"variant_id", "product_id", "sku"}
        self.inventory: dict[tuple[int, int], int] = {}  # (variant id, location id) → on hand
        self.adjustments: list[dict[str, Any]] = []
        self._shipment_ids = itertools.count(11)
        self._variant_ids = itertools.count(7001)
        self._product_ids = itertools.count(3001)

    def configure(self, **options: Any) -> None:
        super().configure(**options)
        with self.lock:
            for name in ("access_token", "client_id", "store_hash", "requests_quota", "window_ms"):
                if name in options:
                    setattr(self, name, options[name])

    def platform_ledger(self) -> dict[str, Any]:
        return {
            "shipments": [s for found in self.shipments.values() for s in found],
            "inventory": [
                {"variant_id": vid, "location_id": loc, "on_hand": qty} for (vid, loc), qty in self.inventory.items()
            ],
            "adjustments": self.adjustments,
        }

    # -- rate limits, auth, errors ---------------------------------------------------------------------------------

    def _window(self) -> tuple[int, int]:
        """(requests left, ms until the window resets), starting a new window when the last one ended."""
        now = time.monotonic()
        elapsed_ms = (now - self._window_started) * 1000
        if elapsed_ms >= self.window_ms:
            self._window_started, self._window_used, elapsed_ms = now, 0, 0.0
        return max(self.requests_quota - self._window_used, 0), max(int(self.window_ms - elapsed_ms), 0)

    def throttle(self) -> Reply | None:
        with self.lock:
            left, reset_ms = self._window()
            if left <= 0:
                return self.rate_limited(reset_ms)
            self._window_used += 1
        return None

    def rate_limited(self, reset_ms: int) -> Reply:
        reply = self.error_reply(429, "", "Too many requests")
        reply.headers.update(
            {
                "X-Rate-Limit-Requests-Quota": str(self.requests_quota),
                "X-Rate-Limit-Requests-Left": "0",
                "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
                "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
            }
        )
        return reply

    def extra_headers(self) -> dict[str, str]:
        with self.lock:
            left, reset_ms = self._window()
        return {
            "X-Rate-Limit-Requests-Quota": str(self.requests_quota),
            "X-Rate-Limit-Requests-Left": str(left),
            "X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
            "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
        }

    def fault_reply(self, fault: Any) -> Reply:
        if fault.mode == "429":  # BigCommerce names the wait in its own header, not in Retry-After
            return self.rate_limited(int(fault.retry_after * 1000))
        return super().fault_reply(fault)

    def authenticate(self, request: Request) -> Reply | None:
        if request.headers.get("X-Auth-Token") != self.access_token:
            return self.unauthorized()
        return None

    def unauthorized(self) -> Reply:
        return Reply(
            401,
            {
                "status": 401,
                "title": "Unauthorized - the v3 Auth client ID or token in the request are not a valid combination "
                "for this store.",
                "type": "/api-docs/getting-started/api-status-codes",
            },
        )

    def error_reply(self, status: int, code: str, message: str) -> Reply:
        return Reply(status, {"status": status, "title": message, "type": V3_ERROR_TYPE, "errors": {}})

    @staticmethod
    def v2_error(status: int, message: str) -> Reply:
        return Reply(status, [{"status": status, "message": message}])

    # -- orders ----------------------------------------------------------------------------------------------------

    def topic(self, event: str) -> str:
        return "store/order/created" if event == "create" else "store/order/updated"

    def build_order(self, order_id: int, data: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        now = utcnow()
        order: dict[str, Any] = copy.deepcopy(existing) if existing else _new_order(order_id, now)
        order.update({k: v for k, v in data.items() if k not in ("id", "line_items", "products")})
        lines = data.get("products") or data.get("line_items")
        if lines or not existing:
            address_id = order["shipping_addresses"][0]["id"]
            order["products"] = [
                _order_product(order_id, order_id * 100 + n, address_id, line)
                for n, line in enumerate(lines or [{"sku": "TEE-BLK-M", "quantity": 1}], start=1)
            ]
        order["items_total"] = sum(int(p["quantity"]) for p in order["products"])
        if "status_id" in data:
            order["status"] = order["custom_status"] = STATUS_NAMES.get(int(data["status_id"]), "Pending")
        if not data.get("date_modified"):
            _touch(order, previous=existing)
        return order

    def hold_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.shipments.setdefault(int(payload["id"]), [])
            return super().hold_order(payload)

    # -- webhooks --------------------------------------------------------------------------------------------------

    def webhook_body(self, topic: str, payload: dict[str, Any]) -> bytes:
        """The thin payload: the order's id only. `hash` is the event's (this version of the order under this
        scope), so the same event fired twice carries the same one."""
        event = hashlib.sha1(  # noqa: S324 - an event fingerprint as BigCommerce's 40-hex hash, not a security use
            topic.encode() + json.dumps(payload, sort_keys=True, default=str).encode()
        ).hexdigest()
        thin = {
            "scope": topic,
            "store_id": self.store_id,
            "data": {"type": "order", "id": int(payload["id"])},
            "hash": event,
            "created_at": int(time.time()),
            "producer": f"stores/{self.store_hash}",
        }
        return json.dumps(thin, separators=(",", ":")).encode()

    def webhook_headers(self, topic: str, body: bytes, payload: dict[str, Any]) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "User-Agent": "BigCommerce-Webhooks",
            **self.signature_headers(body, self.secret),
        }

    def signature_headers(self, body: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
        """A Standard Webhooks message id, timestamp and signature of `body` with `secret` (the app's client
        secret); `timestamp` (Unix seconds) defaults to now."""
        msg_id = f"msg_{uuid.uuid4().hex}"
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": stamp,
            "webhook-signature": standard_signature(msg_id=msg_id, timestamp=stamp, body=body, secret=secret),
        }

    def delivery_id(self, headers: dict[str, str]) -> str:
        return headers.get("webhook-id", "")

    # -- routes ----------------------------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        match = _PATH.match(request.path)
        if not match or match["store"] != self.store_hash:
            return self.error_reply(404, "", "Store not found")
        parts, method = match["resource"].split("/"), request.method
        if match["version"] == "v2":
            if parts[0] == "orders":
                return self._orders(parts, request)
            return self.v2_error(404, "The requested resource was not found.")
        if parts[:2] == ["inventory", "adjustments"] and parts[2:] == ["absolute"] and method == "PUT":
            return self._adjust_absolute(request)
        if parts == ["inventory", "items"] and method == "GET":
            return self._inventory_items(request)
        if parts[0] == "hooks":
            return self._hooks(parts, request)
        return self.error_reply(404, "", "Not Found")

    def _orders(self, parts: list[str], request: Request) -> Reply:
        method = request.method
        if parts == ["orders"] and method == "GET":
            return self._list_orders(request)
        if len(parts) < 2 or not parts[1].isdigit():
            return self.v2_error(404, "The requested resource was not found.")
        order = self.orders.get(int(parts[1]))
        if order is None:
            return self.v2_error(404, "The requested resource was not found.")
        order_id = int(order["id"])
        if len(parts) == 2 and method == "GET":
            return Reply(200, self._order_view(order, request))
        if len(parts) == 2 and method == "PUT":
            return self._update_order(order, request)
        sub = parts[2]
        if len(parts) == 3 and method == "GET" and sub in ("products", "shipping_addresses", "shipments"):
            items = self.shipments.get(order_id, []) if sub == "shipments" else order.get(sub) or []
            return self._v2_page(request, items, capped=False)
        if sub == "shipments" and len(parts) == 3 and method == "POST":
            return self._create_shipment(order, request)
        if sub == "shipments" and len(parts) == 4 and parts[3].isdigit():
            shipment = next((s for s in self.shipments.get(order_id, []) if s["id"] == int(parts[3])), None)
            if shipment is None:
                return self.v2_error(404, "The requested resource was not found.")
            if method == "GET":
                return Reply(200, shipment)
            if method == "PUT":
                return self._update_shipment(order, shipment, request)
        return self.v2_error(404, "The requested resource was not found.")

    def _order_view(self, order: dict[str, Any], request: Request) -> dict[str, Any]:
        """The V2 order as `GET /orders/{id}` answers: its sub-resources as links."""
        shown = {k: v for k, v in order.items() if k not in ("products", "shipping_addresses")}
        base = f"{request.base_url}/stores/{self.store_hash}/v2"
        for sub in ("products", "shipping_addresses", "coupons"):
            shown[sub] = {"url": f"{base}/orders/{order['id']}/{sub}", "resource": f"/orders/{order['id']}/{sub}"}
        return shown

    def _v2_page(self, request: Request, items: list[Any], *, capped: bool) -> Reply:
        """One page of a V2 collection (`page`, `limit` ≤ 250, default 50): a bare array, 204 when empty."""
        page, limit = request.param("page", "1"), request.param("limit", "50")
        if not page.isdigit() or not limit.isdigit() or int(page) < 1 or not 1 <= int(limit) <= V2_MAX_LIMIT:
            return self.v2_error(400, "The field 'page' or 'limit' is invalid.")
        size = self.page_size(int(limit)) if capped else int(limit)
        chosen = items[(int(page) - 1) * size : int(page) * size]
        return Reply(200, chosen) if chosen else Reply(204)

    def _list_orders(self, request: Request) -> Reply:
        orders = sorted(self.orders.values(), key=lambda o: int(o["id"]))
        for name, keep in (("min_date_modified", lambda a, b: a >= b), ("max_date_modified", lambda a, b: a <= b)):
            value = request.param(name)
            if value:
                bound = _parse_date(value)
                if bound is None:
                    return self.v2_error(400, f"The field '{name}' is invalid.")
                orders = [o for o in orders if keep(parsedate_to_datetime(o["date_modified"]), bound)]
        if request.param("min_id").isdigit():
            orders = [o for o in orders if int(o["id"]) >= int(request.param("min_id"))]
        if request.param("status_id").isdigit():
            orders = [o for o in orders if int(o["status_id"]) == int(request.param("status_id"))]
        if request.param("sort", "id:asc").endswith(":desc"):
            orders.reverse()
        return self._v2_page(request, [self._order_view(o, request) for o in orders], capped=True)

    def _update_order(self, order: dict[str, Any], request: Request) -> Reply:
        data = request.json() or {}
        if "status_id" in data:
            if int(data["status_id"]) not in STATUS_NAMES:
                return self.v2_error(400, "The field 'status_id' is invalid.")
            order["status_id"] = int(data["status_id"])
            order["status"] = order["custom_status"] = STATUS_NAMES[order["status_id"]]
        for name in ("staff_notes", "customer_message"):
            if name in data:
                order[name] = str(data[name])
        _touch(order, previous=order)
        return Reply(200, self._order_view(order, request))

    # -- shipments -------------------------------------------------------------------------------------------------

    def _create_shipment(self, order: dict[str, Any], request: Request) -> Reply:
        data = request.json() or {}
        address_id, items = data.get("order_address_id"), data.get("items")
        addresses = {int(a["id"]) for a in order.get("shipping_addresses") or []}
        if not isinstance(address_id, int) or address_id not in addresses:
            return self.v2_error(400, "The field 'order_address_id' is invalid.")
        if not isinstance(items, list) or not items:
            return self.v2_error(400, "The field 'items' is invalid.")
        tracking = str(data.get("tracking_number") or "")
        if len(tracking) > TRACKING_MAX:
            return self.v2_error(400, f"The field 'tracking_number' cannot exceed {TRACKING_MAX} characters.")
        products = {int(p["id"]): p for p in order.get("products") or []}
        for item in items:
            product = products.get(int(item.get("order_product_id") or 0)) if isinstance(item, dict) else None
            quantity = item.get("quantity") if isinstance(item, dict) else None
            if product is None or int(product.get("order_address_id") or 0) != address_id:
                return self.v2_error(400, "The field 'order_product_id' is invalid.")
            left = int(product["quantity"]) - int(product.get("quantity_shipped") or 0)
            if not isinstance(quantity, int) or not 0 < quantity <= left:
                return self.v2_error(400, f"The quantity of order product {product['id']} exceeds what is left.")
        for item in items:
            product = products[int(item["order_product_id"])]
            product["quantity_shipped"] = int(product.get("quantity_shipped") or 0) + int(item["quantity"])
        address = next(a for a in order["shipping_addresses"] if int(a["id"]) == address_id)
        shipment = {
            "id": next(self._shipment_ids),
            "order_id": order["id"],
            "customer_id": order.get("customer_id", 0),
            "order_address_id": address_id,
            "date_created": rfc2822(utcnow()),
            "tracking_number": tracking,
            "merchant_shipping_cost": "0.0000",
            "shipping_method": str(data.get("shipping_method") or "None"),
            "comments": str(data.get("comments") or ""),
            "shipping_provider": str(data.get("shipping_provider") or ""),
            "tracking_carrier": str(data.get("tracking_carrier") or ""),
            "tracking_link": str(data.get("tracking_link") or ""),
            "billing_address": {k: v for k, v in order["billing_address"].items() if k != "form_fields"},
            "shipping_address": {k: v for k, v in address.items() if k not in ("id", "order_id", "shipping_quotes")},
            "items": [
                {"order_product_id": int(i["order_product_id"]), "product_id": 0, "quantity": int(i["quantity"])}
                for i in items
            ],
        }
        self.shipments.setdefault(int(order["id"]), []).append(shipment)
        shipped = sum(int(p.get("quantity_shipped") or 0) for p in order["products"])
        order["items_shipped"] = shipped
        order["status_id"] = 2 if shipped >= order["items_total"] else 3
        order["status"] = order["custom_status"] = STATUS_NAMES[order["status_id"]]
        if order["status_id"] == 2:
            order["date_shipped"] = rfc2822(utcnow())
        _touch(order, previous=order)
        return Reply(201, shipment)

    def _update_shipment(self, order: dict[str, Any], shipment: dict[str, Any], request: Request) -> Reply:
        data = request.json() or {}
        if len(str(data.get("tracking_number") or "")) > TRACKING_MAX:
            return self.v2_error(400, f"The field 'tracking_number' cannot exceed {TRACKING_MAX} characters.")
        for name in ("tracking_number", "tracking_link", "shipping_provider", "tracking_carrier", "comments"):
            if name in data:
                shipment[name] = str(data[name] or "")
        _touch(order, previous=order)
        return Reply(200, shipment)

    # -- inventory -------------------------------------------------------------------------------------------------

    def _variant(self, *, variant_id: int | None = None, sku: str = "") -> dict[str, Any]:
        """The variant, created (as if in the admin) when a write names one the catalog lacks."""
        if variant_id is None:
            found = next((v for v in self.catalog.values() if sku and v["sku"] == sku), None)
            if found is not None:
                return found
            variant_id = next(self._variant_ids)
        if variant_id not in self.catalog:
            self.catalog[variant_id] = {"variant_id": variant_id, "product_id": next(self._product_ids), "sku": sku}
        return self.catalog[variant_id]

    def _adjust_absolute(self, request: Request) -> Reply:
        data = request.json() or {}
        items = data.get("items")
        if not isinstance(items, list) or not items:
            return self.problem(422, "JSON data is missing or invalid", {"items": "error.path.missing"})
        if len(items) > ADJUST_MAX:
            return self.problem(422, f"Items length must be at most {ADJUST_MAX}", {})
        planned: list[tuple[int, str, int, int]] = []  # (variant id or 0, sku, location, quantity): all or nothing
        for item in items:
            if not isinstance(item, dict):
                return self.problem(422, "JSON data is missing or invalid", {"items": "error.type"})
            location, quantity = item.get("location_id"), item.get("quantity")
            if not isinstance(location, int) or location not in self.locations:
                return self.problem(422, f"[Location with id {location} does not exist]", {})
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
                return self.problem(422, "JSON data is missing or invalid", {"quantity": "error.min"})
            variant_id, sku = item.get("variant_id"), item.get("sku")
            if isinstance(variant_id, int) and not isinstance(variant_id, bool) and variant_id > 0:
                planned.append((variant_id, "", location, quantity))
            elif isinstance(sku, str) and sku:
                planned.append((0, sku, location, quantity))
            else:
                return self.problem(422, "Items must name a variant_id or a sku", {})
        for variant_id, sku, location, quantity in planned:
            variant = self._variant(variant_id=variant_id or None, sku=sku)
            self.inventory[(variant["variant_id"], location)] = quantity
        transaction = str(uuid.uuid4())
        self.adjustments.append({"transaction_id": transaction, "reason": data.get("reason", ""), "items": items})
        return Reply(200, {"transaction_id": transaction})

    def _inventory_items(self, request: Request) -> Reply:
        def ids(name: str) -> set[int] | None:
            raw = request.param(name)
            return {int(x) for x in raw.split(",") if x.strip().isdigit()} if raw else None

        variants, locations = ids("variant_id:in"), ids("location_id:in")
        skus = set(request.param("sku:in").split(",")) if request.param("sku:in") else None
        rows: list[dict[str, Any]] = []
        for variant_id, variant in sorted(self.catalog.items()):
            if (variants is not None and variant_id not in variants) or (
                skus is not None and variant["sku"] not in skus
            ):
                continue
            at = [
                _location_row(loc, qty)
                for (vid, loc), qty in sorted(self.inventory.items())
                if vid == variant_id and (locations is None or loc in locations)
            ]
            if at:
                identity: dict[str, Any] = {"sku": variant["sku"], "variant_id": variant_id, "sku_id": None}
                rows.append({"identity": {**identity, "product_id": variant["product_id"]}, "locations": at})
        return self.v3_page(request, rows)

    def v3_page(self, request: Request, rows: list[dict[str, Any]]) -> Reply:
        page, limit = request.param("page", "1"), request.param("limit", "50")
        if not page.isdigit() or not limit.isdigit() or int(page) < 1 or int(limit) < 1:
            return self.problem(422, "The filter(s): page, limit are not valid", {})
        size = min(int(limit), 250)
        pages = math.ceil(len(rows) / size) if rows else 0
        chosen = rows[(int(page) - 1) * size : int(page) * size]
        links = {"current": f"?limit={size}&page={page}"}
        if int(page) < pages:
            links["next"] = f"?limit={size}&page={int(page) + 1}"
        if int(page) > 1:
            links["previous"] = f"?limit={size}&page={int(page) - 1}"
        pagination = {"total": len(rows), "count": len(chosen), "per_page": size, "current_page": int(page),
                      "total_pages": pages, "links": links}  # fmt: skip
        return Reply(200, {"data": chosen, "meta": {"pagination": pagination}})

    def problem(self, status: int, title: str, errors: dict[str, Any]) -> Reply:
        return Reply(status, {"status": status, "title": title, "type": V3_ERROR_TYPE, "errors": errors})

    # -- webhook subscriptions -------------------------------------------------------------------------------------

    def _hooks(self, parts: list[str], request: Request) -> Reply:
        method = request.method
        if parts == ["hooks"] and method == "GET":
            found = [self._hook(s) for s in self.subscriptions]
            for name in ("scope", "destination"):
                if request.param(name):
                    found = [h for h in found if h[name] == request.param(name)]
            if request.param("is_active"):
                found = [h for h in found if str(h["is_active"]).lower() == request.param("is_active").lower()]
            return self.v3_page(request, found)
        if parts == ["hooks"] and method == "POST":
            data = request.json() or {}
            scope, destination = str(data.get("scope") or ""), str(data.get("destination") or "")
            if not scope.startswith("store/"):
                return self.problem(422, "JSON data is missing or invalid", {"scope": "error.path.missing."})
            if not _destination_ok(destination):
                return self.problem(422, "JSON data is missing or invalid", {"destination": "error.path.missing."})
            if any(s["topic"] == scope and s["address"] == destination for s in self.subscriptions):
                return self.problem(422, "A webhook with this scope and destination already exists", {})
            sub = self.subscribe(
                topic=scope, address=destination, active=bool(data.get("is_active", True)),
                headers=data.get("headers"), updated_at=int(time.time()),
            )  # fmt: skip
            return Reply(200, {"data": self._hook(sub), "meta": {}})
        if len(parts) == 2 and parts[1].isdigit():
            found = [s for s in self.subscriptions if s["id"] == int(parts[1])]
            if not found:
                return self.problem(404, "Webhook not found", {})
            sub = found[0]
            if method == "GET":
                return Reply(200, {"data": self._hook(sub), "meta": {}})
            if method == "PUT":
                data = request.json() or {}
                if "is_active" in data:
                    sub["active"] = bool(data["is_active"])
                if "destination" in data:
                    if not _destination_ok(str(data["destination"])):
                        return self.problem(422, "JSON data is missing or invalid", {"destination": "error"})
                    sub["address"] = str(data["destination"])
                sub["updated_at"] = int(time.time())
                return Reply(200, {"data": self._hook(sub), "meta": {}})
            if method == "DELETE":
                self.subscriptions.remove(sub)
                return Reply(200, {"data": self._hook(sub), "meta": {}})
        return self.error_reply(404, "", "Not Found")

    def _hook(self, sub: dict[str, Any]) -> dict[str, Any]:
        created = int(dt.datetime.fromisoformat(str(sub["created_at"])).timestamp())
        return {
            "id": sub["id"],
            "client_id": self.client_id,
            "store_hash": self.store_hash,
            "scope": sub["topic"],
            "destination": sub["address"],
            "headers": sub.get("headers"),
            "is_active": bool(sub.get("active", True)),
            "created_at": created,
            "updated_at": int(sub.get("updated_at") or created),
        }

    # -- what the conformance suite asks of every simulator --------------------------------------------------------

    write_routes = {"fulfilment": ("POST", "/shipments")}

    @property
    def shop(self) -> str:
        return self.store_hash

    def accept_credentials(self, credentials: dict[str, Any]) -> None:
        self.configure(access_token=str(credentials.get("access_token") or ""))

    def fulfilments_of(self, order_id: int | str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(s) for s in self.shipments.get(int(order_id), [])]

    def stock_target(self, sku: str) -> tuple[str, str]:
        """A new product with that SKU (its base variant), as if made in the admin, at the default location."""
        with self.lock:
            variant = self._variant(sku=sku)
            self.inventory.setdefault((variant["variant_id"], self.location_id), 0)
            return str(variant["variant_id"]), str(self.location_id)


def _destination_ok(url: str) -> bool:
    """BigCommerce delivers to HTTPS on port 443 only; loopback over HTTP is let through for tests and the demo."""
    if url.startswith("https://"):
        return True
    return url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]"))


def _touch(order: dict[str, Any], *, previous: dict[str, Any] | None) -> None:
    """A new `date_modified`, strictly after the previous one (V2 dates have whole seconds)."""
    stamp = utcnow()
    if previous is not None:
        before = parsedate_to_datetime(previous["date_modified"])
        if stamp <= before:
            stamp = before + dt.timedelta(seconds=1)
    order["date_modified"] = rfc2822(stamp)


def _location_row(location_id: int, on_hand: int) -> dict[str, Any]:
    return {
        "location_id": location_id,
        "location_code": f"BC-LOCATION-{location_id}",
        "location_name": "Default location" if location_id == 1 else f"Location {location_id}",
        "available_to_sell": on_hand,
        "total_inventory_onhand": on_hand,
        "location_enabled": True,
        "settings": {"safety_stock": 0, "is_in_stock": on_hand > 0, "warning_level": 0, "bin_picking_number": ""},
    }


def _order_product(order_id: int, product_line_id: int, address_id: int, line: dict[str, Any]) -> dict[str, Any]:
    quantity = int(line.get("quantity", 1))
    price = f"{float(line.get('price', 10)):.4f}"
    return {
        "id": product_line_id,
        "order_id": order_id,
        "product_id": int(line.get("product_id", 77)),
        "variant_id": int(line.get("variant_id", 0)) or None,
        "order_address_id": address_id,
        "name": str(line.get("name", line.get("sku", "Item"))),
        "sku": str(line.get("sku", "TEE-BLK-M")),
        "type": "physical",
        "base_price": price,
        "price_ex_tax": price,
        "price_inc_tax": price,
        "quantity": quantity,
        "quantity_shipped": 0,
        "is_refunded": False,
        "quantity_refunded": 0,
        "parent_order_product_id": None,
        "is_bundled_product": False,
        "product_options": [],
    }


def _new_order(order_id: int, now: dt.datetime) -> dict[str, Any]:
    stamp = rfc2822(now)
    address = {
        "first_name": "Ana", "last_name": "Garcia", "company": "", "street_1": "Carrer de la Pau 3", "street_2": "",
        "city": "Valencia", "state": "Valencia", "zip": "46002", "country": "Spain", "country_iso2": "ES",
        "phone": "+34600000000", "email": "ana@example.com",
    }  # fmt: skip
    return {
        "id": order_id,
        "customer_id": 0,
        "date_created": stamp,
        "date_modified": stamp,
        "date_shipped": "",
        "status_id": 11,
        "status": "Awaiting Fulfillment",
        "custom_status": "Awaiting Fulfillment",
        "subtotal_inc_tax": "10.0000",
        "total_inc_tax": "10.0000",
        "items_total": 0,
        "items_shipped": 0,
        "payment_method": "Test Payment Gateway",
        "payment_status": "captured",
        "currency_code": "EUR",
        "staff_notes": "",
        "customer_message": "",
        "order_source": "www",
        "channel_id": 1,
        "external_order_id": None,
        "billing_address": {**address, "form_fields": []},
        "shipping_addresses": [
            {
                **address,
                "id": order_id * 10 + 1,
                "order_id": order_id,
                "items_total": 0,
                "items_shipped": 0,
                "shipping_method": "Flat Rate",
                "form_fields": [],
            },
        ],
        "products": [],
    }
