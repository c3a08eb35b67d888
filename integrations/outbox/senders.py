"""How each kind of message becomes a call on its platform's connector, and how the client's errors become outcomes.

Payloads are platform-neutral: a fulfilment or tracking change becomes a `FulfilmentWrite`, a stock write a
`StockTarget` and a number; the connector (`integrations.platforms.registry`) translates. Where a platform has no
idempotency facility for a fulfilment, its connector reads back before writing, so a retry, a replay, or a worker that
died after the platform's 200 never produces a second fulfilment."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from integrations.carriers.channel_names import carrier_tracking_url, channel_carrier_name
from integrations.connections import client_for
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
from integrations.platforms.protocol import FulfilmentWrite, StatusWrite, StockTarget, writes_status
from integrations.platforms.registry import connector_for, is_registered

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
    return client_for(connection, **options)


REQUIRED: dict[str, tuple[str, ...]] = {
    MessageKind.FULFILMENT: ("order_id", "tracking_number"),
    MessageKind.TRACKING: ("order_id", "tracking_number"),
    MessageKind.INVENTORY: ("listing", "quantity"),
    MessageKind.STATUS: ("order_id", "tracking_number", "status", "occurred_at"),
}


def payload_problem(message: OutboundMessage) -> str:
    """Why this message can never be sent as it is ("" when it can): no connector for the platform, no write of the
    kind, a missing field."""
    if not is_registered(message.platform):
        return f"no connector for {message.platform!r}"
    required = REQUIRED.get(message.kind)
    if required is None:
        return f"no {message.kind} write"
    payload = message.payload if isinstance(message.payload, dict) else {}
    missing = [name for name in required if payload.get(name) in (None, "")]
    return f"payload lacks {', '.join(missing)}" if missing else ""


def fulfilment_write(message: OutboundMessage) -> FulfilmentWrite:
    """A fulfilment or tracking payload (`order_id, tracking_number, carrier?, tracking_url?, lines?, complete?,
    previous_tracking_number?`) in the connector's terms; the message's key is the write's idempotency key. The
    carrier is named as the platform knows it (`channel_carrier_name`), with the carrier's tracking page unless the
    payload brings one."""
    payload = message.payload
    carrier, number = str(payload.get("carrier") or ""), str(payload["tracking_number"])
    return FulfilmentWrite(
        order_id=str(payload["order_id"]),
        tracking_number=number,
        carrier=channel_carrier_name(carrier, message.platform),
        tracking_url=str(payload.get("tracking_url") or "") or carrier_tracking_url(carrier, number),
        idempotency_key=message.idempotency_key,
        lines=payload.get("lines") or None,
        complete=bool(payload.get("complete", True)),
        previous_tracking_number=str(payload.get("previous_tracking_number") or ""),
        notify_customer=bool(payload.get("notify_customer", True)),
    )


def status_write(message: OutboundMessage) -> StatusWrite:
    """A status payload (`order_id, tracking_number, status, occurred_at, carrier?`) in the connector's terms."""
    payload = message.payload
    return StatusWrite(
        order_id=str(payload["order_id"]),
        tracking_number=str(payload["tracking_number"]),
        status=str(payload["status"]),
        occurred_at=dt.datetime.fromisoformat(str(payload["occurred_at"])),
        carrier=channel_carrier_name(str(payload.get("carrier") or ""), message.platform),
        idempotency_key=message.idempotency_key,
    )


def stock_target(payload: dict[str, Any]) -> StockTarget:
    """An inventory payload's (`sku_id, sku, listing, location, quantity`) place on the platform."""
    return StockTarget(listing=str(payload["listing"]), location=str(payload.get("location") or ""))


