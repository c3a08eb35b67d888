"""What every platform folder shares: verifying a base64 HMAC-SHA256 signature over the raw body, and small checks of
hosts and ids."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

MAX_SIGNATURE_LENGTH = 128  # base64 of 32 bytes is 44 characters; anything far longer is refused unread


@dataclass(frozen=True)
class DeliveryMeta:
    """What the delivery's headers say about it."""

    delivery_id: str
    event_id: str
    topic: str
    triggered_at: dt.datetime | None


def header_bytes(value: str | None) -> bytes | None:
    """A header as the bytes that were sent (WSGI hands them over decoded as latin-1); None when absent."""
    if value is None:
        return None
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8", errors="surrogateescape")


def base64_hmac_sha256_valid(*, body: bytes, signature: bytes | None, secrets: Iterable[str]) -> bool:
    """True when `signature` is base64(HMAC-SHA256(secret, body)) for one of `secrets`, compared as bytes in
    constant time. Missing, empty, overlong, non-ASCII, hex or otherwise malformed signatures are simply False."""
    if not signature or len(signature) > MAX_SIGNATURE_LENGTH:
        return False
    signature = signature.strip()
    try:
        base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    ok = False
    for secret in secrets:
        expected = base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest())
        ok |= hmac.compare_digest(expected, signature)
    return ok


def sign(*, body: bytes, secret: str) -> str:
    """The signature a platform would send (used by tests, benchmarks and simulators)."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: where the simulators listen (every connector allows it as an API host)."""
    host = (host or "").strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def digits(value: str) -> bool:
    """A platform's numeric id written as text: ASCII digits only, not empty, no sign."""
    return bool(value) and value.isascii() and value.isdigit()
