"""BigCommerce's event surface: webhooks v3 with thin payloads, the Standard Webhooks signature, delivery meta from
the payload, topics, and the default mappings of an order as the connector fetches it.

A webhook only names its order: `{"scope": "store/order/created", "store_id": "…", "data": {"type": "order",
"id": 250}, "hash": "…", "created_at": 1561479335, "producer": "stores/{store_hash}"}`; the worker fetches the order
from the V2 API (`order_reference`). `hash` is the same when the same event fires twice: it is the dedupe key.

Signature (Standard Webhooks, as BigCommerce signs HTTPS webhooks): headers `webhook-id`, `webhook-timestamp` (Unix
seconds) and `webhook-signature: v1,<base64> [v1,<base64> …]`, where each signature is base64(HMAC-SHA256(the app's
client secret, `{webhook-id}.{webhook-timestamp}.{raw body}`)). A timestamp more than five minutes off is refused,
so a captured delivery cannot be replayed later; within those minutes a replay is a duplicate by its `hash`."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

from integrations.platforms.base import DeliveryMeta, header_bytes

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
TOLERANCE_SECONDS = 5 * 60
MAX_SIGNATURE_HEADER = 1024  # a few "v1,<44 characters>" entries; anything far longer is refused unread
MAX_ID_LENGTH = 256

ORDER_TOPICS = frozenset({"store/order/created", "store/order/updated", "store/order/statusUpdated"})

# The order as `BigCommerceClient.get_order` assembles it: the V2 order with its `products` and
# `shipping_addresses` sub-resources read in as lists (the V2 order itself only links to them).
DEFAULT_FIELD_MAPPING: dict[str, object] = {
    "platform_order_id": "id",
    "updated_at": "date_modified",
    "status": "status_id",
    "placed_at": "date_created",
    "phone": ["shipping_addresses[0].phone", "billing_address.phone"],
    "email": ["shipping_addresses[0].email", "billing_address.email"],
    "special_handling": "customer_message",
    "address.name": {"join": ["shipping_addresses[0].first_name", "shipping_addresses[0].last_name"]},
    "address.street1": "shipping_addresses[0].street_1",
    "address.street2": "shipping_addresses[0].street_2",
    "address.postal_code": "shipping_addresses[0].zip",
    "address.city": "shipping_addresses[0].city",
    "address.region": "shipping_addresses[0].state",
    "address.country": "shipping_addresses[0].country_iso2",
    "lines": "products",
    "lines.sku_code": "sku",
    "lines.quantity": "quantity",
    "lines.external_line_id": "id",
    "lines.title": "name",
}

# `status_id` (V2 `/order_statuses`): what is paid and waits for us, what is not yet paid, what is gone.
DEFAULT_STATUS_MAPPING = {
    "0": "open",  # Incomplete
    "1": "open",  # Pending
    "2": "paid",  # Shipped
    "3": "paid",  # Partially Shipped
    "4": "cancelled",  # Refunded
    "5": "cancelled",  # Cancelled
    "6": "cancelled",  # Declined
    "7": "open",  # Awaiting Payment
    "8": "paid",  # Awaiting Pickup
    "9": "paid",  # Awaiting Shipment
    "10": "paid",  # Completed
    "11": "paid",  # Awaiting Fulfillment
    "12": "open",  # Manual Verification Required
    "13": "open",  # Disputed
    "14": "paid",  # Partially Refunded
}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever its case (Standard Webhooks names them in lower case; proxies may not)."""
    value = headers.get(name)
    if value is not None:
        return value
    return next((v for k, v in headers.items() if k.lower() == name), None)


def standard_signature(*, msg_id: str, timestamp: str, body: bytes, secret: str) -> str:
    """`v1,<base64>`: the Standard Webhooks signature of this message with `secret` (the simulator and tests sign
    with it; verification below compares bytes against it)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_valid(
    *, body: bytes, headers: Mapping[str, str], secrets: Iterable[str], now: float | None = None
) -> bool:
    """True when one `v1` signature of `webhook-signature` is the message's signature with one of `secrets`, and the
    timestamp is within five minutes of `now`. Missing headers, a timestamp that is not whole seconds or is too far
    off, malformed or non-ASCII signatures, other versions, and an empty body are simply False."""
    msg_id = header_bytes(_header(headers, ID_HEADER))
    stamp = header_bytes(_header(headers, TIMESTAMP_HEADER))
    given = header_bytes(_header(headers, SIGNATURE_HEADER))
    if not body or not msg_id or not stamp or not given or len(given) > MAX_SIGNATURE_HEADER:
        return False
    if len(msg_id) > MAX_ID_LENGTH or not msg_id.isascii() or not stamp.isascii() or not stamp.isdigit():
        return False
    if abs((now if now is not None else time.time()) - int(stamp)) > TOLERANCE_SECONDS:
        return False
    offered: list[bytes] = []
    for entry in given.split():
        version, _, signature = entry.partition(b",")
        if version != b"v1" or not signature:
            continue
        try:
            if len(base64.b64decode(signature, validate=True)) == hashlib.sha256().digest_size:
                offered.append(signature)
        except (binascii.Error, ValueError):
            continue
    if not offered:
        return False
    signed = msg_id + b"." + stamp + b"." + body
    ok = False
    for secret in secrets:
        expected = base64.b64encode(hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).digest())
        for signature in offered:
            ok |= hmac.compare_digest(expected, signature)
    return ok


def _payload(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return {}
    return payload if isinstance(payload, dict) else {}


def delivery_meta(headers: Mapping[str, str], body: bytes) -> DeliveryMeta:
    """The dedupe key is the payload's `hash` (the same event fired twice has the same one), else the `webhook-id`;
    the topic is its `scope`; `created_at` (Unix seconds) dates it."""
    payload = _payload(body)
    msg_id = _header(headers, ID_HEADER) or ""
    key = payload.get("hash")
    created = payload.get("created_at")
    triggered_at = None
    if isinstance(created, int) and not isinstance(created, bool) and 0 < created < 2**40:
        triggered_at = dt.datetime.fromtimestamp(created, tz=dt.UTC)
    return DeliveryMeta(
        # Kept whole: the inbox names an overlong key by its hash, never cuts it short.
        delivery_id=(f"hash:{key}" if isinstance(key, str) and key else msg_id),
        event_id=msg_id[:200],
        topic=str(payload.get("scope") or "")[:120],
        triggered_at=triggered_at,
    )


def is_order_topic(topic: str) -> bool:
    return topic in ORDER_TOPICS


def order_reference(payload: Mapping[str, Any]) -> str | None:
    """A thin order webhook's order id (`data.id` of a `store/order/*` scope); None for anything else, e.g. the
    full order a reconciler pull stored."""
    scope = payload.get("scope")
    data = payload.get("data")
    if not isinstance(scope, str) or not scope.startswith("store/order/") or not isinstance(data, Mapping):
        return None
    order_id = data.get("id")
    if data.get("type") != "order" or isinstance(order_id, bool) or not isinstance(order_id, (int, str)):
        return None
    text = str(order_id)
    return text if text.isascii() and text.isdigit() else None
