"""The audit log: every inbound and outbound payload, with secrets redacted.

`audit_record(...)` is the one writer; the shared HTTP client calls it for each outbound request, the webhook inbox
for each inbound delivery (accepted or refused). Rows are append-only (a PostgreSQL trigger refuses UPDATE/DELETE)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from integrations.models import AuditDirection, AuditRecord, Connection

REDACTED = "[redacted]"
MAX_BODY_CHARS = 64 * 1024

# Header and JSON key names whose values are secrets, whatever the platform.
_SECRET_NAME = re.compile(
    r"(authorization|token|secret|password|passwd|api[-_]?key|consumer[-_]?key|private[-_]?key|signature|hmac|"
    r"cookie|session|credential|client[-_]?secret|refresh)",
    re.IGNORECASE,
)
_SECRET_QUERY = re.compile(
    r"((?:consumer_key|consumer_secret|access_token|api_key|token|secret|signature|oauth_signature)=)[^&\s\"']+",
    re.IGNORECASE,
)


def _redact_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: (REDACTED if _SECRET_NAME.search(str(k)) else _redact_value(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    return value


def redact_headers(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): (REDACTED if _SECRET_NAME.search(str(k)) else str(v)[:500]) for k, v in (headers or {}).items()}


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return _SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, text)


def redact_body(body: bytes | str | Mapping[str, Any] | list[Any] | None, secrets: Iterable[str] = ()) -> str:
    """The body as text with secret-named keys masked and every known secret value replaced."""
    if body is None:
        return ""
    if isinstance(body, (Mapping, list)):
        text = json.dumps(_redact_value(body), default=str, ensure_ascii=False)
    else:
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body)
        try:
            parsed = json.loads(text)
            if isinstance(parsed, (dict, list)):
                text = json.dumps(_redact_value(parsed), ensure_ascii=False)
        except (ValueError, RecursionError):
            pass  # kept as text; secret values and secret query parameters are still replaced below
    return redact_text(text.replace("\x00", "\\u0000"), secrets)


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
        headers=redact_headers(headers),
        body=text[:MAX_BODY_CHARS],
        body_truncated=truncated,
        detail=redact_text(detail, known)[:300],
    )
