"""BigCommerce REST client (no Django), on `https://api.bigcommerce.com/stores/{store_hash}` with `X-Auth-Token`:

- orders from the V2 API: one order with its `products` and `shipping_addresses` sub-resources read in as lists, and
  the orders changed since a time, `page`/`limit` pages of bare JSON arrays until a page comes back empty (204: V2
  sends no page count, and a store may serve fewer orders per page than asked);
- shipments (V2 `POST /orders/{id}/shipments`) with tracking; BigCommerce has no idempotency key, so each shipment
  carries our key in its `comments` and the order's shipments are read back before writing: a retry after a
  timeout or a 500 finds the shipment that landed and writes nothing;
- stock written absolute per location through the V3 inventory API (`PUT /v3/inventory/adjustments/absolute`, up to
  2000 items a call) and read back in bulk (`GET /v3/inventory/items`);
- webhook subscriptions (V3 `/hooks`);
- the rate-limit signals: `X-Rate-Limit-Requests-Quota`/`-Left` as headroom, and a 429 waits
  `X-Rate-Limit-Time-Reset-Ms` (BigCommerce sends no `Retry-After`)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from email.utils import format_datetime
from typing import Any

from integrations.http import Exchange, Headroom, HttpClient, PermanentError, Response

API_HOST = "api.bigcommerce.com"
V2_LIMIT = 250  # the V2 API's largest page
V3_LIMIT = 250
ADJUST_MAX = 2000  # items per absolute adjustment
IDS_PER_READ = 100  # variant ids per inventory read: keeps the URL short
COMMENT_REF = "ref:"
TRACKING_MAX = 50  # BigCommerce refuses a longer tracking number (400)
# `shipping_provider` values BigCommerce knows; another carrier is named in the comments only.
SHIPPING_PROVIDERS = frozenset(
    {"auspost", "canadapost", "endicia", "usps", "fedex", "royalmail", "ups", "upsready", "shipperhq"}
)
# An AfterShip courier slug ("dhl-germany"), what `tracking_carrier` takes.
AFTERSHIP_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
REASON = "warehouse hub: stock level"


def parse_headroom(headers: Mapping[str, str], body: Any = None) -> Headroom | None:
    """`X-Rate-Limit-Requests-Quota: 150` and `X-Rate-Limit-Requests-Left: 35` (per window, shared by every app of
    the store)."""
    quota, left = headers.get("X-Rate-Limit-Requests-Quota"), headers.get("X-Rate-Limit-Requests-Left")
    if not quota or left is None:
        return None
    try:
        return Headroom(used=float(quota) - float(left), limit=float(quota), source="rest")
    except ValueError:
        return None


def rate_limit_wait(headers: Mapping[str, str]) -> float | None:
    """A 429's wait: `X-Rate-Limit-Time-Reset-Ms` in seconds (None when absent: BigCommerce overloaded, not our
    quota; `Retry-After` or the default wait then)."""
    value = headers.get("X-Rate-Limit-Time-Reset-Ms")
    try:
        return max(float(value), 0.0) / 1000 if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class Shipment:
    id: int
    order_id: int
    tracking_number: str
    created: bool  # False: found by reading back (an earlier attempt landed), nothing was written


@dataclass(frozen=True)
class InventoryLevel:
    variant_id: int
    location_id: int
    on_hand: int  # `total_inventory_onhand`: what an absolute adjustment sets
    available_to_sell: int


class NothingToShip(PermanentError):
    """No item of the order (or of the leg) is left to ship, and no shipment carries our key: never worth a retry."""

    def __init__(self, order_id: int | str) -> None:
        message = f"BigCommerce order {order_id}: every item is already shipped, by a shipment that is not ours"
        super().__init__(message, status_code=422, body="nothing to ship")


def marker(idempotency_key: str, address_id: int) -> str:
    """Our key in a shipment's comments, per shipping address (an order shipped to two addresses has two)."""
    return f"[{COMMENT_REF}{idempotency_key[:16]}/{address_id}]"


