"""WooCommerce REST v3 client (no Django): orders by id and changed since a time with `page`/`per_page` and
`X-WP-Total`/`X-WP-TotalPages`, order completion with a tracking note, stock updates (one at a time, or up to 100
in one `products/batch` call), the stock read-back (products by id, SKU or `include`, across pages; variations one
by one), and webhook subscriptions. Auth as WooCommerce checks it: HTTP Basic with the consumer key and secret over
HTTPS; over plain HTTP (where WooCommerce refuses Basic auth) one-legged OAuth 1.0a, each request signed with
HMAC-SHA256 in its query string by `requests-oauthlib` (a fresh nonce and timestamp per attempt, so a retried read is
never refused as a replay).

WooCommerce has no idempotency facility: the status update is naturally idempotent (PUT), and the tracking note
carries our key, so reading the order's notes back tells whether an earlier, ambiguous attempt landed."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_QUERY
from requests_oauthlib import OAuth1

from integrations.http import Exchange, HttpClient, PermanentError

# oauthlib and requests-oauthlib log the consumer key and every signed parameter at DEBUG (not as `name=value`, so
# the redaction filter cannot find them): their DEBUG records are never made.
for _name in ("oauthlib", "requests_oauthlib"):
    logging.getLogger(_name).setLevel(max(logging.getLogger(_name).level, logging.INFO))

PER_PAGE = 100
BATCH_MAX = 100  # objects per `products/batch` call (WooCommerce refuses more with 413)
INCLUDE_CHUNK = 100  # product ids per `include` list: keeps the URL short whatever the page size
NOTE_REF = "ref:"


@dataclass(frozen=True)
class OrderPage:
    orders: list[dict[str, Any]]
    page: int
    total: int
    total_pages: int


@dataclass(frozen=True)
class ProductPage:
    products: list[dict[str, Any]]
    page: int
    total: int
    total_pages: int


@dataclass(frozen=True)
class TrackingNote:
    order_id: int
    note_id: int
    status: str
    created: bool  # False: the note with our key was already there


@dataclass(frozen=True)
class StockLevel:
    """A product's (or variation's) stock as WooCommerce shows it. Unmanaged stock has no number (`stock_quantity`
    None): the shop sells it by `stock_status` alone."""

    product_id: int
    variation_id: int | None
    stock_quantity: int | None
    manage_stock: bool = True
    stock_status: str = ""
    sku: str = ""

    @classmethod
    def from_body(cls, body: dict[str, Any], *, product_id: int, variation_id: int | None = None) -> StockLevel:
        quantity = body.get("stock_quantity")
        return cls(
            product_id=int(product_id),
            variation_id=variation_id or None,
            stock_quantity=int(quantity) if quantity is not None and body.get("manage_stock") else None,
            manage_stock=bool(body.get("manage_stock")),
            stock_status=str(body.get("stock_status") or ""),
            sku=str(body.get("sku") or ""),
        )


class WooCommerceClient:
    def __init__(self, http: HttpClient) -> None:
        self.http = http

    # -- sync surface ----------------------------------------------------------------------------------------------

    def get_order(self, order_id: int | str) -> dict[str, Any]:
        return dict(self.http.get(f"/wp-json/wc/v3/orders/{order_id}").json())

    def list_orders_page(
        self, *, modified_after: dt.datetime | None = None, page: int = 1, per_page: int = PER_PAGE
    ) -> OrderPage:
        params: dict[str, Any] = {"page": page, "per_page": per_page, "orderby": "id", "order": "asc"}
        if modified_after is not None:
            params["modified_after"] = modified_after.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
            params["dates_are_gmt"] = "true"
        response = self.http.get("/wp-json/wc/v3/orders", params=params)
        return OrderPage(
            orders=list(response.json()),
            page=page,
            total=int(response.headers.get("X-WP-Total", "0") or 0),
            total_pages=int(response.headers.get("X-WP-TotalPages", "0") or 0),
        )

    def list_orders_changed_since(
        self, since: dt.datetime | None, *, per_page: int = PER_PAGE
    ) -> Iterator[dict[str, Any]]:
        page = self.list_orders_page(modified_after=since, page=1, per_page=per_page)
        yield from page.orders
        while page.page < page.total_pages:
            page = self.list_orders_page(modified_after=since, page=page.page + 1, per_page=per_page)
            yield from page.orders

    # -- write surface ---------------------------------------------------------------------------------------------

    def order_notes(self, order_id: int | str) -> list[dict[str, Any]]:
        return list(self.http.get(f"/wp-json/wc/v3/orders/{order_id}/notes").json())

    def complete_with_tracking(
        self,
        *,
        order_id: int | str,
        tracking_number: str,
        carrier: str,
        tracking_url: str = "",
        idempotency_key: str,
        lines: Sequence[Mapping[str, Any]] | None = None,
        complete: bool = True,
    ) -> TrackingNote:
        """Status `completed` (an idempotent PUT) and one customer note with the tracking, tagged with our key;
        the notes are read back first so a retried write never adds a second note. WooCommerce has no partial
        fulfilment: one leg of an order shipped from several facilities is a note naming its `lines`, and only the
        last leg (`complete`) completes the order."""
        updated: dict[str, Any] = {}
        if complete:
            updated = self.http.put(f"/wp-json/wc/v3/orders/{order_id}", json_body={"status": "completed"}).json()
        marker = f"{NOTE_REF}{idempotency_key[:16]}"
        for note in self.order_notes(order_id):
            if marker in str(note.get("note", "")):
                return TrackingNote(int(order_id), int(note["id"]), str(updated.get("status", "")), created=False)
        text = f"Shipped with {carrier}, tracking {tracking_number}"
        if tracking_url:
            text += f" ({tracking_url})"
        if lines:
            text += ": " + ", ".join(
                f"{line.get('sku') or line.get('line_item_id')} × {line['quantity']}" for line in lines
            )
        note = self.http.post(
            f"/wp-json/wc/v3/orders/{order_id}/notes",
            json_body={"note": f"{text} [{marker}]", "customer_note": True},
        ).json()
        return TrackingNote(int(order_id), int(note["id"]), str(updated.get("status", "")), created=True)

    def update_stock(self, *, product_id: int, quantity: int, variation_id: int | None = None) -> StockLevel:
        path = f"/wp-json/wc/v3/products/{product_id}"
        if variation_id:
            path += f"/variations/{variation_id}"
        body = self.http.put(path, json_body={"manage_stock": True, "stock_quantity": quantity}).json()
        return StockLevel.from_body(body, product_id=product_id, variation_id=variation_id)

    def update_stock_batch(
        self, items: Sequence[tuple[int, int | None, int]]
    ) -> dict[tuple[int, int | None], StockLevel | str]:
        """Set many absolute numbers, `(product id, variation id or None, quantity)` each: products through
        `POST products/batch`, a product's variations through `POST products/<id>/variations/batch`, 100 objects a
        call. An absolute set is idempotent, so each batch is sent as an idempotent write. Returns, per item, what the
        shop now shows, or the shop's error message for an item it refused."""
        groups: dict[int | None, list[tuple[int, int | None, int]]] = {}
        for pid, vid, quantity in items:
            groups.setdefault(int(pid) if vid else None, []).append((int(pid), int(vid) if vid else None, quantity))
        done: dict[tuple[int, int | None], StockLevel | str] = {}
        for parent, group in sorted(groups.items(), key=lambda g: g[0] or 0):
            path = f"/wp-json/wc/v3/products/{parent}/variations/batch" if parent else "/wp-json/wc/v3/products/batch"
            for start in range(0, len(group), BATCH_MAX):
                chunk = group[start : start + BATCH_MAX]
                update = [
                    {"id": vid or pid, "manage_stock": True, "stock_quantity": quantity} for pid, vid, quantity in chunk
                ]
                body = self.http.request("POST", path, json_body={"update": update}, idempotent=True).json()
                answered = {int(item.get("id") or 0): item for item in body.get("update") or []}
                for pid, vid, _quantity in chunk:
                    item = answered.get(vid or pid)
                    if item is None or "error" in item:
                        error = (item or {}).get("error") or {}
                        done[(pid, vid)] = str(error.get("message") or "not in the shop's answer")
                    else:
                        done[(pid, vid)] = StockLevel.from_body(item, product_id=pid, variation_id=vid)
        return done

    # -- webhook subscriptions -------------------------------------------------------------------------------------

    def webhooks(self) -> list[dict[str, Any]]:
        """Every webhook of the shop, across pages."""
        found: list[dict[str, Any]] = []
        page, pages = 1, 1
        while page <= pages:
            response = self.http.get("/wp-json/wc/v3/webhooks", params={"page": page, "per_page": PER_PAGE})
            found.extend(response.json())
            pages = int(response.headers.get("X-WP-TotalPages", "0") or 0)
            page += 1
        return found

    def create_webhook(self, *, topic: str, delivery_url: str, secret: str, name: str = "") -> dict[str, Any]:
        if secret and secret not in self.http.secrets:
            self.http.secrets.append(secret)  # redacted from what the audit hook sees, like the keys
        payload = {"name": name or f"warehouse hub: {topic}", "topic": topic, "delivery_url": delivery_url,
                   "secret": secret, "status": "active"}  # fmt: skip
        return dict(self.http.post("/wp-json/wc/v3/webhooks", json_body=payload).json())

    # -- stock read-back -------------------------------------------------------------------------------------------

    def get_product(self, product_id: int | str) -> dict[str, Any]:
        return dict(self.http.get(f"/wp-json/wc/v3/products/{product_id}").json())

    def get_variation(self, product_id: int | str, variation_id: int | str) -> dict[str, Any]:
        return dict(self.http.get(f"/wp-json/wc/v3/products/{product_id}/variations/{variation_id}").json())

    def list_products_page(
        self,
        *,
        page: int = 1,
        per_page: int | None = None,
        sku: Iterable[str] = (),
        include: Iterable[int] = (),
    ) -> ProductPage:
        """One page of products, filtered by exact SKUs and/or ids (`include`), in id order so pages are stable."""
        params: dict[str, Any] = {"page": page, "per_page": per_page or PER_PAGE, "orderby": "id", "order": "asc"}
        if skus := ",".join(sku):
            params["sku"] = skus
        if ids := ",".join(str(int(i)) for i in include):
            params["include"] = ids
        response = self.http.get("/wp-json/wc/v3/products", params=params)
        return ProductPage(
            products=list(response.json()),
            page=page,
            total=int(response.headers.get("X-WP-Total", "0") or 0),
            total_pages=int(response.headers.get("X-WP-TotalPages", "0") or 0),
        )

    def list_products(
        self, *, sku: Iterable[str] = (), include: Iterable[int] = (), per_page: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every matching product, following `X-WP-TotalPages` (a host may cap `per_page` below what we ask)."""
        sku, include = list(sku), list(include)
        page = self.list_products_page(page=1, per_page=per_page, sku=sku, include=include)
        yield from page.products
        while page.page < page.total_pages:
            page = self.list_products_page(page=page.page + 1, per_page=per_page, sku=sku, include=include)
            yield from page.products

    def stock_levels(
        self, items: Iterable[tuple[int, int | None]], *, per_page: int | None = None
    ) -> dict[tuple[int, int | None], StockLevel]:
        """What the shop shows for each (product id, variation id or None). Products are read in lists of up to
        `INCLUDE_CHUNK` ids (`include`, every page); variations one by one. Items the shop lacks are left out."""
        wanted = {(int(pid), int(vid) if vid else None) for pid, vid in items}
        products = sorted({pid for pid, vid in wanted if vid is None})
        levels: dict[tuple[int, int | None], StockLevel] = {}
        for start in range(0, len(products), INCLUDE_CHUNK):
            for body in self.list_products(include=products[start : start + INCLUDE_CHUNK], per_page=per_page):
                levels[(int(body["id"]), None)] = StockLevel.from_body(body, product_id=int(body["id"]))
        for pid, vid in sorted((p, v) for p, v in wanted if v is not None):
            try:
                body = self.get_variation(pid, vid)
            except PermanentError as exc:
                if exc.status_code != 404:
                    raise
                continue
            levels[(pid, vid)] = StockLevel.from_body(body, product_id=pid, variation_id=vid)
        return levels


def woocommerce_client(
    *,
    base_url: str,
    consumer_key: str,
    consumer_secret: str,
    on_exchange: Callable[[Exchange], None] | None = None,
    **http_options: Any,
) -> WooCommerceClient:
    if urlsplit(base_url).scheme == "http":
        # WooCommerce refuses Basic auth without TLS: one-legged OAuth 1.0a, signed into the query string.
        session = http_options.pop("session", None) or requests.Session()
        session.auth = OAuth1(
            consumer_key,
            client_secret=consumer_secret,
            signature_method=SIGNATURE_HMAC_SHA256,
            signature_type=SIGNATURE_TYPE_QUERY,
        )
        http = HttpClient(
            base_url=base_url,
            session=session,
            secrets=[consumer_key, consumer_secret],
            on_exchange=on_exchange,
            **http_options,
        )
    else:
        http = HttpClient(
            base_url=base_url,
            auth=(consumer_key, consumer_secret),
            secrets=[consumer_key, consumer_secret],
            on_exchange=on_exchange,
            **http_options,
        )
    return WooCommerceClient(http)
