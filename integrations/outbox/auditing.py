"""The HTTP client's audit hook: each outbound exchange becomes an audit row (secrets already redacted by the client
and again by `audit_record`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrations.audit import audit_record
from integrations.http import Exchange


def audit_hook(connection: Any) -> Callable[[Exchange], None]:
    def record(exchange: Exchange) -> None:
        audit_record(
            connection=connection,
            direction="outbound",
            endpoint=exchange.url,
            outcome=exchange.outcome,
            status=exchange.status,
            latency_ms=exchange.latency_ms,
            method=exchange.method,
            body=exchange.request_body or None,
            headers=exchange.request_headers,
            detail=(exchange.detail or exchange.response_body)[:300],
        )

    return record