class BigCommerceClient:
    def __init__(self, http: HttpClient) -> None:
        self.http = http

    # -- paging ----------------------------------------------------------------------------------------------------

    def _v2_all(self, path: str) -> list[dict[str, Any]]:
        """Every item of an order's V2 sub-resource (products, shipping addresses, shipments): pages of `limit` until
        a shorter one (204 when there is none at all)."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            items = _array(self.http.get(path, params={"page": page, "limit": V2_LIMIT}))
            found.extend(items)
            if len(items) < V2_LIMIT:
                return found
            page += 1

    def _v3_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every item of a V3 collection (`{"data": [...], "meta": {"pagination": {"total_pages"}}}`)."""
        found: list[dict[str, Any]] = []
        page, pages = 1, 1
        while page <= pages:
            body = self.http.get(path, params={**(params or {}), "page": page, "limit": V3_LIMIT}).json() or {}
            found.extend(body.get("data") or [])
            pages = int(((body.get("meta") or {}).get("pagination") or {}).get("total_pages") or 0)
            page += 1
        return found

    # -- orders (V2) -----------------------------------------------------------------------------------------------

    def get_order(self, order_id: int | str) -> dict[str, Any]:
        """The order with its products and shipping addresses as lists (what the default mappings read)."""
        order = dict(self.http.get(f"/v2/orders/{order_id}").json())
        return self._with_items(order)

    def _with_items(self, order: dict[str, Any]) -> dict[str, Any]:
        order_id = order["id"]
        return {
            **order,
            "products": self._v2_all(f"/v2/orders/{order_id}/products"),
            "shipping_addresses": self._v2_all(f"/v2/orders/{order_id}/shipping_addresses"),
        }

    def list_orders_page(self, *, since: dt.datetime | None, page: int, limit: int = V2_LIMIT) -> list[dict[str, Any]]:
        """One page of orders (without their items), in id order; [] past the last page (204)."""
        params: dict[str, Any] = {"page": page, "limit": limit, "sort": "id:asc"}
        if since is not None:
            params["min_date_modified"] = format_datetime(since.astimezone(dt.UTC))  # RFC 2822, as V2 writes dates
        return _array(self.http.get("/v2/orders", params=params))

    def list_orders_changed_since(self, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
        """Every order modified at or after `since` (all when None), each with its items, page after page until an
        empty one: the order list is read to its 204, since a store may serve fewer orders per page than asked."""
        page = 1
        while orders := self.list_orders_page(since=since, page=page):
            for order in orders:
                yield self._with_items(order)
            page += 1

    # -- shipments (V2) --------------------------------------------------------------------------------------------

    def shipments(self, order_id: int | str) -> list[dict[str, Any]]:
        """The order's shipments (204 when it has none)."""
        return self._v2_all(f"/v2/orders/{order_id}/shipments")

    def ship(
        self,
        *,
        order_id: int | str,
        tracking_number: str,
        carrier: str,
        tracking_url: str = "",
        idempotency_key: str,
        lines: Sequence[Mapping[str, Any]] | None = None,
    ) -> Shipment:
        """Ship what is left of the order (or of `lines`, one leg: `line_item_id` is the order product id, `sku`
        when the id is unknown) with tracking: one shipment per shipping address, each carrying our key. The
        shipments are read back first: a shipment with our key means that part already landed."""
        ours: dict[int, dict[str, Any]] = {}
        for shipment in self.shipments(order_id):
            address = int(shipment.get("order_address_id") or 0)
            if marker(idempotency_key, address) in str(shipment.get("comments") or ""):
                ours.setdefault(address, shipment)
        items_by_address: dict[int, list[dict[str, int]]] = {}
        for product, quantity in _to_ship(self._v2_all(f"/v2/orders/{order_id}/products"), lines):
            item = {"order_product_id": int(product["id"]), "quantity": quantity}
            items_by_address.setdefault(int(product["order_address_id"]), []).append(item)
        if not items_by_address and not ours:
            raise NothingToShip(order_id)
        created: Shipment | None = None
        for address, items in sorted(items_by_address.items()):
            if address in ours:
                continue
            body = self._shipment_body(tracking_number, carrier, tracking_url)
            body.update(order_address_id=address, items=items)
            body["comments"] += f" {marker(idempotency_key, address)}"
            shipment = self.http.post(f"/v2/orders/{order_id}/shipments", json_body=body).json()
            created = created or Shipment(int(shipment["id"]), int(order_id), tracking_number, created=True)
        if created is not None:
            return created
        first = min(ours.values(), key=lambda s: int(s["id"]))
        return Shipment(int(first["id"]), int(order_id), str(first.get("tracking_number") or ""), created=False)

    def update_tracking(
        self,
        *,
        order_id: int | str,
        tracking_number: str,
        carrier: str,
        tracking_url: str = "",
        previous_tracking_number: str,
        idempotency_key: str,
    ) -> Shipment | None:
        """A changed tracking number on the shipments that carry the previous one (an idempotent PUT each). None
        when no shipment has it."""
        changed: Shipment | None = None
        for shipment in self.shipments(order_id):
            number = str(shipment.get("tracking_number") or "")
            if number not in (previous_tracking_number, tracking_number) or not previous_tracking_number:
                continue
            body = self._shipment_body(tracking_number, carrier, tracking_url)
            body["comments"] = str(shipment.get("comments") or "")
            self.http.put(f"/v2/orders/{order_id}/shipments/{shipment['id']}", json_body=body)
            written = Shipment(int(shipment["id"]), int(order_id), tracking_number, created=number != tracking_number)
            changed = changed or written
        return changed

    @staticmethod
    def _shipment_body(tracking_number: str, carrier: str, tracking_url: str) -> dict[str, Any]:
        """`carrier` is one of BigCommerce's `shipping_provider` values, or else an AfterShip slug, its
        `tracking_carrier` (either gives the customer a tracking link); any other name is in the comments only."""
        provider = carrier.strip().lower()
        standard = provider in SHIPPING_PROVIDERS
        body: dict[str, Any] = {
            "tracking_number": tracking_number,
            "shipping_provider": provider if standard else "",
            "tracking_carrier": provider if not standard and AFTERSHIP_SLUG.fullmatch(provider) else "",
            "comments": f"Shipped with {carrier}" if carrier else "Shipped",
        }
        if tracking_url:
            body["tracking_link"] = tracking_url
        return body

    # -- stock (V3 inventory) --------------------------------------------------------------------------------------

    def set_stock(self, items: Sequence[tuple[int, int, int]]) -> None:
        """Absolute levels, `(variant id, location id, quantity)` each, up to 2000 items a call. An absolute set is
        idempotent: each call is sent as an idempotent write (retried on a timeout)."""
        for start in range(0, len(items), ADJUST_MAX):
            chunk = items[start : start + ADJUST_MAX]
            body = {
                "reason": REASON,
                "items": [{"location_id": loc, "variant_id": vid, "quantity": qty} for vid, loc, qty in chunk],
            }
            self.http.request("PUT", "/v3/inventory/adjustments/absolute", json_body=body, idempotent=True)

    def stock_levels(self, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], InventoryLevel]:
        """What the store shows for each (variant id, location id) it has, read in bulk."""
        wanted = sorted(set(pairs))
        variants = sorted({vid for vid, _ in wanted})
        locations = ",".join(str(loc) for loc in sorted({loc for _, loc in wanted}))
        found: dict[tuple[int, int], InventoryLevel] = {}
        for start in range(0, len(variants), IDS_PER_READ):
            ids = ",".join(str(v) for v in variants[start : start + IDS_PER_READ])
            for item in self._v3_all("/v3/inventory/items", {"variant_id:in": ids, "location_id:in": locations}):
                vid = int((item.get("identity") or {}).get("variant_id") or 0)
                for at in item.get("locations") or []:
                    level = InventoryLevel(
                        variant_id=vid,
                        location_id=int(at["location_id"]),
                        on_hand=int(at.get("total_inventory_onhand") or 0),
                        available_to_sell=int(at.get("available_to_sell") or 0),
                    )
                    found[(level.variant_id, level.location_id)] = level
        return {pair: found[pair] for pair in wanted if pair in found}

    # -- webhook subscriptions (V3) --------------------------------------------------------------------------------

    def hooks(self, *, destination: str = "") -> list[dict[str, Any]]:
        return self._v3_all("/v3/hooks", {"destination": destination} if destination else None)

    def create_hook(self, *, scope: str, destination: str) -> dict[str, Any]:
        body = {"scope": scope, "destination": destination, "is_active": True}
        return dict(self.http.post("/v3/hooks", json_body=body).json()["data"])

    def activate_hook(self, hook_id: int | str) -> dict[str, Any]:
        return dict(self.http.put(f"/v3/hooks/{hook_id}", json_body={"is_active": True}).json()["data"])


