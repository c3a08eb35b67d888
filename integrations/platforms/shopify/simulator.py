"""A Shopify Admin REST simulator: orders with `Link`/`page_info` cursor pagination, fulfilment orders and
fulfilments (not idempotent, like Shopify: a second create on a closed fulfilment order is refused with 422),
inventory levels (set, and read in bulk by `inventory_item_ids` / `location_ids`), webhook subscriptions
(`GET|POST webhooks.json`, `DELETE webhooks/<id>.json`; a second subscription of an address to a topic is refused with
422, as Shopify does), the leaky-bucket call limit (`X-Shopify-Shop-Api-Call-Limit`, 429 + `Retry-After: 2.0`),
`X-Shopify-Access-Token` auth, and signed `orders/create|updated` webhooks with Shopify's headers."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import itertools
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

from integrations.platforms.simulator_kit import Reply, Request, Simulator, sign, utcnow

API_VERSION = "2025-01"
# The statuses Shopify accepts on a fulfilment event (`FulfillmentEvent.save` in shopify_python_api).
FULFILLMENT_EVENT_STATUSES = frozenset(
    {
        "label_printed",
        "label_purchased",
        "attempted_delivery",
        "ready_for_pickup",
        "picked_up",
        "confirmed",
        "in_transit",
        "out_for_delivery",
        "delivered",
        "failure",
    }
)
FULFILLMENT_EVENT = json.loads(
    (Path(__file__).parent / "fixtures" / "fulfillment_event.json").read_text(encoding="utf-8")
)["fulfillment_event"]
_PATH = re.compile(r"^/admin/api/(?P<version>\d{4}-\d{2})/(?P<resource>.+)\.json$")


class ShopifySimulator(Simulator):
    platform = "shopify"

    def __init__(
        self,
        *,
        access_token: str = "shpat_simulator",  # noqa: S107 - a fake platform's test token
        shop_domain: str = "acme.myshopify.com",
        bucket_size: int = 40,
        leak_per_second: float = 2.0,
        location_id: int = 905684977,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.access_token = access_token
        self.shop_domain = shop_domain
        self.bucket_size = bucket_size
        self.leak_per_second = leak_per_second
        self.location_id = location_id
        self._bucket = 0.0
        self._bucket_at = time.monotonic()
        self.fulfillment_orders: dict[int, list[dict[str, Any]]] = {}
        self.fulfillments: list[dict[str, Any]] = []
        self.fulfillment_events: list[dict[str, Any]] = []
        self.inventory_levels: dict[tuple[int, int], dict[str, Any]] = {}
        self._fulfillment_ids = itertools.count(255858046)
        self._inventory_item_ids = itertools.count(808950810)
        self.graphql_max = 1000.0
        self.graphql_restore = 50.0
        self.graphql_available = self.graphql_max
        self._graphql_at = time.monotonic()

    def configure(self, **options: Any) -> None:
        super().configure(**options)
        with self.lock:
            for name in ("access_token", "shop_domain", "bucket_size", "leak_per_second", "graphql_restore"):
                if name in options:
                    setattr(self, name, options[name])

    def platform_ledger(self) -> dict[str, Any]:
        return {
            "fulfillment_orders": self.fulfillment_orders,
            "fulfillments": self.fulfillments,
            "fulfillment_events": self.fulfillment_events,
            "inventory_levels": list(self.inventory_levels.values()),
        }

    def extra_headers(self) -> dict[str, str]:
        with self.lock:
            used = round(self._bucket)
        return {"X-Shopify-API-Version": API_VERSION, "X-Shopify-Shop-Api-Call-Limit": f"{used}/{self.bucket_size}"}

    # -- auth, throttle, errors ------------------------------------------------------------------------------------

    def throttle(self) -> Reply | None:
        with self.lock:
            now = time.monotonic()
            self._bucket = max(self._bucket - (now - self._bucket_at) * self.leak_per_second, 0.0)
            self._bucket_at = now
            if self._bucket + 1 > self.bucket_size:
                reply = self.error_reply(429, "", "Exceeded 2 calls per second for api client.")
                reply.headers["Retry-After"] = "2.0"
                return reply
            self._bucket += 1
        return None

    def authenticate(self, request: Request) -> Reply | None:
        if request.headers.get("X-Shopify-Access-Token") != self.access_token:
            return self.unauthorized()
        return None

    def unauthorized(self) -> Reply:
        return Reply(401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})

    def error_reply(self, status: int, code: str, message: str) -> Reply:
        return Reply(status, {"errors": message})

    # -- orders ----------------------------------------------------------------------------------------------------

    def topic(self, event: str) -> str:
        return "orders/create" if event == "create" else "orders/updated"

    def build_order(self, order_id: int, data: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        now = utcnow()
        order: dict[str, Any] = existing.copy() if existing else _new_order(order_id, now)
        order.update({k: v for k, v in data.items() if k not in ("id", "line_items")})
        if "line_items" in data or not existing:
            order["line_items"] = [
                {
                    "id": order_id * 100 + n,
                    "sku": line.get("sku", "TEE-BLK-M"),
                    "quantity": int(line.get("quantity", 1)),
                    "name": line.get("name", line.get("sku", "Item")),
                    "title": line.get("name", line.get("sku", "Item")),
                    "price": str(line.get("price", "10.00")),
                    "variant_id": line.get("variant_id"),
                    "fulfillable_quantity": int(line.get("quantity", 1)),
                    "fulfillment_status": None,
                    "requires_shipping": True,
                }
                for n, line in enumerate(data.get("line_items") or [{"sku": "TEE-BLK-M", "quantity": 1}], start=1)
            ]
            self.fulfillment_orders[order_id] = [self._fulfillment_order(order)]
        previous = dt.datetime.fromisoformat(existing["updated_at"]) if existing else None
        stamp = now if previous is None or now > previous else previous + dt.timedelta(seconds=1)
        order["updated_at"] = data.get("updated_at") or stamp.isoformat()
        return order

    def _fulfillment_order(self, order: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": int(order["id"]) * 10 + 1,
            "order_id": order["id"],
            "status": "open",
            "request_status": "unsubmitted",
            "assigned_location_id": self.location_id,
            "line_items": [
                {
                    "id": int(li["id"]) * 10 + 1,
                    "fulfillment_order_id": int(order["id"]) * 10 + 1,
                    "line_item_id": li["id"],
                    "quantity": li["quantity"],
                    "fulfillable_quantity": li["quantity"],
                    "variant_id": li.get("variant_id"),
                }
                for li in order["line_items"]
            ],
        }

    # -- routes ----------------------------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        match = _PATH.match(request.path)
        if not match:
            return Reply(404, {"errors": "Not Found"})
        resource, method = match["resource"], request.method
        parts = resource.split("/")
        if method == "GET" and resource == "orders":
            return self._list_orders(request)
        if method == "GET" and resource == "orders/count":
            return Reply(200, {"count": len(self.orders)})
        if len(parts) >= 2 and parts[0] == "orders":
            try:
                order_id = int(parts[1])
            except ValueError:
                return Reply(404, {"errors": "Not Found"})
            if order_id not in self.orders:
                return Reply(404, {"errors": "Not Found"})
            if method == "GET" and len(parts) == 2:
                return Reply(200, {"order": self.orders[order_id]})
            if method == "GET" and parts[2:] == ["fulfillment_orders"]:
                return Reply(200, {"fulfillment_orders": self.fulfillment_orders.get(order_id, [])})
            if method in ("GET", "POST") and len(parts) == 5 and parts[2] == "fulfillments" and parts[4] == "events":
                return self._fulfillment_events(order_id, parts[3], request)
            if method == "GET" and parts[2:] == ["fulfillments"]:
                found = [f for f in self.fulfillments if f["order_id"] == order_id]
                return Reply(200, {"fulfillments": found})
            return Reply(404, {"errors": "Not Found"})  # the legacy POST orders/{id}/fulfillments.json is gone
        if method == "POST" and resource == "graphql":
            return self._graphql(request)
        if method == "POST" and resource == "fulfillments":
            return self._create_fulfillment(request)
        if method == "POST" and len(parts) == 3 and parts[0] == "fulfillments" and parts[2] == "update_tracking":
            return self._update_tracking(parts[1], request)
        if method == "POST" and resource == "inventory_levels/set":
            return self._set_inventory(request)
        if method == "GET" and resource == "inventory_levels":
            return self._inventory_levels(request)
        if resource == "webhooks" and method in ("GET", "POST"):
            return self._webhooks(request)
        if method == "DELETE" and len(parts) == 2 and parts[0] == "webhooks":
            return self._delete_webhook(parts[1])
        return Reply(404, {"errors": "Not Found"})

    def _inventory_levels(self, request: Request) -> Reply:
        """`inventory_item_ids` and/or `location_ids` (comma-separated, at most 50 each) filter; one is required."""
        items, locations = _id_list(request.param("inventory_item_ids")), _id_list(request.param("location_ids"))
        if items is None or locations is None:
            return Reply(400, {"errors": "inventory_item_ids and location_ids must be comma-separated integers"})
        if not items and not locations:
            return Reply(422, {"errors": "Inventory item ids or location ids must be present"})
        if len(items) > 50 or len(locations) > 50:
            return Reply(422, {"errors": "at most 50 ids per filter"})
        found = [
            level
            for (item, location), level in sorted(self.inventory_levels.items())
            if (not items or item in items) and (not locations or location in locations)
        ]
        limit = int(request.param("limit", "50") or 50)
        return Reply(200, {"inventory_levels": found[: max(1, min(limit, 250))]})

    def _webhooks(self, request: Request) -> Reply:
        if request.method == "GET":
            topic, address = request.param("topic"), request.param("address")
            found = [
                _public_webhook(s)
                for s in self.subscriptions
                if (not topic or s["topic"] == topic) and (not address or s["address"] == address)
            ]
            return Reply(200, {"webhooks": found})
        try:
            data = request.json()["webhook"]
            topic, address = str(data["topic"]), str(data["address"])
        except (KeyError, TypeError, ValueError):
            return Reply(400, {"errors": {"webhook": "Required parameter missing or invalid"}})
        if not address.startswith(("https://", "http://")):
            return Reply(422, {"errors": {"address": ["is invalid"]}})
        if any(s["topic"] == topic and s["address"] == address for s in self.subscriptions):
            return Reply(422, {"errors": {"address": ["for this topic has already been taken"]}})
        sub = self.subscribe(topic=topic, address=address, format=str(data.get("format") or "json"))
        return Reply(201, {"webhook": _public_webhook(sub)})

    def _delete_webhook(self, webhook_id: str) -> Reply:
        found = next((s for s in self.subscriptions if str(s["id"]) == webhook_id), None)
        if found is None:
            return Reply(404, {"errors": "Not Found"})
        self.subscriptions.remove(found)
        return Reply(200, {})

    def _list_orders(self, request: Request) -> Reply:
        page_info = request.param("page_info")
        limit = int(request.param("limit", "50") or 50)
        if limit > 250 or limit < 1:
            return Reply(400, {"errors": {"limit": "must be between 1 and 250"}})
        limit = self.page_size(limit)
        if page_info:
            if set(request.query) - {"page_info", "limit", "fields"}:
                return Reply(400, {"errors": {"page_info": "Cannot have other parameters with page_info"}})
            try:
                cursor = json.loads(base64.urlsafe_b64decode(page_info.encode()))
            except (binascii.Error, ValueError):
                return Reply(400, {"errors": {"page_info": "Invalid value."}})
            filters, offset = cursor["filters"], int(cursor["offset"])
        else:
            filters = {k: request.param(k) for k in ("updated_at_min", "status") if request.param(k)}
            offset = 0
        orders = sorted(self.orders.values(), key=lambda o: (o["updated_at"], o["id"]))
        status = filters.get("status", "open")
        if status == "open":
            orders = [o for o in orders if not o.get("cancelled_at") and not o.get("closed_at")]
        elif status == "cancelled":
            orders = [o for o in orders if o.get("cancelled_at")]
        if filters.get("updated_at_min"):
            since = dt.datetime.fromisoformat(filters["updated_at_min"].replace("Z", "+00:00"))
            orders = [o for o in orders if dt.datetime.fromisoformat(o["updated_at"]) >= since]
        page = orders[offset : offset + limit]
        links = []
        base = f"{request.base_url}/admin/api/{API_VERSION}/orders.json"
        if offset + limit < len(orders):
            token = _cursor(filters, offset + limit)
            links.append(f'<{base}?limit={limit}&page_info={token}>; rel="next"')
        if offset > 0:
            token = _cursor(filters, max(offset - limit, 0))
            links.append(f'<{base}?limit={limit}&page_info={token}>; rel="previous"')
        return Reply(200, {"orders": page}, {"Link": ", ".join(links)} if links else {})

    def _create_fulfillment(self, request: Request) -> Reply:
        try:
            data = request.json()["fulfillment"]
            groups = data["line_items_by_fulfillment_order"]
        except (KeyError, TypeError, ValueError):
            return Reply(400, {"errors": {"fulfillment": "Required parameter missing or invalid"}})
        by_id = {fo["id"]: fo for fos in self.fulfillment_orders.values() for fo in fos}
        chosen: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        for group in groups:
            fo = by_id.get(int(group.get("fulfillment_order_id", 0)))
            if fo is None:
                return Reply(404, {"errors": "Not Found"})
            if fo["status"] not in ("open", "in_progress"):
                return Reply(
                    422, {"errors": [f"Fulfillment order {fo['id']} has an unfulfillable status= {fo['status']}."]}
                )
            wanted = group.get("fulfillment_order_line_items") or [
                {"id": li["id"], "quantity": li["fulfillable_quantity"]}
                for li in fo["line_items"]
                if li["fulfillable_quantity"] > 0
            ]
            lines = {li["id"]: li for li in fo["line_items"]}
            for item in wanted:
                line = lines.get(int(item["id"]))
                if line is None or int(item["quantity"]) > line["fulfillable_quantity"] or int(item["quantity"]) < 1:
                    return Reply(422, {"errors": ["Invalid fulfillment order line item quantity requested."]})
            chosen.append((fo, wanted))
        if not chosen:
            return Reply(422, {"errors": ["line_items_by_fulfillment_order must not be empty"]})
        tracking = data.get("tracking_info") or {}
        order_id = int(chosen[0][0]["order_id"])
        order_lines = {li["id"]: li for li in self.orders[order_id].get("line_items", [])}
        line_items = []
        for fo, wanted in chosen:
            lines = {li["id"]: li for li in fo["line_items"]}
            for item in wanted:  # a partial fulfilment (one leg of a split order) names its lines and quantities
                line = lines[int(item["id"])]
                line["fulfillable_quantity"] -= int(item["quantity"])
                ordered = order_lines.get(line["line_item_id"], {})
                if ordered:
                    ordered["fulfillable_quantity"] = line["fulfillable_quantity"]
                    ordered["fulfillment_status"] = "fulfilled" if not line["fulfillable_quantity"] else "partial"
                line_items.append(
                    {"id": line["line_item_id"], "sku": ordered.get("sku"), "quantity": int(item["quantity"])}
                )
            fo["status"] = (
                "closed" if all(li["fulfillable_quantity"] == 0 for li in fo["line_items"]) else "in_progress"
            )
        now = utcnow().isoformat()
        number = str(tracking.get("number") or "")
        fulfillment = {
            "id": next(self._fulfillment_ids),
            "order_id": order_id,
            "status": "success",
            "service": "manual",
            "created_at": now,
            "updated_at": now,
            "tracking_company": tracking.get("company"),
            "tracking_number": number or None,
            "tracking_numbers": [number] if number else [],
            "tracking_url": tracking.get("url"),
            "tracking_urls": [tracking["url"]] if tracking.get("url") else [],
            "line_items": line_items,
            "idempotency_key": request.headers.get("Idempotency-Key", ""),  # ledger only: Shopify ignores it
            "notify_customer": bool(data.get("notify_customer")),  # ledger only: whether Shopify e-mails the buyer
            "shipment_status": None,
        }
        self.fulfillments.append(fulfillment)
        order = self.orders[order_id]
        if all(fo["status"] == "closed" for fo in self.fulfillment_orders.get(order_id, [])):
            order["fulfillment_status"] = "fulfilled"
        else:
            order["fulfillment_status"] = "partial"
        order["updated_at"] = now
        public = {k: v for k, v in fulfillment.items() if k not in ("idempotency_key", "notify_customer")}
        return Reply(201, {"fulfillment": public})

    def _fulfillment_events(self, order_id: int, fulfillment_id: str, request: Request) -> Reply:
        """`GET|POST orders/{id}/fulfillments/{id}/events.json`: a fulfilment's shipment statuses; the newest one is
        the fulfilment's `shipment_status`."""
        found = next(
            (f for f in self.fulfillments if str(f["id"]) == fulfillment_id and f["order_id"] == order_id), None
        )
        if found is None:
            return Reply(404, {"errors": "Not Found"})
        if request.method == "GET":
            mine = [e for e in self.fulfillment_events if e["fulfillment_id"] == found["id"]]
            return Reply(200, {"fulfillment_events": mine})
        try:
            status = str(request.json()["event"]["status"])
        except (KeyError, TypeError):
            return Reply(400, {"errors": {"event": "Required parameter missing or invalid"}})
        if status not in FULFILLMENT_EVENT_STATUSES:
            return Reply(422, {"errors": {"status": ["is not included in the list"]}})
        now = utcnow().isoformat()
        event = json.loads(json.dumps(FULFILLMENT_EVENT))
        event.update(
            {
                "id": next(self._fulfillment_ids),
                "fulfillment_id": found["id"],
                "order_id": order_id,
                "status": status,
                "happened_at": str(request.json()["event"].get("happened_at") or now),
                "created_at": now,
                "updated_at": now,
            }
        )
        event["admin_graphql_api_id"] = f"gid://shopify/FulfillmentEvent/{event['id']}"
        self.fulfillment_events.append(event)
        found["shipment_status"] = status
        return Reply(201, {"fulfillment_event": event})

    def _graphql(self, request: Request) -> Reply:
        """A minimal GraphQL Admin endpoint for the cost throttle: `{ shop { name } }` costs 1 point plus
        `cost` from the variables (to drain the bucket in tests); an unaffordable query is HTTP 200 THROTTLED."""
        try:
            body = request.json() or {}
            query = str(body["query"])
        except (KeyError, TypeError, ValueError):
            return Reply(400, {"errors": "Parameter Missing or Invalid"})
        requested = 1 + int((body.get("variables") or {}).get("cost", 0))
        now = time.monotonic()
        self.graphql_available = min(
            self.graphql_max, self.graphql_available + (now - self._graphql_at) * self.graphql_restore
        )
        self._graphql_at = now
        if requested > self.graphql_available:
            return Reply(200, {
                "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                               "throttleStatus": self._throttle_status()}},
            })  # fmt: skip
        self.graphql_available -= requested
        data: dict[str, Any] = {"shop": {"name": self.shop_domain}} if "shop" in query else {}
        return Reply(200, {
            "data": data,
            "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": requested,
                           "throttleStatus": self._throttle_status()}},
        })  # fmt: skip

    def _throttle_status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.graphql_max,
            "currentlyAvailable": round(self.graphql_available, 1),
            "restoreRate": self.graphql_restore,
        }

    def _update_tracking(self, fulfillment_id: str, request: Request) -> Reply:
        found = next((f for f in self.fulfillments if str(f["id"]) == fulfillment_id), None)
        if found is None:
            return Reply(404, {"errors": "Not Found"})
        try:
            tracking = request.json()["fulfillment"]["tracking_info"]
        except (KeyError, TypeError, ValueError):
            return Reply(400, {"errors": {"fulfillment": "Required parameter missing or invalid"}})
        number = str(tracking.get("number") or "")
        found.update(
            tracking_company=tracking.get("company", found.get("tracking_company")),
            tracking_number=number or None,
            tracking_numbers=[number] if number else [],
            tracking_url=tracking.get("url"),
            tracking_urls=[tracking["url"]] if tracking.get("url") else [],
            updated_at=utcnow().isoformat(),
        )
        found.setdefault("tracking_updates", 0)
        found["tracking_updates"] += 1
        return Reply(
            200, {"fulfillment": {k: v for k, v in found.items() if k not in ("idempotency_key", "tracking_updates")}}
        )

    def _set_inventory(self, request: Request) -> Reply:
        data = request.json() or {}
        try:
            key = (int(data["inventory_item_id"]), int(data["location_id"]))
            available = int(data["available"])
        except (KeyError, TypeError, ValueError):
            return Reply(422, {"errors": {"available": ["is required"]}})
        level = {
            "inventory_item_id": key[0],
            "location_id": key[1],
            "available": available,
            "updated_at": utcnow().isoformat(),
        }
        self.inventory_levels[key] = level
        return Reply(200, {"inventory_level": level})

    # -- webhooks --------------------------------------------------------------------------------------------------

    def webhook_headers(self, topic: str, body: bytes, payload: dict[str, Any]) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(body, self.secret),
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": str(payload.get("updated_at") or utcnow().isoformat()),
            "X-Shopify-API-Version": API_VERSION,
        }

    def delivery_id(self, headers: dict[str, str]) -> str:
        return headers.get("X-Shopify-Webhook-Id", "")

    def signature_headers(self, body: bytes, secret: str) -> dict[str, str]:
        return {"X-Shopify-Hmac-Sha256": sign(body, secret)}

    # -- what the conformance suite asks of every simulator --------------------------------------------------------

    write_routes = {"fulfilment": ("POST", "/fulfillments.json")}

    @property
    def shop(self) -> str:
        return self.shop_domain

    def accept_credentials(self, credentials: dict[str, Any]) -> None:
        self.configure(access_token=str(credentials.get("access_token") or ""))

    def fulfilments_of(self, order_id: int | str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(f) for f in self.fulfillments if str(f["order_id"]) == str(order_id)]

    def stock_target(self, sku: str) -> tuple[str, str]:
        """A new inventory item (Shopify keeps the SKU on its variant; the number is per item and location)."""
        with self.lock:
            return str(next(self._inventory_item_ids)), str(self.location_id)


