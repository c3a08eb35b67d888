"""WooCommerce's event surface: webhook headers, signature, topics and the default mappings of an order payload.

Signature: `X-WC-Webhook-Signature` = base64(HMAC-SHA256(webhook secret, raw body)). Dedupe on
`X-WC-Webhook-Delivery-ID`. On creation WooCommerce sends an unsigned ping (form body `webhook_id=N`) that must get
exactly 200, or the webhook is not activated."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from integrations.platforms.base import DeliveryMeta, base64_hmac_sha256_valid, header_bytes

SIGNATURE_HEADER = "X-WC-Webhook-Signature"
TOPIC_HEADER = "X-WC-Webhook-Topic"
PING_RE = re.compile(rb"^webhook_id=\d{1,20}$")

ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})

DEFAULT_FIELD_MAPPING: dict[str, object] = {
    "platform_order_id": "id",
    "updated_at": "date_modified_gmt",
    "status": "status",
    "placed_at": "date_created_gmt",
    "paid_at": "date_paid_gmt",
    "phone": ["shipping.phone", "billing.phone"],
    "email": "billing.email",
    "special_handling": "customer_note",
    "address.name": {"join": ["shipping.first_name", "shipping.last_name"]},
    "address.street1": "shipping.address_1",
    "address.street2": "shipping.address_2",
    "address.postal_code": "shipping.postcode",
    "address.city": "shipping.city",
    "address.region": "shipping.state",
    "address.country": "shipping.country",
    "lines": "line_items",
    "lines.sku_code": "sku",
    "lines.quantity": "quantity",
    "lines.external_line_id": "id",
    "lines.title": "name",
}

DEFAULT_STATUS_MAPPING = {
    "pending": "open",
    "on-hold": "open",
    "checkout-draft": "open",
    "processing": "paid",
    "completed": "paid",
    "cancelled": "cancelled",
    "refunded": "cancelled",
    "failed": "cancelled",
    "trash": "cancelled",
}


def signature_valid(*, body: bytes, headers: Mapping[str, str], secrets: Iterable[str]) -> bool:
    return base64_hmac_sha256_valid(body=body, signature=header_bytes(headers.get(SIGNATURE_HEADER)), secrets=secrets)


def is_handshake(*, body: bytes, headers: Mapping[str, str]) -> bool:
    """The creation ping: no signature header and a `webhook_id=N` form body."""
    return headers.get(SIGNATURE_HEADER) is None and bool(PING_RE.match(body.strip()))


def delivery_meta(headers: Mapping[str, str]) -> DeliveryMeta:
    return DeliveryMeta(
        # Kept whole: the inbox names an overlong key by its hash, never cuts it short.
        delivery_id=(headers.get("X-WC-Webhook-Delivery-ID") or ""),
        event_id=(headers.get("X-WC-Webhook-ID") or "")[:200],
        topic=(headers.get(TOPIC_HEADER) or "")[:120],
        triggered_at=None,
    )


def is_order_topic(topic: str) -> bool:
    return topic in ORDER_TOPICS
