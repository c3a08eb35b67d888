"""The audit log: every inbound and outbound payload, with secrets redacted (by `integrations.redaction`).

`audit_record(...)` is the one writer; the shared HTTP client calls it for each outbound request, the webhook inbox
for each inbound delivery (accepted or refused). Rows are append-only (a PostgreSQL trigger refuses UPDATE/DELETE)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from integrations.models import AuditDirection, AuditRecord, Connection
from integrations.redaction import REDACTED as REDACTED
from integrations.redaction import redact_body, redact_headers, redact_text

MAX_BODY_CHARS = 64 * 1024
MAX_HEADER_CHARS = 500


def audit_record(
    *,
    connection: Connection | int | None,
    direction: AuditDirection | str,
    endpoint: str,
    outcome: str,
    status: int | None = None,
    latency_ms: float | None = None,
    method: str = "",
    credential_fingerprint: str = "",
    body: bytes | str | Mapping[str, Any] | list[Any] | None = None,
    headers: Mapping[str, Any] | None = None,
    detail: str = "",
    secrets: Iterable[str] = (),
    carrier_account: Any = None,
) -> AuditRecord:
    """Append one audit row. Secrets are removed from `body`, `headers` and `endpoint` (query strings) before saving:
    secret-named keys, the values in `secrets`, and every secret the connection holds.

    `carrier_account` (a `carriers.CarrierAccount`) stands in for the connection on a carrier's calls.

    `outcome` is a short word: ok, http_error, timeout, hmac_failed, duplicate, quarantined, ping, rate_limited ..."""
    conn_obj: Connection | None
    if isinstance(connection, Connection):
        conn_obj = connection
    elif connection is not None:
        conn_obj = Connection.objects.filter(pk=connection).first()
    else:
        conn_obj = None
    known = [*secrets]
    if conn_obj is not None:
        # A key problem must not stop the audit row; secret-named values are masked regardless.
        with contextlib.suppress(Exception):
            known.extend(conn_obj.secret_values())
        credential_fingerprint = credential_fingerprint or conn_obj.credentials_fingerprint
    if carrier_account is not None:  # a carrier account's call (integrations.carriers.accounts)
        with contextlib.suppress(Exception):
            known.extend(carrier_account.secret_values())
        credential_fingerprint = credential_fingerprint or carrier_account.credentials_fingerprint
    text = redact_body(body, known)
    truncated = len(text) > MAX_BODY_CHARS
    return AuditRecord.objects.create(
        connection=conn_obj,
        carrier_account=carrier_account,
        direction=str(direction),
        method=method.upper()[:10],
        endpoint=redact_text(endpoint, known)[:500],
        status_code=status,
        latency_ms=latency_ms,
        outcome=outcome[:40],
        credential_fingerprint=credential_fingerprint[:8],
        headers={k: v[:MAX_HEADER_CHARS] for k, v in redact_headers(headers, known).items()},
        body=text[:MAX_BODY_CHARS],
        body_truncated=truncated,
        detail=redact_text(detail, known)[:300],
    )
