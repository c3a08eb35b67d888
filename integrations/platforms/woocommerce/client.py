"""WooCommerce REST v3 client (no Django): orders by id and changed since a time with `page`/`per_page` and
`X-WP-Total`/`X-WP-TotalPages`, order completion with a tracking note, stock updates. Auth: HTTP Basic with the
consumer key and secret.

WooCommerce has no idempotency facility: the status update is naturally idempotent (PUT), and the tracking note
carries our key, so reading the order's notes back tells whether an earlier, ambiguous attempt landed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from integrations.http import Exchange, HttpClient

PER_PAGE = 100
NOTE_REF = "ref:"


@dataclass(frozen=True)
class OrderPage:
    orders: list[dict[str, Any]]
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
    product_id: int
    variation_id: int | None
    stock_quantity: int


class WooCommerceClient:
    platform = "woocommerce"

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
    ) -> TrackingNote:
        """Status `completed` (an idempotent PUT) and one customer note with the tracking, tagged with our key;
        the notes are read back first so a retried write never adds a second note."""
        updated = self.http.put(f"/wp-json/wc/v3/orders/{order_id}", json_body={"status": "completed"}).json()
        marker = f"{NOTE_REF}{idempotency_key[:16]}"
        for note in self.order_notes(order_id):
            if marker in str(note.get("note", "")):
                return TrackingNote(int(order_id), int(note["id"]), str(updated.get("status", "")), created=False)
        text = f"Shipped with {carrier}, tracking {tracking_number}"
        if tracking_url:
            text += f" ({tracking_url})"
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
        return StockLevel(
            product_id=int(product_id), variation_id=variation_id, stock_quantity=int(body.get("stock_quantity") or 0)
        )


def woocommerce_client(
    *,
    base_url: str,
    consumer_key: str,
    consumer_secret: str,
    on_exchange: Callable[[Exchange], None] | None = None,
    **http_options: Any,
) -> WooCommerceClient:
    http = HttpClient(
        base_url=base_url,
        auth=(consumer_key, consumer_secret),
        secrets=[consumer_key, consumer_secret],
        on_exchange=on_exchange,
        **http_options,
    )
    return WooCommerceClient(http)


def client_for(connection: Any, **http_options: Any) -> WooCommerceClient:
    """A client for a `Connection` (duck-typed: `api_base_url`, `shop`, `credentials_get()`), auditing each call."""
    from integrations.outbox.auditing import audit_hook

    credentials = connection.credentials_get()
    http_options.setdefault("on_exchange", audit_hook(connection))
    return woocommerce_client(
        base_url=connection.api_base_url or connection.shop,
        consumer_key=str(credentials.get("consumer_key", "")),
        consumer_secret=str(credentials.get("consumer_secret", "")),
        **http_options,
    )