def _array(response: Response) -> list[dict[str, Any]]:
    """A V2 collection page: a bare JSON array; 204 (no body) is an empty page."""
    if response.status == 204 or not response.body:
        return []
    body = response.json()
    return list(body) if isinstance(body, list) else []


def _to_ship(
    products: list[dict[str, Any]], lines: Sequence[Mapping[str, Any]] | None
) -> Iterator[tuple[dict[str, Any], int]]:
    """(order product, quantity) still to ship: every product's unshipped quantity, or only what `lines` names."""
    left = {int(p["id"]): int(p.get("quantity") or 0) - int(p.get("quantity_shipped") or 0) for p in products}
    if lines is None:
        for product in products:
            if left[int(product["id"])] > 0:
                yield product, left[int(product["id"])]
        return
    by_sku = {str(p.get("sku") or ""): p for p in products}
    for line in lines:
        wanted = str(line.get("line_item_id") or "")
        found = next((p for p in products if str(p["id"]) == wanted), None)
        chosen = found or by_sku.get(str(line.get("sku") or ""))
        if chosen is None:
            continue
        quantity = min(int(line.get("quantity") or 0), left[int(chosen["id"])])
        if quantity > 0:
            left[int(chosen["id"])] -= quantity
            yield chosen, quantity


def bigcommerce_client(
    *,
    base_url: str,
    access_token: str,
    client_id: str = "",
    on_exchange: Callable[[Exchange], None] | None = None,
    **http_options: Any,
) -> BigCommerceClient:
    """`base_url` is the store's API root, `https://api.bigcommerce.com/stores/{store_hash}` (or a simulator's)."""
    headers = {"X-Auth-Token": access_token}
    if client_id:
        headers["X-Auth-Client"] = client_id
    http = HttpClient(
        base_url=base_url,
        auth_headers=headers,
        secrets=[s for s in (access_token,) if s],
        on_exchange=on_exchange,
        headroom_parser=parse_headroom,
        retry_after_parser=rate_limit_wait,
        **http_options,
    )
    return BigCommerceClient(http)
