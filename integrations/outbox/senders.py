"""How each kind of message becomes calls on a platform client, and how the client's errors become outcomes.

Fulfilment writes are not idempotent on either platform, so both clients read back before writing (Shopify: a
fulfilment with our tracking number; WooCommerce: a note carrying our key). A retry, a replay, or a worker that
died after the platform's 200 therefore never produces a second fulfilment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.conf import settings

from integrations.http import (
    AmbiguousWrite,
    AuthExpired,
    HttpError,
    PermanentError,
    RateLimited,
    RetryPolicy,
    TransientError,
)
from integrations.models import Connection
from integrations.outbox.models import MessageKind, OutboundMessage

ClientFactory = Callable[[Connection], Any]

SENT, RETRY, DEAD, AUTH = "sent", "retry", "dead", "auth"


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to. `kind`: sent | retry | dead | auth."""

    kind: str
    status: int | None = None
    error: str = ""
    retry_after: float | None = None
    ambiguous: bool = False
    result: dict[str, Any] = field(default_factory=dict)


def default_client_factory(connection: Connection) -> Any:
    """The platform's client for this connection, with the worker's timeouts; few in-client retries, since the
    queue itself retries on its own schedule."""
    options: dict[str, Any] = dict(getattr(settings, "OUTBOX_HTTP", {}))
    attempts = int(options.pop("retry_attempts", 2))
    options.setdefault("connect_timeout", 3.05)
    options.setdefault("read_timeout", 15.0)
    options.setdefault("retry", RetryPolicy(attempts=attempts, max_retry_after=float(options.pop("max_wait", 10.0))))
    module = import_module(f"integrations.platforms.{connection.platform}.client")
    return module.client_for(connection, **options)


REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("shopify", MessageKind.FULFILMENT): ("order_id", "tracking_number"),
    ("shopify", MessageKind.TRACKING): ("order_id", "tracking_number"),
    ("shopify", MessageKind.INVENTORY): ("inventory_item_id", "location_id", "available"),
    ("woocommerce", MessageKind.FULFILMENT): ("order_id", "tracking_number"),
    ("woocommerce", MessageKind.TRACKING): ("order_id", "tracking_number"),
    ("woocommerce", MessageKind.INVENTORY): ("product_id", "quantity"),
}


def payload_problem(message: OutboundMessage) -> str:
    """Why this message can never be sent as it is ("" when it can): no write for the platform, a missing field."""
    required = REQUIRED.get((message.platform, message.kind))
    if required is None:
        return f"no {message.kind} write for {message.platform}"
    payload = message.payload if isinstance(message.payload, dict) else {}
    missing = [name for name in required if payload.get(name) in (None, "")]
    return f"payload lacks {', '.join(missing)}" if missing else ""


def send(message: OutboundMessage, client: Any) -> dict[str, Any]:
    """One write for this message; returns what the platform answered (ids), raises the client's errors."""
    payload = message.payload
    key = message.idempotency_key
    platform, kind = message.platform, message.kind
    if platform == "shopify" and kind == MessageKind.TRACKING:
        done = client.update_tracking(
            order_id=payload["order_id"],
            tracking_number=payload["tracking_number"],
            tracking_company=payload.get("carrier", ""),
            tracking_url=payload.get("tracking_url", ""),
            previous_tracking_number=payload.get("previous_tracking_number", ""),
        )
        return {"fulfillment_id": done.id, "created": done.created}
    if platform == "shopify" and kind == MessageKind.FULFILMENT:
        done = client.create_fulfillment(
            order_id=payload["order_id"],
            tracking_number=payload["tracking_number"],
            tracking_company=payload.get("carrier", ""),
            tracking_url=payload.get("tracking_url", ""),
            idempotency_key=key,
            lines=payload.get("lines") or None,
        )
        return {"fulfillment_id": done.id, "created": done.created}
    if platform == "shopify" and kind == MessageKind.INVENTORY:
        level = client.set_inventory_level(
            inventory_item_id=int(payload["inventory_item_id"]),
            location_id=int(payload["location_id"]),
            available=int(payload["available"]),
        )
        return {"available": level.available}
    if platform == "woocommerce" and kind in (MessageKind.FULFILMENT, MessageKind.TRACKING):
        note = client.complete_with_tracking(
            order_id=payload["order_id"],
            tracking_number=payload["tracking_number"],
            carrier=payload.get("carrier", ""),
            tracking_url=payload.get("tracking_url", ""),
            idempotency_key=key,
            lines=payload.get("lines") or None,
            complete=bool(payload.get("complete", True)),
        )
        return {"note_id": note.note_id, "created": note.created}
    if platform == "woocommerce" and kind == MessageKind.INVENTORY:
        stock = client.update_stock(
            product_id=int(payload["product_id"]),
            variation_id=int(payload["variation_id"]) if payload.get("variation_id") else None,
            quantity=int(payload["quantity"]),
        )
        return {"stock_quantity": stock.stock_quantity}
    raise PermanentError(f"no {kind} write for {platform}", status_code=501, body="unsupported")


def attempt(message: OutboundMessage, client: Any) -> Outcome:
    """Run one attempt and classify it (no database writes here besides the client's audit rows)."""
    problem = payload_problem(message)
    if problem:
        return Outcome(DEAD, error=problem)
    try:
        result = send(message, client)
    except AuthExpired as exc:
        return Outcome(AUTH, status=401, error=str(exc))
    except RateLimited as exc:
        return Outcome(RETRY, status=exc.status_code, error=str(exc), retry_after=exc.retry_after)
    except AmbiguousWrite as exc:
        return Outcome(RETRY, status=exc.status_code, error=f"ambiguous: {exc}", ambiguous=True)
    except TransientError as exc:
        return Outcome(RETRY, status=exc.status_code, error=str(exc), retry_after=exc.retry_after)
    except PermanentError as exc:
        return Outcome(DEAD, status=exc.status_code, error=f"{exc} {exc.body[:150]}")
    except HttpError as exc:
        return Outcome(RETRY, status=exc.status_code, error=str(exc))
    except Exception as exc:  # an unreadable answer (an HTML error page with 200...): it may have landed
        return Outcome(RETRY, error=f"unexpected {type(exc).__name__}", ambiguous=True)
    return Outcome(SENT, status=200, result=result)
