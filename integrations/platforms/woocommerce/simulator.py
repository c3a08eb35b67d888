"""A WooCommerce REST v3 simulator: orders with `page`/`per_page` (≤ 100) and `X-WP-Total`/`X-WP-TotalPages`
(+ `Link`), `modified_after`, order updates, order notes, products and variations (read one, list with `sku`,
`include` and the same pagination, stock writes), auth as WooCommerce checks it over plain HTTP (what the simulator
speaks): one-legged OAuth 1.0a signatures only, Basic auth and query-string keys refused as WooCommerce refuses them
without TLS (`basic_auth_over_http=True` accepts them, like a site behind a TLS-terminating proxy), WP error bodies,
and signed `order.created|updated` webhooks with WooCommerce's `X-WC-Webhook-*` headers.

Catalog: `add_product()` (or `POST /_sim/products`) seeds products and variations. A stock write (`PUT|POST
products/<id>[/variations/<vid>]`) to an unknown product creates it, as if made in the admin beforehand (the hub's
listings name products the simulator was never told about). `edit_stock()` (or `POST /_sim/stock`) is a person
changing the number in the WordPress admin. Every stock change is in the ledger's `stock_history`, with `via`
`api` (a REST write) or `admin` (a manual edit); `stock` lists every item whose stock is managed, as it is now."""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import hashlib
import hmac
import itertools
import math
import re
import time
import uuid
from typing import Any
from urllib.parse import quote, urlencode

import requests

from integrations.platforms.simulator_kit import Reply, Request, Simulator, sign, utcnow

_PATH = re.compile(r"^/wp-json/wc/v3/(?P<resource>.+?)/?$")
MAX_PER_PAGE = 100  # WordPress refuses a larger per_page with 400 rest_invalid_param
OAUTH_WINDOW_SECONDS = 15 * 60  # WooCommerce refuses an OAuth timestamp further off than this
OAUTH_DIGESTS = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}