def _id_list(value: str) -> set[int] | None:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not all(p.isdigit() for p in parts):
        return None
    return {int(p) for p in parts}


def _public_webhook(sub: dict[str, Any]) -> dict[str, Any]:
    """A subscription as `webhooks.json` shows it (Shopify signs with the app's secret: none per webhook)."""
    return {
        "id": sub["id"],
        "address": sub["address"],
        "topic": sub["topic"],
        "created_at": sub["created_at"],
        "updated_at": sub["created_at"],
        "format": sub.get("format", "json"),
        "fields": [],
        "metafield_namespaces": [],
        "api_version": API_VERSION,
    }


def _cursor(filters: dict[str, str], offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"filters": filters, "offset": offset}).encode()).decode()


def _new_order(order_id: int, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": order_id,
        "name": f"#{order_id}",
        "order_number": order_id,
        "email": "customer@example.com",
        "created_at": now.isoformat(),
        "processed_at": now.isoformat(),
        "updated_at": now.isoformat(),
        "cancelled_at": None,
        "closed_at": None,
        "currency": "EUR",
        "financial_status": "paid",
        "fulfillment_status": None,
        "note": "",
        "shipping_address": {
            "name": "Ana Garcia",
            "address1": "Carrer de la Pau 3",
            "address2": "",
            "zip": "46002",
            "city": "Valencia",
            "province_code": "V",
            "country_code": "ES",
            "phone": "+34 600 000 000",
        },
        "line_items": [],
    }