def send(message: OutboundMessage, client: Any) -> dict[str, Any]:
    """One write for this message through its platform's connector; returns what the platform answered (ids),
    raises the client's errors."""
    connector = connector_for(message.platform)
    if message.kind == MessageKind.INVENTORY:
        shown = connector.publish_stock(
            client, target=stock_target(message.payload), quantity=int(message.payload["quantity"])
        )
        return {"quantity": shown}
    if message.kind == MessageKind.TRACKING:
        done = connector.write_tracking(client, fulfilment_write(message))
    elif message.kind == MessageKind.FULFILMENT:
        done = connector.write_fulfilment(client, fulfilment_write(message))
    elif message.kind == MessageKind.STATUS:
        if not writes_status(connector, str(message.payload["status"])):
            status = message.payload["status"]
            raise PermanentError(f"{connector.name} takes no {status} status", status_code=501, body="unsupported")
        done = connector.write_shipment_status(client, status_write(message))
    else:
        raise PermanentError(f"no {message.kind} write", status_code=501, body="unsupported")
    return {**done.detail, "external_id": done.external_id, "created": done.created}


def attempt(message: OutboundMessage, client: Any) -> Outcome:
    """Run one attempt and classify it (no database writes here besides the client's audit rows)."""
    problem = payload_problem(message)
    if problem:
        return Outcome(DEAD, error=problem)
    try:
        result = send(message, client)
    except Exception as exc:
        return failure(exc)
    return Outcome(SENT, status=200, result=result)


def attempt_stock_many(messages: Sequence[OutboundMessage], client: Any) -> dict[int, Outcome]:
    """Stock writes of one connection in one go, with the platform's bulk write (`connector.publish_stock_many`):
    {message id: outcome}. A target the platform refused is that message's dead letter; a failure of the whole
    call is every message's outcome."""
    outcomes: dict[int, Outcome] = {}
    ready: list[OutboundMessage] = []
    for message in messages:
        problem = payload_problem(message)
        if problem:
            outcomes[message.pk] = Outcome(DEAD, error=problem)
        else:
            ready.append(message)
    if not ready:
        return outcomes
    connector = connector_for(ready[0].platform)
    writes = [(stock_target(m.payload), int(m.payload["quantity"])) for m in ready]
    try:
        shown = connector.publish_stock_many(client, writes)
    except Exception as exc:
        return {**outcomes, **{m.pk: failure(exc) for m in ready}}
    for message, (target, _quantity) in zip(ready, writes, strict=True):
        answer = shown.get(target)
        if isinstance(answer, int):
            outcomes[message.pk] = Outcome(SENT, status=200, result={"quantity": answer})
        elif isinstance(answer, str):
            outcomes[message.pk] = Outcome(DEAD, status=422, error=f"refused by the platform: {answer[:200]}")
        else:  # not in the answer: it may or may not have landed; an absolute set is safe to send again
            outcomes[message.pk] = Outcome(RETRY, error="not in the bulk answer", ambiguous=True)
    return outcomes


def failure(exc: Exception) -> Outcome:
    """What a client's exception means for the message."""
    if isinstance(exc, AuthExpired):
        return Outcome(AUTH, status=401, error=str(exc))
    if isinstance(exc, RateLimited):
        return Outcome(RETRY, status=exc.status_code, error=str(exc), retry_after=exc.retry_after)
    if isinstance(exc, AmbiguousWrite):
        return Outcome(RETRY, status=exc.status_code, error=f"ambiguous: {exc}", ambiguous=True)
    if isinstance(exc, TransientError):
        return Outcome(RETRY, status=exc.status_code, error=str(exc), retry_after=exc.retry_after)
    if isinstance(exc, PermanentError):
        return Outcome(DEAD, status=exc.status_code, error=f"{exc} {exc.body[:150]}")
    if isinstance(exc, HttpError):
        return Outcome(RETRY, status=exc.status_code, error=str(exc))
    # An unreadable answer (an HTML error page with 200...): it may have landed.
    return Outcome(RETRY, error=f"unexpected {type(exc).__name__}", ambiguous=True)
