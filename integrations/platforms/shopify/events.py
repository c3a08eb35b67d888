"""Shopify's event surface: webhook headers, signature, topics and the default mappings of an order payload.

Signature: `X-Shopify-Hmac-Sha256` = base64(HMAC-SHA256(app client secret, raw body)); an empty body is invalid.
Dedupe on `X-Shopify-Webhook-Id` (fallback `X-Shopify-Event-Id`); `X-Shopify-Triggered-At` dates the event."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from integrations.mappings import parse_datetime
from integrations.platforms.base import DeliveryMeta, base64_hmac_sha256_valid, header_bytes

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"

ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/cancelled",
        "orders/fulfilled",
        "orders/partially_fulfilled",
        "orders/edited",
    }
)

DEFAULT_FIELD_MAPPING: dict[str, object] = {
    "platform_order_id": "id",
    "updated_at": "updated_at",
    "status": "financial_status",
    "cancelled_at": "cancelled_at",
    "placed_at": ["processed_at", "created_at"],
    "paid_at": "processed_at",
    "phone": ["shipping_address.phone", "phone", "customer.phone"],
    "email": ["email", "contact_email", "customer.email"],
    "special_handling": "note",
    "address.name": ["shipping_address.name", "billing_address.name"],
    "address.street1": "shipping_address.address1",
    "address.street2": "shipping_address.address2",
    "address.postal_code": "shipping_address.zip",
    "address.city": "shipping_address.city",
    "address.region": "shipping_address.province_code",
    "address.country": "shipping_address.country_code",
    "lines": "line_items",
    "lines.sku_code": "sku",
    "lines.quantity": "quantity",
    "lines.external_line_id": "id",
    "lines.title": "name",
}

DEFAULT_STATUS_MAPPING = {
    "pending": "open",
    "authorized": "paid",
    "partially_paid": "open",
    "paid": "paid",
    "partially_refunded": "paid",
    "refunded": "cancelled",
    "voided": "cancelled",
    "expired": "cancelled",
}


def signature_valid(*, body: bytes, headers: Mapping[str, str], secrets: Iterable[str]) -> bool:
    if not body:
        return False
    return base64_hmac_sha256_valid(body=body, signature=header_bytes(headers.get(SIGNATURE_HEADER)), secrets=secrets)


def is_handshake(*, body: bytes, headers: Mapping[str, str]) -> bool:
    return False  # Shopify has no unsigned handshake on the webhook URL


def delivery_meta(headers: Mapping[str, str]) -> DeliveryMeta:
    return DeliveryMeta(
        # Kept whole: the inbox names an overlong key by its hash, never cuts it short.
        delivery_id=(headers.get("X-Shopify-Webhook-Id") or headers.get("X-Shopify-Event-Id") or ""),
        event_id=(headers.get("X-Shopify-Event-Id") or "")[:200],
        topic=(headers.get(TOPIC_HEADER) or "")[:120],
        triggered_at=parse_datetime(headers.get("X-Shopify-Triggered-At")),
    )


def is_order_topic(topic: str) -> bool:
    return topic in ORDER_TOPICS
