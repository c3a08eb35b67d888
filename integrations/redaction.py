"""Secret redaction, the one rule set (no Django): what the HTTP client logs and hands to its audit hook, what the
audit log stores, what the outbound queue keeps as an error, and what libraries log all pass through here.

A value is a secret when
- its header, JSON key, or query/form parameter name says so (`SECRET_NAME`: token, secret, password, signature,
  api key, consumer key, cookie, session, credential …), in a header mapping, a JSON document at any depth, a
  query string or form body (`name=value`), or JSON-looking text that no longer parses (`"name": "value"`, e.g. a
  body cut at an audit limit); or
- it is one of the known values handed in as `secrets=` (a connection's credentials and signing secrets), also in
  its URL-encoded and JSON-escaped spellings.

Known values shorter than `MIN_SECRET_CHARS` are not searched for: replacing "a" everywhere would destroy the text
and protect nothing. Redact before cutting text to a length: a secret cut in half is no longer found."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 4

# Header, JSON key and query/form parameter names whose values are secrets, whatever the platform.
SECRET_NAME = re.compile(
    r"(authorization|token|secret|password|passwd|api[-_]?key|consumer[-_]?key|private[-_]?key|signature|hmac|"
    r"cookie|session|credential|refresh)",
    re.IGNORECASE,
)
_NAME_CHARS = r"[\w.\-\[\]]"  # what a parameter name is made of (`oauth_signature`, `auth[token]`)
# name=value in a query string, a form body or a log line; the value ends at &, whitespace or a quote.
_SECRET_PARAM = re.compile(
    rf"(?P<name>{_NAME_CHARS}*{SECRET_NAME.pattern}{_NAME_CHARS}*=)(?P<value>[^&\s\"'<>]+)", re.IGNORECASE
)
# "name": "value" in JSON-looking text that did not parse; the closing quote may have been cut off.
_SECRET_JSON_PAIR = re.compile(
    rf"(?P<name>\"{_NAME_CHARS}*{SECRET_NAME.pattern}{_NAME_CHARS}*\"\s*:\s*\")(?P<value>(?:[^\"\\]|\\.)*)",
    re.IGNORECASE,
)


def is_secret_name(name: object) -> bool:
    return bool(SECRET_NAME.search(str(name)))


def _spellings(secrets: Iterable[str]) -> list[str]:
    """Each known secret as it may appear: as is, URL-encoded (query strings, form bodies) and JSON-escaped.
    Longest first, so a secret that contains another is replaced whole."""
    found: set[str] = set()
    for secret in secrets:
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_CHARS:
            continue
        found.update({secret, quote(secret, safe=""), quote_plus(secret)})
        found.update({json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]})
    return sorted(found, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Free text (a URL, a log line, an exception message, a body that is not JSON) with every known secret value
    and every secret-named `name=value` / `"name": "value"` masked."""
    for spelling in _spellings(secrets):
        text = text.replace(spelling, REDACTED)
    text = _SECRET_PARAM.sub(lambda m: m.group("name") + REDACTED, text)
    return _SECRET_JSON_PAIR.sub(lambda m: m.group("name") + REDACTED, text)


def redact_json(value: Any) -> Any:
    """A JSON document with the value of every secret-named key masked, at any depth."""
    if isinstance(value, Mapping):
        return {k: (REDACTED if is_secret_name(k) else redact_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value


def redact_headers(headers: Mapping[str, Any] | None, secrets: Iterable[str] = ()) -> dict[str, str]:
    """Secret-named headers masked whole; the others with known secret values and secret parameters masked."""
    known = _spellings(secrets)
    return {str(k): (REDACTED if is_secret_name(k) else redact_text(str(v), known)) for k, v in (headers or {}).items()}


def redact_body(body: bytes | str | Mapping[str, Any] | list[Any] | None, secrets: Iterable[str] = ()) -> str:
    """A request or response body as text: JSON with secret-named keys masked (re-serialised), a form body or other
    text with secret parameters masked, and every known secret value replaced either way."""
    if body is None:
        return ""
    if isinstance(body, (Mapping, list)):
        text = json.dumps(redact_json(body), default=str, ensure_ascii=False)
    else:
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else str(body)
        try:
            parsed = json.loads(text)
            if isinstance(parsed, (dict, list)):
                text = json.dumps(redact_json(parsed), ensure_ascii=False)
        except (ValueError, RecursionError):
            pass  # kept as text; the text rules below still apply
    return redact_text(text.replace("\x00", "\\u0000"), secrets)


def redact_exception(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """`Type: message` of an exception, safe to store or show."""
    return redact_text(f"{type(exc).__name__}: {exc}", secrets)


class RedactingFilter(logging.Filter):
    """Masks secret parameters in the log records of libraries that log URLs (urllib3 logs each request line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
