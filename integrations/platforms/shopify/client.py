"""Shopify Admin REST client (no Django): orders by id and changed since a time with `Link`/`page_info` cursors,
fulfilments on fulfilment orders with tracking, absolute inventory levels and their bulk read, webhook
subscriptions, and Shopify's rate-limit signals (`X-Shopify-Shop-Api-Call-Limit`, GraphQL `throttleStatus`), which
the shared `HttpClient` reads through the parsers given here.

Shopify's REST fulfilment create has no idempotency facility, so the write surface reads back before writing: a
fulfilment with our tracking number on the order means the write already landed (after a timeout or a 500)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from integrations.http import Exchange, Headroom, HttpClient, PermanentError

API_VERSION = "2025-01"
PAGE_LIMIT = 250
IDS_PER_READ = 50  # `inventory_item_ids` / `location_ids` take at most 50 ids each
CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"


def parse_headroom(headers: Mapping[str, str], body: Any = None) -> Headroom | None:
    """GraphQL `extensions.cost.throttleStatus` when the body has one, else REST's `X-Shopify-Shop-Api-Call-Limit:
    32/40` (used/capacity)."""
    if isinstance(body, dict):
        status = ((body.get("extensions") or {}).get("cost") or {}).get("throttleStatus")
        if isinstance(status, dict):
            try:
                maximum = float(status["maximumAvailable"])
                available = float(status["currentlyAvailable"])
            except (KeyError, TypeError, ValueError):
                return None
            return Headroom(used=maximum - available, limit=maximum, source="graphql")
    call_limit = headers.get(CALL_LIMIT_HEADER)
    if call_limit and "/" in call_limit:
        used, _, limit = call_limit.partition("/")
        try:
            return Headroom(used=float(used), limit=float(limit), source="rest")
        except ValueError:
            return None
    return None


def graphql_throttle_wait(body: Any) -> float | None:
    """Seconds until a THROTTLED GraphQL query's cost is restored (Shopify refuses it with HTTP 200); None when the
    answer is not THROTTLED."""
    if not isinstance(body, dict):
        return None
    errors = body.get("errors") or []
    if not any(isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
        return None
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        needed = float(cost.get("requestedQueryCost") or 0) - float(status.get("currentlyAvailable") or 0)
        rate = float(status.get("restoreRate") or 50)
    except (TypeError, ValueError):
        return 1.0
    return max(needed / rate, 0.5) if rate > 0 else 1.0


@dataclass(frozen=True)
class OrderPage:
    orders: list[dict[str, Any]]
    next_url: str | None
    headroom: Headroom | None


@dataclass(frozen=True)
class Fulfillment:
    id: int
    order_id: int
    status: str
    tracking_number: str
    tracking_company: str
    created: bool  # False: it already existed (found by reading back), nothing was written


@dataclass(frozen=True)
class InventoryLevel:
    inventory_item_id: int
    location_id: int
    available: int


class NothingToFulfil(PermanentError):
    """The order has no open fulfilment order with remaining quantity, and no fulfilment with our tracking."""


class ShopifyClient:
    def __init__(self, http: HttpClient, *, api_version: str = API_VERSION) -> None:
        self.http = http
        self.api_version = api_version

    def _path(self, resource: str) -> str:
        return f"/admin/api/{self.api_version}/{resource}"

    # -- sync surface ----------------------------------------------------------------------------------------------

    def get_order(self, order_id: int | str) -> dict[str, Any]:
        body = self.http.get(self._path(f"orders/{order_id}.json")).json()
        return dict(body["order"])

    def list_orders_page(
        self, *, updated_at_min: dt.datetime | None = None, limit: int = PAGE_LIMIT, page_url: str | None = None
    ) -> OrderPage:
        """One page. The first call takes filters; the next pages are the `Link` rel="next" URL used verbatim
        (with `page_info` only `limit` and `fields` may accompany it)."""
        if page_url is not None:
            response = self.http.get(page_url)
        else:
            params: dict[str, Any] = {"status": "any", "limit": limit, "order": "updated_at asc"}
            if updated_at_min is not None:
                params["updated_at_min"] = updated_at_min.astimezone(dt.UTC).isoformat()
            response = self.http.get(self._path("orders.json"), params=params)
        return OrderPage(
            orders=list(response.json()["orders"]), next_url=response.links().get("next"), headroom=response.headroom
        )

    def list_orders_changed_since(
        self, since: dt.datetime | None, *, limit: int = PAGE_LIMIT
    ) -> Iterator[dict[str, Any]]:
        """Every order updated at or after `since` (all orders when None), across pages."""
        page = self.list_orders_page(updated_at_min=since, limit=limit)
        yield from page.orders
        while page.next_url:
            page = self.list_orders_page(page_url=page.next_url)
            yield from page.orders

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """One GraphQL Admin query; its cost headroom is on `http.last_headroom`. A THROTTLED answer (HTTP 200) is
        waited out like a 429, or raised as `RateLimited`."""
        body = self.http.request(
            "POST", self._path("graphql.json"), json_body={"query": query, "variables": variables or {}},
            idempotent=not query.lstrip().startswith("mutation"),
        ).json()  # fmt: skip
        if body.get("errors"):
            raise PermanentError("GraphQL errors", status_code=200, body=json.dumps(body["errors"])[:2000])
        return dict(body.get("data") or {})

    # -- write surface ---------------------------------------------------------------------------------------------

    def fulfillment_orders(self, order_id: int | str) -> list[dict[str, Any]]:
        body = self.http.get(self._path(f"orders/{order_id}/fulfillment_orders.json")).json()
        return list(body["fulfillment_orders"])

    def fulfillments(self, order_id: int | str) -> list[dict[str, Any]]:
        body = self.http.get(self._path(f"orders/{order_id}/fulfillments.json")).json()
        return list(body["fulfillments"])

    def find_fulfillment(self, *, order_id: int | str, tracking_number: str) -> Fulfillment | None:
        for found in self.fulfillments(order_id):
            numbers = found.get("tracking_numbers") or [found.get("tracking_number")]
            if tracking_number in numbers and found.get("status") != "cancelled":
                return _fulfillment(found, created=False)
        return None

    def create_fulfillment(
        self,
        *,
        order_id: int | str,
        tracking_number: str,
        tracking_company: str,
        tracking_url: str = "",
        notify_customer: bool = False,
        idempotency_key: str = "",
        lines: Sequence[Mapping[str, Any]] | None = None,
    ) -> Fulfillment:
        """Fulfil the order with one tracking number (one tracking number per fulfilment): every open fulfilment
        order, or only `lines` (`{line_item_id, quantity}`, `sku` when the id is unknown) for one leg of an order
        shipped from several facilities. Reads back first: if a fulfilment with this tracking number exists, it is
        returned unchanged."""
        existing = self.find_fulfillment(order_id=order_id, tracking_number=tracking_number)
        if existing is not None:
            return existing
        open_orders = [
            fo
            for fo in self.fulfillment_orders(order_id)
            if fo.get("status") in ("open", "in_progress")
            and any(int(li.get("fulfillable_quantity", 0)) > 0 for li in fo.get("line_items", []))
        ]
        if not open_orders:
            raise NothingToFulfil(
                f"order {order_id} has no open fulfillment order", status_code=422, body="nothing to fulfil"
            )
        groups: list[dict[str, Any]] = [{"fulfillment_order_id": fo["id"]} for fo in open_orders]
        if lines:
            groups = self._line_groups(order_id, open_orders, lines)
        tracking_info = {"number": tracking_number, "company": tracking_company}
        if tracking_url:
            tracking_info["url"] = tracking_url
        payload = {
            "fulfillment": {
                "message": f"Shipped by the warehouse (ref {idempotency_key[:16]})" if idempotency_key else "",
                "notify_customer": notify_customer,
                "tracking_info": tracking_info,
                "line_items_by_fulfillment_order": groups,
            }
        }
        # Shopify ignores this header on fulfilments; it lets a proxy or the simulator's ledger tie the write to us.
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        body = self.http.post(self._path("fulfillments.json"), json_body=payload, headers=headers).json()
        return _fulfillment(body["fulfillment"], created=True)

    def _line_groups(
        self, order_id: int | str, open_orders: list[dict[str, Any]], lines: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """`line_items_by_fulfillment_order` for just these lines: each order line item's quantity is taken from the
        fulfilment order lines that still have it to fulfil. A line that cannot be covered is refused whole."""
        by_sku: dict[str, str] = {}
        if any(not line.get("line_item_id") for line in lines):
            by_sku = {str(li.get("sku") or ""): str(li["id"]) for li in self.get_order(order_id).get("line_items", [])}
        left = {
            (fo["id"], li["id"]): int(li.get("fulfillable_quantity", 0))
            for fo in open_orders
            for li in fo.get("line_items", [])
        }
        taken: dict[int, dict[int, int]] = {}
        for line in lines:
            line_item_id = str(line.get("line_item_id") or by_sku.get(str(line.get("sku") or ""), ""))
            want = int(line["quantity"])
            for fo in open_orders:
                for li in fo.get("line_items", []):
                    if want and str(li.get("line_item_id")) == line_item_id:
                        n = min(want, left[(fo["id"], li["id"])])
                        if n:
                            left[(fo["id"], li["id"])] -= n
                            taken.setdefault(fo["id"], {})[li["id"]] = taken.get(fo["id"], {}).get(li["id"], 0) + n
                            want -= n
            if want:
                name = line.get("sku") or line_item_id or "?"
                raise NothingToFulfil(
                    f"order {order_id}: {want} of line {name} left to fulfil", status_code=422, body="nothing to fulfil"
                )
        return [
            {
                "fulfillment_order_id": fo_id,
                "fulfillment_order_line_items": [{"id": li_id, "quantity": n} for li_id, n in items.items()],
            }
            for fo_id, items in taken.items()
        ]

    def update_tracking(
        self,
        *,
        order_id: int | str,
        tracking_number: str,
        tracking_company: str,
        tracking_url: str = "",
        previous_tracking_number: str = "",
        notify_customer: bool = True,
    ) -> Fulfillment:
        """Change the tracking of the order's fulfilment (the one with `previous_tracking_number`, else the latest).
        Setting tracking is idempotent: a fulfilment already carrying this number is returned unchanged."""
        found = [f for f in self.fulfillments(order_id) if f.get("status") != "cancelled"]
        for existing in found:
            if tracking_number in (existing.get("tracking_numbers") or [existing.get("tracking_number")]):
                return _fulfillment(existing, created=False)
        target = next(
            (f for f in found if previous_tracking_number and f.get("tracking_number") == previous_tracking_number),
            found[-1] if found else None,
        )
        if target is None:
            raise NothingToFulfil(f"order {order_id} has no fulfilment to update", status_code=422, body="none")
        tracking_info = {"number": tracking_number, "company": tracking_company}
        if tracking_url:
            tracking_info["url"] = tracking_url
        body = self.http.request(
            "POST",
            self._path(f"fulfillments/{target['id']}/update_tracking.json"),
            json_body={"fulfillment": {"tracking_info": tracking_info, "notify_customer": notify_customer}},
            idempotent=True,
        ).json()
        return _fulfillment(body["fulfillment"], created=True)

    def fulfillment_events(self, *, order_id: int | str, fulfillment_id: int | str) -> list[dict[str, Any]]:
        path = self._path(f"orders/{order_id}/fulfillments/{fulfillment_id}/events.json")
        return list(self.http.get(path).json().get("fulfillment_events") or [])

    def create_fulfillment_event(
        self, *, order_id: int | str, fulfillment_id: int | str, status: str, happened_at: str
    ) -> tuple[dict[str, Any], bool]:
        """One status on a fulfilment (`FulfillmentEvent`), once: Shopify has no idempotency key here, so the
        fulfilment's events are read back first and an event with this status is returned as it is."""
        for found in self.fulfillment_events(order_id=order_id, fulfillment_id=fulfillment_id):
            if found.get("status") == status:
                return found, False
        path = self._path(f"orders/{order_id}/fulfillments/{fulfillment_id}/events.json")
        body = self.http.post(path, json_body={"event": {"status": status, "happened_at": happened_at}}).json()
        return dict(body["fulfillment_event"]), True

    def set_inventory_level(self, *, inventory_item_id: int, location_id: int, available: int) -> InventoryLevel:
        """Absolute set: repeating it is harmless, so it is sent as an idempotent write."""
        body = self.http.request(
            "POST",
            self._path("inventory_levels/set.json"),
            json_body={
                "location_id": location_id,
                "inventory_item_id": inventory_item_id,
                "available": available,
                "disconnect_if_necessary": False,
            },
            idempotent=True,
        ).json()
        level = body["inventory_level"]
        return InventoryLevel(
            inventory_item_id=int(level["inventory_item_id"]),
            location_id=int(level["location_id"]),
            available=int(level["available"]),
        )

    def inventory_levels(
        self, *, inventory_item_ids: Sequence[int | str], location_ids: Sequence[int | str] = ()
    ) -> list[InventoryLevel]:
        """The levels of these inventory items (at these locations when given), in reads of at most 50 item ids.
        Levels Shopify shows without a number (`available` null: not tracked) are left out."""
        items = sorted({str(int(i)) for i in inventory_item_ids})
        locations = ",".join(sorted({str(int(i)) for i in location_ids}))
        found: list[InventoryLevel] = []
        for start in range(0, len(items), IDS_PER_READ):
            params = {"inventory_item_ids": ",".join(items[start : start + IDS_PER_READ]), "limit": PAGE_LIMIT}
            if locations:
                params["location_ids"] = locations
            body = self.http.get(self._path("inventory_levels.json"), params=params).json()
            for level in body.get("inventory_levels", []):
                if level.get("available") is None:
                    continue
                found.append(
                    InventoryLevel(
                        inventory_item_id=int(level["inventory_item_id"]),
                        location_id=int(level["location_id"]),
                        available=int(level["available"]),
                    )
                )
        return found

    # -- webhook subscriptions -------------------------------------------------------------------------------------

    def webhooks(self, *, address: str = "") -> list[dict[str, Any]]:
        params = {"address": address, "limit": PAGE_LIMIT} if address else {"limit": PAGE_LIMIT}
        return list(self.http.get(self._path("webhooks.json"), params=params).json()["webhooks"])

    def create_webhook(self, *, topic: str, address: str) -> dict[str, Any]:
        body = self.http.post(
            self._path("webhooks.json"), json_body={"webhook": {"topic": topic, "address": address, "format": "json"}}
        ).json()
        return dict(body["webhook"])


def _fulfillment(data: dict[str, Any], *, created: bool) -> Fulfillment:
    return Fulfillment(
        id=int(data["id"]),
        order_id=int(data["order_id"]),
        status=str(data.get("status") or ""),
        tracking_number=str(data.get("tracking_number") or ""),
        tracking_company=str(data.get("tracking_company") or ""),
        created=created,
    )


def shopify_client(
    *,
    base_url: str,
    access_token: str,
    on_exchange: Callable[[Exchange], None] | None = None,
    **http_options: Any,
) -> ShopifyClient:
    http = HttpClient(
        base_url=base_url,
        auth_headers={"X-Shopify-Access-Token": access_token},
        secrets=[access_token],
        on_exchange=on_exchange,
        headroom_parser=parse_headroom,
        throttle_parser=graphql_throttle_wait,
        **http_options,
    )
    return ShopifyClient(http)