class WooCommerceSimulator(Simulator):
    platform = "woocommerce"

    def __init__(
        self,
        *,
        consumer_key: str = "ck_simulator",
        consumer_secret: str = "cs_simulator",  # noqa: S107 - a fake platform's test secret
        site_url: str = "https://woo.example",
        webhook_id: int = 7,
        basic_auth_over_http: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.basic_auth_over_http = basic_auth_over_http
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.site_url = site_url
        self.webhook_id = webhook_id
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.products: dict[int, dict[str, Any]] = {}
        self.variations: dict[tuple[int, int], dict[str, Any]] = {}  # (product id, variation id)
        self.stock_history: list[dict[str, Any]] = []
        self.order_updates: list[dict[str, Any]] = []
        self._note_ids = itertools.count(281)
        self._oauth_nonces: set[tuple[str, str]] = set()

    def configure(self, **options: Any) -> None:
        super().configure(**options)
        with self.lock:
            for name in ("consumer_key", "consumer_secret", "site_url", "basic_auth_over_http"):
                if name in options:
                    setattr(self, name, options[name])

    def platform_ledger(self) -> dict[str, Any]:
        return {
            "notes": {str(k): v for k, v in self.notes.items()},
            "stock": [_stock_row(pid, vid, item) for (pid, vid), item in self._items() if item["manage_stock"]],
            "stock_history": self.stock_history,
            "order_updates": self.order_updates,
        }

    # -- auth and errors -------------------------------------------------------------------------------------------

    def authenticate(self, request: Request) -> Reply | None:
        """`WC_REST_Authentication`: Basic auth (or `consumer_key`/`consumer_secret` in the query) only over HTTPS;
        over HTTP only OAuth 1.0a, and a request with neither is not authenticated at all (WordPress's 401)."""
        if any(name.startswith("oauth_") for name in request.query):
            return None if self._oauth1_valid(request) else self.unauthorized()
        if not self.basic_auth_over_http:
            return self.error_reply(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
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

    def _oauth1_valid(self, request: Request) -> bool:
        """OAuth 1.0a one-legged, as `WC_REST_Authentication::check_oauth_signature` checks it over plain HTTP (how
        WooCommerce's own client libraries sign there): the query parameters less the signature, sorted by name, each
        name and value percent-encoded, `name=value` encoded again and joined by `%26`; the string `METHOD&<encoded
        URL>&<those>` signed with HMAC-SHA1 or -SHA256 under `<consumer secret>&`. The timestamp within 15 minutes,
        each nonce once."""
        params = {name: values[0] for name, values in request.query.items()}
        given = params.pop("oauth_signature", "").replace(" ", "+")
        digest = OAUTH_DIGESTS.get(params.get("oauth_signature_method", ""))
        nonce, stamp = params.get("oauth_nonce", ""), params.get("oauth_timestamp", "")
        if params.get("oauth_consumer_key") != self.consumer_key or digest is None or not nonce or not stamp.isdigit():
            return False
        if abs(time.time() - int(stamp)) > OAUTH_WINDOW_SECONDS:
            return False
        pairs = "%26".join(
            quote(f"{quote(name, safe='')}={quote(value, safe='')}", safe="") for name, value in sorted(params.items())
        )
        text = f"{request.method}&{quote(request.base_url + request.path, safe='')}&{pairs}"
        expected = base64.b64encode(hmac.new(f"{self.consumer_secret}&".encode(), text.encode(), digest).digest())
        if not hmac.compare_digest(expected.decode(), given):
            return False
        with self.lock:
            if (nonce, stamp) in self._oauth_nonces:
                return False  # a replayed request
            self._oauth_nonces.add((nonce, stamp))
        return True

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
        if parts[0] == "products":
            return self._products(parts, request)
        if parts[0] == "webhooks":
            return self._webhooks(parts, request)
        return self._no_route()

    # -- webhook subscriptions -------------------------------------------------------------------------------------

    def _webhooks(self, parts: list[str], request: Request) -> Reply:
        method = request.method
        if parts == ["webhooks"] and method == "GET":
            paging = self._paging(request)
            if isinstance(paging, Reply):
                return paging
            page, per_page = paging
            status = request.param("status", "all")
            found = [_public_webhook(s) for s in self.subscriptions if status == "all" or s["status"] == status]
            return _page_reply(request, "webhooks", found, page=page, per_page=per_page)
        if parts == ["webhooks"] and method == "POST":
            data = request.json() or {}
            topic, url = str(data.get("topic") or ""), str(data.get("delivery_url") or "")
            if not topic or "." not in topic:
                return self.invalid_param("topic", "topic is not a valid topic")
            if not url.startswith(("http://", "https://")):
                return self.invalid_param("delivery_url", "delivery_url is not a valid URL.")
            status = str(data.get("status") or "active")
            sub = self.subscribe(
                topic=topic, address=url, secret=str(data.get("secret") or ""), name=str(data.get("name") or ""),
                status=status, active=status == "active",
            )  # fmt: skip
            sub["ping_status"] = self.ping(url=url, webhook_id=sub["id"]) if status == "active" else None
            return Reply(201, _public_webhook(sub))
        if len(parts) == 2 and parts[1].isdigit() and method == "DELETE":
            gone = next((s for s in self.subscriptions if s["id"] == int(parts[1])), None)
            if gone is None:
                return self.error_reply(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
            self.subscriptions.remove(gone)
            return Reply(200, _public_webhook(gone))
        return self._no_route()

    def _no_route(self) -> Reply:
        return self.error_reply(404, "rest_no_route", "No route was found matching the URL and request method.")

    def _paging(self, request: Request) -> tuple[int, int] | Reply:
        """`page` (≥ 1) and `per_page` (1–100, default 10), or WordPress's 400 naming the bad parameter."""
        for name, default, low, high in (("page", "1", 1, None), ("per_page", "10", 1, MAX_PER_PAGE)):
            value = request.param(name, default)
            if not value.lstrip("-").isdigit() or int(value) < low or (high is not None and int(value) > high):
                bounds = (
                    f"between {low} (inclusive) and {high} (inclusive)" if high else f"greater than or equal to {low}"
                )
                return self.invalid_param(name, f"{name} must be {bounds}")
        return int(request.param("page", "1")), int(request.param("per_page", "10"))

    def invalid_param(self, name: str, why: str) -> Reply:
        reply = self.error_reply(400, "rest_invalid_param", f"Invalid parameter(s): {name}")
        reply.body["data"]["params"] = {name: why}
        return reply

    def _list_orders(self, request: Request) -> Reply:
        paging = self._paging(request)
        if isinstance(paging, Reply):
            return paging
        page, per_page = paging
        per_page = self.page_size(per_page)
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
        return _page_reply(request, "orders", orders, page=page, per_page=per_page)

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

    # -- products, variations and their stock ------------------------------------------------------------------------

    def _products(self, parts: list[str], request: Request) -> Reply:
        method = request.method
        if parts == ["products"] and method == "GET":
            return self._list_products(request)
        if parts == ["products", "batch"] and method in ("POST", "PUT", "PATCH"):
            return self._batch(0, request)
        if len(parts) == 4 and parts[1].isdigit() and parts[2:] == ["variations", "batch"] and method != "GET":
            return self._batch(int(parts[1]), request)
        if (
            not all(p.isdigit() for p in parts[1::2])
            or len(parts) not in (2, 4)
            or parts[2:3] not in ([], ["variations"])
        ):
            return self._no_route()
        product_id, variation_id = int(parts[1]), int(parts[3]) if len(parts) == 4 else 0
        if method == "GET":
            item = self.variations.get((product_id, variation_id)) if variation_id else self.products.get(product_id)
            if item is None:
                kind = "product_variation" if variation_id else "product"
                return self.error_reply(404, f"woocommerce_rest_{kind}_invalid_id", "Invalid ID.")
            return Reply(200, copy.deepcopy(item))
        if method in ("PUT", "POST", "PATCH"):
            return self._write_product(product_id, variation_id, request)
        return self._no_route()

    def _list_products(self, request: Request) -> Reply:
        paging = self._paging(request)
        if isinstance(paging, Reply):
            return paging
        page, per_page = paging
        found = list(self.products.values())
        skus = _list_param(request, "sku")
        if skus:  # exact SKUs of products (v3 searches the `product` post type: variations are not matched)
            found = [p for p in found if p["sku"] in skus]
        include = _list_param(request, "include")
        if include:
            if not all(i.isdigit() for i in include):
                return self.invalid_param("include", "include[0] is not of type integer.")
            found = [p for p in found if str(p["id"]) in include]
        orderby = request.param("orderby", "date")
        if orderby not in ("date", "id", "include", "title", "slug", "modified"):
            return self.invalid_param("orderby", "orderby is not one of date, id, include, title, slug and modified.")
        keys = {
            "date": lambda p: (p["date_created_gmt"], p["id"]),
            "modified": lambda p: (p["date_modified_gmt"], p["id"]),
            "id": lambda p: p["id"],
            "include": lambda p: include.index(str(p["id"])) if include else p["id"],
            "title": lambda p: (p["name"], p["id"]),
            "slug": lambda p: (p["slug"], p["id"]),
        }
        found.sort(key=keys[orderby], reverse=request.param("order", "desc") == "desc")
        return _page_reply(request, "products", copy.deepcopy(found), page=page, per_page=per_page)

    def _batch(self, product_id: int, request: Request) -> Reply:
        """`{"update": [{"id", ...}]}` for products (`product_id` 0) or one product's variations: each object is
        written like a single update and answered in place, an item's error as `{"id", "error": {...}}`. More than
        100 objects in all is refused whole (413), as WooCommerce's batch limit does."""
        data = request.json() or {}
        if not isinstance(data, dict):
            return self.error_reply(400, "rest_invalid_json", "Invalid JSON body passed.")
        if sum(len(data.get(k) or []) for k in ("create", "update", "delete")) > MAX_PER_PAGE:
            return self.error_reply(
                413,
                "woocommerce_rest_request_entity_too_large",
                "Unable to accept more than 100 items for this request.",
            )
        answered: list[dict[str, Any]] = []
        for item in data.get("update") or []:
            raw_id = str(item.get("id")) if isinstance(item, dict) and _is_int(item.get("id")) else "0"
            if int(raw_id) < 1:
                answered.append({"id": 0, "error": {"code": "woocommerce_rest_product_invalid_id",
                                                    "message": "Invalid ID.", "data": {"status": 400}}})  # fmt: skip
                continue
            pid, vid = (product_id, int(raw_id)) if product_id else (int(raw_id), 0)
            reply = self._write_item(pid, vid, {k: v for k, v in item.items() if k != "id"})
            answered.append(reply.body if reply.status < 400 else {"id": int(raw_id), "error": reply.body})
        return Reply(200, {"update": answered})

    def _write_product(self, product_id: int, variation_id: int, request: Request) -> Reply:
        return self._write_item(product_id, variation_id, request.json() or {})

    def _write_item(self, product_id: int, variation_id: int, data: Any) -> Reply:
        """A REST update of a product or variation: `manage_stock`, `stock_quantity`, `sku`, `name`. As in
        WooCommerce, `stock_quantity` counts only while stock is managed; switching management off clears it."""
        if not isinstance(data, dict):
            return self.error_reply(400, "rest_invalid_json", "Invalid JSON body passed.")
        quantity = data.get("stock_quantity")
        if quantity is not None and not _is_int(quantity):
            return self.invalid_param("stock_quantity", "stock_quantity is not of type integer.")
        item = self._item(product_id, variation_id, sku=str(data.get("sku", "")))
        for name in ("sku", "name"):
            if name in data and (name in item):
                item[name] = str(data[name])
        manage = _is_true(data["manage_stock"]) if "manage_stock" in data else bool(item["manage_stock"])
        if manage != item["manage_stock"] or (manage and quantity is not None):
            number = int(quantity) if quantity is not None else item["stock_quantity"]
            self._set_stock(product_id, variation_id, manage=manage, quantity=number, via="api")
        return Reply(200, copy.deepcopy(item))

    def _item(self, product_id: int, variation_id: int, *, sku: str = "") -> dict[str, Any]:
        """The product or variation, created (as if in the admin) when a write names one the catalog lacks."""
        now = utcnow().replace(tzinfo=None).isoformat()
        product = self.products.get(product_id)
        if product is None:
            kind = "variable" if variation_id else "simple"
            product = _new_product(product_id, "" if variation_id else sku, kind, now, self.site_url)
            self.products[product_id] = product
        if not variation_id:
            return product
        variation = self.variations.get((product_id, variation_id))
        if variation is None:
            variation = _new_variation(product_id, variation_id, sku, now, self.site_url)
            self.variations[(product_id, variation_id)] = variation
            product["type"] = "variable"
            product["variations"].append(variation_id)
        return variation

    def _set_stock(self, product_id: int, variation_id: int, *, manage: bool, quantity: int | None, via: str) -> None:
        """The one place stock changes: WooCommerce's own rules (status follows the number while managed; no number
        while not), the modification time, and a line in the ledger."""
        item = self.variations[(product_id, variation_id)] if variation_id else self.products[product_id]
        item["manage_stock"] = manage
        if manage:
            item["stock_quantity"] = int(quantity or 0)
            item["stock_status"] = "instock" if item["stock_quantity"] > 0 else "outofstock"
        else:
            item["stock_quantity"] = None
            item["backorders"] = "no"
        stamp = utcnow().replace(tzinfo=None).isoformat()
        item["date_modified"] = item["date_modified_gmt"] = stamp
        self.stock_history.append({**_stock_row(product_id, variation_id, item), "via": via, "at": stamp})

    def _items(self) -> list[tuple[tuple[int, int], dict[str, Any]]]:
        return [((pid, 0), p) for pid, p in self.products.items()] + list(self.variations.items())

    def add_product(
        self,
        *,
        sku: str = "",
        product_id: int | None = None,
        name: str = "",
        stock_quantity: int | None = None,
        variations: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Seed the catalog with a simple product (stock managed when `stock_quantity` is given) or, with
        `variations` (`[{"sku", "id"?, "stock_quantity"?}]`), a variable one. Returns the product as the API shows."""
        with self.lock:
            pid = product_id or max([*self.products, 500]) + 1
            product = self._item(pid, 0, sku=sku)
            product["name"] = name or sku or f"Product {pid}"
            if stock_quantity is not None:
                self._set_stock(pid, 0, manage=True, quantity=stock_quantity, via="admin")
            for n, spec in enumerate(variations or [], start=1):
                vid = int(spec.get("id") or pid * 100 + n)
                self._item(pid, vid, sku=str(spec.get("sku", "")))
                if spec.get("stock_quantity") is not None:
                    self._set_stock(pid, vid, manage=True, quantity=int(spec["stock_quantity"]), via="admin")
            return copy.deepcopy(product)

    def edit_stock(
        self, product_id: int, stock_quantity: int | None, *, variation_id: int = 0, manage_stock: bool = True
    ) -> dict[str, Any]:
        """A person changes the stock in the WordPress admin (no REST call, no webhook to the hub): `via: admin` in
        the ledger. Raises KeyError for a product or variation the simulator does not have."""
        with self.lock:
            if (product_id, variation_id) not in dict(self._items()):
                raise KeyError(f"no product {product_id} variation {variation_id}")
            self._set_stock(product_id, variation_id, manage=manage_stock, quantity=stock_quantity, via="admin")
            item = self.variations[(product_id, variation_id)] if variation_id else self.products[product_id]
            return copy.deepcopy(item)

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

    def ping(self, *, url: str = "", webhook_id: int | None = None) -> int | None:
        """What WooCommerce sends when a webhook is created: a form body `webhook_id=<id>`, unsigned. The endpoint
        must answer 200 or the webhook is not activated. Returns the status the address answered."""
        body = f"webhook_id={webhook_id if webhook_id is not None else self.webhook_id}".encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "WooCommerce/9.4.0 Hookshot"}
        try:
            status: int | None = requests.post(
                url or self.hub_url, data=body, headers=headers, timeout=(1, 5)
            ).status_code
        except requests.RequestException:
            status = None
        self._log_webhook({}, "ping", 0, status, "ping")
        return status

    def control(self, request: Request) -> Reply:
        if request.path == "/_sim/ping" and request.method == "POST":
            return Reply(200, {"status": self.ping()})
        if request.path in ("/_sim/products", "/_sim/stock") and request.method == "POST":
            data = request.json() or {}
            try:
                if request.path == "/_sim/products":
                    return Reply(201, self.add_product(**data))
                return Reply(200, self.edit_stock(int(data["product_id"]), data.get("stock_quantity"),
                                                  variation_id=int(data.get("variation_id") or 0),
                                                  manage_stock=bool(data.get("manage_stock", True))))  # fmt: skip
            except KeyError as exc:
                return Reply(404, {"error": str(exc)})
            except (TypeError, ValueError) as exc:
                return Reply(400, {"error": str(exc)})
        return super().control(request)

    def delivery_id(self, headers: dict[str, str]) -> str:
        return headers.get("X-WC-Webhook-Delivery-ID", "")

    def signature_headers(self, body: bytes, secret: str) -> dict[str, str]:
        return {"X-WC-Webhook-Signature": sign(body, secret)}

    # -- what the conformance suite asks of every simulator --------------------------------------------------------

    write_routes = {"fulfilment": ("POST", "/notes")}

    @property
    def shop(self) -> str:
        return self.site_url

    def accept_credentials(self, credentials: dict[str, Any]) -> None:
        self.configure(
            consumer_key=str(credentials.get("consumer_key") or ""),
            consumer_secret=str(credentials.get("consumer_secret") or ""),
        )

    def fulfilments_of(self, order_id: int | str) -> list[dict[str, Any]]:
        """WooCommerce has no fulfilment record: a shipment is told to the customer as a customer note."""
        with self.lock:
            return [dict(n) for n in self.notes.get(int(order_id), []) if n["customer_note"]]

    def stock_target(self, sku: str) -> tuple[str, str]:
        """A new simple product with that SKU (WooCommerce keeps one number per product or variation)."""
        return str(self.add_product(sku=sku)["id"]), ""


def _public_webhook(sub: dict[str, Any]) -> dict[str, Any]:
    """A subscription as `GET /webhooks/<id>` shows it (its secret is never shown back)."""
    resource, _, event = str(sub["topic"]).partition(".")
    return {
        "id": sub["id"],
        "name": sub.get("name") or f"{resource.title()} {event}",
        "status": sub.get("status", "active"),
        "topic": sub["topic"],
        "resource": resource,
        "event": event,
        "hooks": [],
        "delivery_url": sub["address"],
        "date_created": str(sub["created_at"])[:19],
        "date_created_gmt": str(sub["created_at"])[:19],
        "date_modified": str(sub["created_at"])[:19],
        "date_modified_gmt": str(sub["created_at"])[:19],
    }


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


def _list_param(request: Request, name: str) -> list[str]:
    """A WordPress array argument: `name=a,b`, `name[]=a&name[]=b` or repeated `name=`."""
    raw = (request.query.get(name) or []) + (request.query.get(f"{name}[]") or [])
    return [part.strip() for value in raw for part in value.split(",") if part.strip()]


def _is_true(value: Any) -> bool:
    """WordPress's boolean argument: true/false, 1/0 and their strings."""
    return value.strip().lower() in ("1", "true", "yes") if isinstance(value, str) else bool(value)


def _is_int(value: Any) -> bool:
    """What WordPress accepts for an `integer` argument: an int or a string of digits (not a bool or a float)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit())


def _page_reply(request: Request, resource: str, items: list[dict[str, Any]], *, page: int, per_page: int) -> Reply:
    """One page of a collection with WordPress's `X-WP-Total`, `X-WP-TotalPages` and `Link` (prev/next, the other
    query parameters kept). A page past the end is an empty list, as WooCommerce answers."""
    total = len(items)
    pages = math.ceil(total / per_page) if total else 0
    base = f"{request.base_url}/wp-json/wc/v3/{resource}"
    query = [(k, v[0]) for k, v in request.query.items() if k != "page"]
    links = []
    if page > 1:
        links.append(f'<{base}?{urlencode([*query, ("page", min(page - 1, max(pages, 1)))])}>; rel="prev"')
    if page < pages:
        links.append(f'<{base}?{urlencode([*query, ("page", page + 1)])}>; rel="next"')
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    if links:
        headers["Link"] = ", ".join(links)
    return Reply(200, items[(page - 1) * per_page : page * per_page], headers)


def _stock_row(product_id: int, variation_id: int, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"],
        "product_id": product_id,
        "variation_id": variation_id,
        "sku": item["sku"],
        "manage_stock": item["manage_stock"],
        "stock_quantity": item["stock_quantity"],
        "stock_status": item["stock_status"],
    }


def _stock_fields() -> dict[str, Any]:
    return {
        "manage_stock": False,
        "stock_quantity": None,
        "stock_status": "instock",
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "low_stock_amount": None,
    }


def _new_product(product_id: int, sku: str, kind: str, now: str, site_url: str) -> dict[str, Any]:
    """A product as `GET /wp-json/wc/v3/products/<id>` shows it (the fields a connector reads, WooCommerce's names)."""
    slug = f"product-{product_id}"
    return {
        "id": product_id,
        "name": sku or f"Product {product_id}",
        "slug": slug,
        "permalink": f"{site_url.rstrip('/')}/product/{slug}/",
        "date_created": now,
        "date_created_gmt": now,
        "date_modified": now,
        "date_modified_gmt": now,
        "type": kind,
        "status": "publish",
        "catalog_visibility": "visible",
        "sku": sku,
        "price": "10.00",
        "regular_price": "10.00",
        "sale_price": "",
        "purchasable": True,
        "virtual": False,
        **_stock_fields(),
        "parent_id": 0,
        "attributes": [],
        "variations": [],
        "meta_data": [],
        "_links": {
            "self": [{"href": f"{site_url.rstrip('/')}/wp-json/wc/v3/products/{product_id}"}],
            "collection": [{"href": f"{site_url.rstrip('/')}/wp-json/wc/v3/products"}],
        },
    }


def _new_variation(product_id: int, variation_id: int, sku: str, now: str, site_url: str) -> dict[str, Any]:
    """A variation as `GET /wp-json/wc/v3/products/<id>/variations/<vid>` shows it."""
    api = f"{site_url.rstrip('/')}/wp-json/wc/v3/products/{product_id}"
    return {
        "id": variation_id,
        "date_created": now,
        "date_created_gmt": now,
        "date_modified": now,
        "date_modified_gmt": now,
        "permalink": f"{site_url.rstrip('/')}/product/product-{product_id}/?variation={variation_id}",
        "sku": sku,
        "price": "10.00",
        "regular_price": "10.00",
        "sale_price": "",
        "status": "publish",
        "purchasable": True,
        **_stock_fields(),
        "attributes": [],
        "meta_data": [],
        "_links": {
            "self": [{"href": f"{api}/variations/{variation_id}"}],
            "collection": [{"href": f"{api}/variations"}],
            "up": [{"href": api}],
        },
    }
