"""The one HTTP client every connector uses (no Django inside).

A `requests.Session` with explicit connect/read timeouts; reads are retried with exponential backoff and jitter on
5xx, 408/409/425 and timeouts, and wait out `Retry-After` on 429; rate-limit headroom comes back with each response,
read by the platform's own `headroom_parser` (and `throttle_parser`, for platforms that refuse with a 200) that its
connector hands in: this module names no platform. Failures are typed exceptions; a write that may have been applied
(timeout after sending, 5xx after sending) is `AmbiguousWrite` and is never retried here: the caller resolves it by
its idempotency key or by reading back.

Secrets (credential values given as `secrets=`, secret-named headers and query parameters) are redacted from every
log line, exception message and exchange handed to `on_exchange` (the audit hook), by `integrations.redaction`."""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from requests.structures import CaseInsensitiveDict

from integrations.redaction import RedactingFilter, redact_headers, redact_text

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
# After a write reached the platform, these answers do not tell whether it was applied.
AMBIGUOUS_WRITE_STATUSES = frozenset({500, 502, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

_LINK = re.compile(r'<([^<>]+)>;\s*rel="([^"]+)"')


# --- errors -----------------------------------------------------------------------------------------------------


class HttpError(Exception):
    """Base of the client's errors. `status_code` is the HTTP status (None when no answer came)."""

    def __init__(self, message: str, *, status_code: int | None = None, url: str = "") -> None:
        super().__init__(message)
        self.status_code = status_code
        self.url = url


class TransientError(HttpError):
    """Worth retrying later: 5xx, 408/409/425, timeouts, connection errors (nothing was applied, as far as we know).
    `retry_after` is the platform's `Retry-After` when it sent one (a 503 often does)."""

    retry_after: float | None = None


class RateLimited(TransientError):
    """429 (or a 200 that the platform's throttle parser reads as a refusal): wait `retry_after` seconds."""

    retry_after: float

    def __init__(self, message: str, *, retry_after: float, status_code: int | None = 429, url: str = "") -> None:
        super().__init__(message, status_code=status_code, url=url)
        self.retry_after = retry_after


class AuthExpired(HttpError):
    """401: the credentials are refused. Not retried: the connection is paused until they are rotated."""


class PermanentError(HttpError):
    """A non-transient 4xx: retrying the same request gives the same answer."""

    def __init__(self, message: str, *, status_code: int, body: str = "", url: str = "") -> None:
        super().__init__(message, status_code=status_code, url=url)
        self.status = status_code
        self.body = body


class AmbiguousWrite(TransientError):
    """A write was sent and no clear answer came back (read timeout, 500/502/504): it may have been applied."""


# --- results ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Headroom:
    """What is left of the platform's rate-limit budget after this call (None when the platform says nothing)."""

    used: float
    limit: float
    source: str  # which signal it came from, as the platform's parser names it (e.g. "rest", "graphql")

    @property
    def remaining(self) -> float:
        return max(self.limit - self.used, 0.0)

    @property
    def fraction(self) -> float:
        return self.remaining / self.limit if self.limit else 0.0


@dataclass
class Response:
    status: int
    headers: CaseInsensitiveDict[str]
    body: bytes
    url: str
    headroom: Headroom | None
    elapsed_ms: float
    attempts: int

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def links(self) -> dict[str, str]:
        """The `Link` header as {rel: url}, the URLs verbatim (an opaque cursor must not be re-encoded)."""
        return {rel: url for url, rel in _LINK.findall(self.headers.get("Link", ""))}


@dataclass(frozen=True)
class Exchange:
    """One request and its outcome, redacted, for the audit log."""

    method: str
    url: str
    status: int | None
    outcome: str  # ok, http_error, rate_limited, auth_expired, timeout, ambiguous, connection_error
    latency_ms: float
    request_headers: dict[str, str]
    request_body: str
    response_body: str
    detail: str = ""


# --- log redaction and parsing ------------------------------------------------------------------------------------

for _name in ("urllib3.connectionpool", "integrations.platforms.simulator_kit"):
    logging.getLogger(_name).addFilter(RedactingFilter())


def parse_retry_after(value: str | None, *, now: float | None = None, default: float = 1.0) -> float:
    """Seconds to wait: `Retry-After` as (float) seconds ("2.0" is common), or an HTTP date."""
    if not value:
        return default
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(when.timestamp() - (now if now is not None else time.time()), 0.0)


HeadroomParser = Callable[[Mapping[str, str], Any], Headroom | None]
ThrottleParser = Callable[[Any], float | None]
RetryAfterParser = Callable[[Mapping[str, str]], float | None]


# --- the client ---------------------------------------------------------------------------------------------------


@dataclass
class RetryPolicy:
    """Backoff for reads: base·2ⁿ⁻¹ × U(1−jitter, 1+jitter), at most `cap`; 429s wait `Retry-After` up to
    `max_retry_after` (longer waits are raised as `RateLimited` for the caller to schedule)."""

    attempts: int = 4
    base: float = 0.5
    cap: float = 8.0
    jitter: float = 0.2
    max_retry_after: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        raw = min(self.base * 2 ** (attempt - 1), self.cap)
        return raw * rng.uniform(1 - self.jitter, 1 + self.jitter)


@dataclass
class HttpClient:
    """One platform account's HTTP client. `auth_headers` / `auth` are added to each request; `secrets` are the
    credential values to redact. `headroom_parser(headers, parsed body)` reads the platform's rate-limit budget from
    an answer; `throttle_parser(parsed body)` gives the seconds to wait when a 200 answer is in fact a refusal (None:
    it is not). `retry_after_parser(headers)` gives the seconds a 429 asks to wait when the platform says so in its
    own headers (None: `Retry-After` is read). All come from the platform's connector. `sleep`, `clock` and `rng` are
    injectable so tests run fast and deterministic."""

    base_url: str
    auth_headers: dict[str, str] = field(default_factory=dict)
    auth: tuple[str, str] | None = None
    secrets: list[str] = field(default_factory=list)
    connect_timeout: float = 3.05
    read_timeout: float = 20.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    on_exchange: Callable[[Exchange], None] | None = None
    headroom_parser: HeadroomParser | None = None
    throttle_parser: ThrottleParser | None = None
    retry_after_parser: RetryAfterParser | None = None
    user_agent: str = "warehouse-hub/1.0"
    session: requests.Session = field(default_factory=requests.Session)
    last_headroom: Headroom | None = None

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        form: Mapping[str, str] | None = None,
    ) -> Response:
        """Send one request (retrying reads); raise a typed `HttpError` subclass on failure.

        `idempotent` defaults to the method's semantics; a non-idempotent write is sent once (only a 429 — refused
        before processing — or a connect failure is retried) and a doubtful outcome raises `AmbiguousWrite`."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        url = self.url(path)
        send_headers = {"User-Agent": self.user_agent, "Accept": "application/json", **self.auth_headers}
        if headers:
            send_headers.update(headers)
        body_bytes = json.dumps(json_body).encode() if json_body is not None else None
        if body_bytes is not None:
            send_headers["Content-Type"] = "application/json"
        elif form is not None:  # an OAuth token request (application/x-www-form-urlencoded)
            body_bytes = urlencode(form).encode()
            send_headers["Content-Type"] = "application/x-www-form-urlencoded"

        attempt = 0
        while True:
            attempt += 1
            try:
                return self._once(method, url, params, body_bytes, send_headers, idempotent, attempt)
            except RateLimited as exc:
                if attempt >= self.retry.attempts or exc.retry_after > self.retry.max_retry_after:
                    raise
                self.sleep(exc.retry_after)
            except AmbiguousWrite:
                raise
            except TransientError as exc:
                retry_write = isinstance(exc, _NotSent)
                if (not idempotent and not retry_write) or attempt >= self.retry.attempts:
                    raise
                asked = exc.retry_after
                if asked is not None and asked > self.retry.max_retry_after:
                    raise
                self.sleep(asked if asked is not None else self.retry.delay(attempt, self.rng))

    def close(self) -> None:
        self.session.close()

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Response:
        return self.request("PUT", path, **kwargs)

    # -- one attempt -----------------------------------------------------------------------------------------------

    def _once(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        body: bytes | None,
        headers: dict[str, str],
        idempotent: bool,
        attempt: int,
    ) -> Response:
        started = self.clock()
        shown_url = redact_text(url if not params else f"{url}?{_query(params)}", self.secrets)
        try:
            raw = self.session.request(
                method,
                url,
                params=params,
                data=body,
                headers=headers,
                auth=self.auth,
                timeout=(self.connect_timeout, self.read_timeout),
                allow_redirects=False,
            )
        except requests.exceptions.ConnectTimeout as exc:
            self._record(method, shown_url, None, "timeout", started, headers, body, b"", "connect timeout")
            raise _NotSent(f"{method} {shown_url}: connect timeout", url=shown_url) from _clean(exc)
        except requests.exceptions.ReadTimeout as exc:
            self._record(method, shown_url, None, "timeout", started, headers, body, b"", "read timeout")
            if not idempotent:
                raise AmbiguousWrite(f"{method} {shown_url}: no answer after sending", url=shown_url) from _clean(exc)
            raise TransientError(f"{method} {shown_url}: read timeout", url=shown_url) from _clean(exc)
        except requests.exceptions.ConnectionError as exc:
            self._record(method, shown_url, None, "connection_error", started, headers, body, b"", type(exc).__name__)
            if not idempotent and _maybe_sent(exc):
                raise AmbiguousWrite(f"{method} {shown_url}: connection lost", url=shown_url) from _clean(exc)
            raise _NotSent(f"{method} {shown_url}: connection failed", url=shown_url) from _clean(exc)

        status = raw.status_code
        content = raw.content or b""
        parsed: Any = None
        if content and "json" in raw.headers.get("Content-Type", ""):
            try:
                parsed = json.loads(content)
            except ValueError:
                parsed = None
        headroom = self.headroom_parser(raw.headers, parsed) if self.headroom_parser else None
        if headroom is not None:
            self.last_headroom = headroom
        throttled = self.throttle_parser(parsed) if status == 200 and self.throttle_parser else None
        outcome = _outcome(status, throttled)
        self._record(method, shown_url, status, outcome, started, headers, body, content)

        if status == 429 or throttled is not None:
            wait = throttled if throttled is not None else self._rate_limit_wait(raw.headers)
            raise RateLimited(f"{method} {shown_url}: rate limited ({status})", retry_after=wait, url=shown_url)
        if status == 401:
            raise AuthExpired(f"{method} {shown_url}: credentials refused (401)", status_code=401, url=shown_url)
        if status in RETRY_STATUSES:
            message = f"{method} {shown_url}: HTTP {status}"
            if not idempotent and status in AMBIGUOUS_WRITE_STATUSES:
                raise AmbiguousWrite(message, status_code=status, url=shown_url)
            transient = TransientError(message, status_code=status, url=shown_url)
            if raw.headers.get("Retry-After"):
                transient.retry_after = parse_retry_after(raw.headers.get("Retry-After"))
            raise transient
        if status >= 400:
            # The whole answer (as far as the audit keeps one), redacted before it is cut: a carrier's validation
            # messages are what a person reads.
            text = redact_text(content.decode("utf-8", errors="replace"), self.secrets)[:65536]
            raise PermanentError(f"{method} {shown_url}: HTTP {status}", status_code=status, body=text, url=shown_url)
        return Response(
            status=status,
            headers=raw.headers,
            body=content,
            url=raw.url,
            headroom=headroom,
            elapsed_ms=(self.clock() - started) * 1000,
            attempts=attempt,
        )

    def _rate_limit_wait(self, headers: Mapping[str, str]) -> float:
        """A 429's wait: the platform's own header when its parser reads one, else `Retry-After`."""
        own = self.retry_after_parser(headers) if self.retry_after_parser else None
        return own if own is not None else parse_retry_after(headers.get("Retry-After"))

    def _record(
        self,
        method: str,
        url: str,
        status: int | None,
        outcome: str,
        started: float,
        headers: Mapping[str, str],
        request_body: bytes | None,
        response_body: bytes,
        detail: str = "",
    ) -> None:
        latency_ms = (self.clock() - started) * 1000
        logger.info("%s %s -> %s %s (%.0f ms)", method, url, status if status is not None else "-", outcome, latency_ms)
        if self.on_exchange is None:
            return
        exchange = Exchange(
            method=method,
            url=url,
            status=status,
            outcome=outcome,
            latency_ms=latency_ms,
            request_headers=redact_headers(
                {**headers, **({"Authorization": "Basic"} if self.auth else {})}, self.secrets
            ),
            request_body=redact_text((request_body or b"").decode("utf-8", errors="replace"), self.secrets),
            # Redacted whole, then cut: a secret cut in half would not be found.
            response_body=redact_text(response_body.decode("utf-8", errors="replace"), self.secrets)[:65536],
            detail=detail,
        )
        try:
            self.on_exchange(exchange)
        except Exception:  # the audit hook must never turn a delivered write into a failure
            logger.exception("audit hook failed for %s %s", method, url)


class _NotSent(TransientError):
    """The request never reached the platform (connect failure): safe to retry even for a write."""


def _outcome(status: int, throttled: float | None) -> str:
    if status == 429 or throttled is not None:
        return "rate_limited"
    if status == 401:
        return "auth_expired"
    if status >= 400:
        return "http_error"
    return "ok"


def _query(params: Mapping[str, Any]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())


def _maybe_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """A refused connection never carried the request; a reset or aborted one may have."""
    text = str(exc).lower()
    return not any(s in text for s in ("refused", "name or service", "nodename", "failed to establish"))


def _clean(exc: BaseException) -> Exception:
    """requests' exceptions carry the URL (with its query string): keep only the class name as the cause."""
    return Exception(type(exc).__name__)
