"""What every platform simulator shares (each platform's own is `integrations/platforms/<code>/simulator.py`): a real
HTTP server on loopback (one thread per request), a ledger of what the platform saw, HTTP fault injection on the API,
webhook delivery with fault injection, webhook subscriptions made through the platform's API, and the `/_sim/*`
control endpoints. No Django: a simulator is a fake platform, not part of the hub.

What the conformance suite (`tests/integrations/conformance/`) asks of every simulator, so that it never names a
platform: `signed_delivery()` (a webhook as the platform would sign it, not sent), `write_routes` (faults aimed at a
write by what it does: `add_fault("500", on="fulfilment")`), `fulfilments_of()`, `stock_target()`, `shop`,
`accept_credentials()` (a rotation made on the platform), and `max_page_size` / `order_pages_served` (many pages from
a few orders).

Webhooks go to `hub_url` when it is set (the tests' and the demo's shortcut), else to every address subscribed to the
topic through the platform's webhook API (`subscribe()`), each signed with its subscription's secret when it has one.

Faults (`POST /_sim/faults`, or `Simulator.add_fault`), each consumed after `times` matches:
- on API calls (`method`, `path` substring to match): `429` (with `retry_after`), `500`, `503`, `timeout` (hang,
  nothing applied), `apply_then_hang` (the write lands, the answer comes too late), `apply_then_500`, `401`;
- on webhooks (`target: "webhook"`): `drop`, `duplicate`, `reorder` (held until the next delivery went),
  `delay` (`seconds`), `stale_replay` (the order's previous version re-sent after the new one)."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import itertools
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import requests

logger = logging.getLogger(__name__)
_PHRASES = {s.value for s in HTTPStatus}

HTTP_FAULTS = {"429", "500", "503", "timeout", "apply_then_hang", "apply_then_500", "401"}
# Any other status can be injected by its number ("408", "409", "422", ...), answered with the platform's error body.
WEBHOOK_FAULTS = {"drop", "duplicate", "reorder", "delay", "stale_replay"}


@dataclass
class Fault:
    mode: str
    target: str = "api"  # api | webhook
    method: str = ""
    path: str = ""
    times: int = 1
    retry_after: float = 2.0
    seconds: float = 0.0  # delay for webhooks; hang time for timeouts (0: the simulator's hang_seconds)
    retry_after_set: bool = False  # a 503 carries Retry-After only when the fault named one

    def matches(self, method: str, path: str) -> bool:
        return (not self.method or self.method.upper() == method) and (not self.path or self.path in path)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    base_url: str

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def param(self, name: str, default: str = "") -> str:
        values = self.query.get(name) or self.query.get(f"{name}[]")
        return values[0] if values else default


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Simulator:
    """Platform-independent state and machinery; subclasses add routes, auth, payload shapes and webhook headers."""

    platform: ClassVar[str] = ""

    def __init__(self, *, hub_url: str = "", secret: str = "", hang_seconds: float = 2.0) -> None:
        self.lock = threading.RLock()
        self.hub_url = hub_url
        self.secret = secret
        self.hang_seconds = hang_seconds
        self.faults: list[Fault] = []
        self.ids = itertools.count(1001)
        self.orders: dict[int, dict[str, Any]] = {}
        self.order_versions: dict[int, list[dict[str, Any]]] = {}
        self.webhooks: list[dict[str, Any]] = []
        self.subscriptions: list[dict[str, Any]] = []  # webhook subscriptions made through the platform's API
        self._subscription_ids = itertools.count(4759306)
        self.requests: list[dict[str, Any]] = []
        self._held: list[tuple[str, bytes, dict[str, str], int]] = []
        self._previous_delivery: dict[int, tuple[str, dict[str, Any]]] = {}
        self.max_page_size: int | None = None  # lower than the platform's own maximum: many pages from few orders
        self.order_pages_served = 0
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # -- the server ------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.server is not None, "the simulator is not running"
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, *, host: str = "127.0.0.1", port: int = 0) -> Simulator:
        self.server = ThreadingHTTPServer((host, port), _handler_for(self))
        self.server.daemon_threads = True
        # A short poll: `stop()` waits one poll for the loop to notice (the default 0.5 s is most of a short test).
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{self.platform}-sim", daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @classmethod
    @contextlib.contextmanager
    def running(cls, **options: Any) -> Iterator[Any]:
        """`with SomeSimulator.running(**credentials) as sim:` — a simulator on a free loopback port."""
        sim = cls(**options).start()
        try:
            yield sim
        finally:
            sim.stop()

    # -- dispatch --------------------------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> tuple[Reply, float, bool]:
        """The reply, how long to hang before sending it, and whether to send it at all (False: drop the socket)."""
        if request.path.startswith("/_sim/"):
            return self.control(request), 0.0, True
        fault = self._take_fault("api", request.method, request.path)
        with self.lock:
            self.requests.append({"method": request.method, "path": request.path, "fault": fault.mode if fault else ""})
        if fault is not None and (fault.mode.isdigit() or fault.mode == "timeout"):
            return self.fault_reply(fault), (fault.seconds or self.hang_seconds) if fault.mode == "timeout" else 0, True
        limited = self.throttle()
        if limited is not None:
            return limited, 0.0, True
        auth = self.authenticate(request)
        if auth is not None:
            return auth, 0.0, True
        with self.lock:
            reply = self.route(request)
        if fault is not None and fault.mode == "apply_then_hang":
            return reply, fault.seconds or self.hang_seconds, True
        if fault is not None and fault.mode == "apply_then_500":
            return self.error_reply(500, "internal_error", "Internal Server Error"), 0.0, True
        return reply, 0.0, True

    def _take_fault(self, target: str, method: str = "", path: str = "") -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.target == target and fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def fault_reply(self, fault: Fault) -> Reply:
        if fault.mode == "429":
            reply = self.error_reply(429, "throttled", "Exceeded 2 calls per second for api client.")
            reply.headers["Retry-After"] = f"{fault.retry_after:.1f}"
            return reply
        if fault.mode == "401":
            return self.unauthorized()
        if fault.mode == "timeout":
            return self.error_reply(504, "gateway_timeout", "Gateway Timeout")
        status = int(fault.mode)
        if status == 503 and fault.retry_after_set:
            reply = self.error_reply(503, "injected_fault", "Service Unavailable")
            reply.headers["Retry-After"] = f"{fault.retry_after:.0f}"
            return reply
        return self.error_reply(status, "injected_fault", HTTPStatus(status).phrase if status in _PHRASES else "Error")

    def add_fault(self, mode: str, **options: Any) -> Fault:
        """`on="fulfilment"` (a name in `write_routes`) aims the fault at that write, whatever the platform's route."""
        if "on" in options:
            method, path = self.write_routes[options.pop("on")]
            options.setdefault("method", method)
            options.setdefault("path", path)
        target = options.pop("target", "webhook" if mode in WEBHOOK_FAULTS else "api")
        if mode not in HTTP_FAULTS | WEBHOOK_FAULTS and not (len(mode) == 3 and mode.isdigit()):
            raise ValueError(f"unknown fault {mode!r}")
        fault = Fault(mode=mode, target=target, **options)
        fault.retry_after_set = "retry_after" in options
        with self.lock:
            self.faults.append(fault)
        return fault

    # -- control endpoints -----------------------------------------------------------------------------------------

    def control(self, request: Request) -> Reply:
        path = request.path
        if path == "/_sim/ledger" and request.method == "GET":
            return Reply(200, self.ledger())
        if path == "/_sim/orders" and request.method == "POST":
            data = request.json() or {}
            order = self.upsert_order(data)
            return Reply(200, {"order": order, "webhooks": self.webhooks[-3:]})
        if path == "/_sim/faults" and request.method == "POST":
            data = dict(request.json() or {})
            try:
                fault = self.add_fault(str(data.pop("mode", "")), **data)
            except (TypeError, ValueError) as exc:
                return Reply(400, {"error": str(exc)})
            return Reply(201, {"fault": fault.__dict__})
        if path == "/_sim/faults" and request.method == "DELETE":
            with self.lock:
                self.faults.clear()
            return Reply(204)
        if path == "/_sim/config" and request.method == "POST":
            self.configure(**(request.json() or {}))
            return Reply(200, {"ok": True})
        if path == "/_sim/flush" and request.method == "POST":
            self.flush_held()
            return Reply(200, {"ok": True})
        return Reply(404, {"error": "no such control endpoint"})

    def configure(self, **options: Any) -> None:
        with self.lock:
            for name in ("hub_url", "secret", "hang_seconds", "max_page_size"):
                if name in options:
                    setattr(self, name, options[name])

    def ledger(self) -> dict[str, Any]:
        with self.lock:
            return json.loads(
                json.dumps(
                    {
                        "platform": self.platform,
                        "orders": list(self.orders.values()),
                        "webhooks": self.webhooks,
                        "subscriptions": [
                            {k: v for k, v in sub.items() if k != "secret"} for sub in self.subscriptions
                        ],
                        "requests": self.requests,
                        **self.platform_ledger(),
                    },
                    default=str,
                )
            )

    # -- orders and webhooks ---------------------------------------------------------------------------------------

    def upsert_order(self, data: dict[str, Any], *, deliver: bool = True) -> dict[str, Any]:
        """Create (no known `id`) or update an order, then deliver its webhook through the webhook faults."""
        with self.lock:
            order_id = int(data["id"]) if data.get("id") else next(self.ids)
            existing = self.orders.get(order_id)
            order = self.build_order(order_id, data, existing)
            self.orders[order_id] = order
            self.order_versions.setdefault(order_id, []).append(json.loads(json.dumps(order)))
            topic = self.topic("update" if existing else "create")
        if deliver and (self.hub_url or self.subscriptions):
            self.deliver(topic, order)
        return order

    def hold_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The platform holds this order exactly as given (an official example payload), without a webhook: what
        the API serves when the hub fetches an order a thin webhook named."""
        with self.lock:
            order_id = int(payload["id"])
            self.orders[order_id] = json.loads(json.dumps(payload))
            self.order_versions.setdefault(order_id, []).append(json.loads(json.dumps(payload)))
            return self.orders[order_id]

    def webhook_body(self, topic: str, payload: dict[str, Any]) -> bytes:
        """The bytes a webhook about `payload` carries: the resource itself, serialised compactly. A platform whose
        webhooks only name the resource (a thin payload) builds that instead."""
        return json.dumps(payload, separators=(",", ":")).encode()

    def deliver(self, topic: str, payload: dict[str, Any]) -> None:
        body = self.webhook_body(topic, payload)
        headers = self.webhook_headers(topic, body, payload)
        order_id = int(payload.get("id", 0))
        previous = self._previous_delivery.get(order_id)
        self._previous_delivery[order_id] = (topic, payload)
        fault = self._take_fault("webhook")
        mode = fault.mode if fault else ""
        if mode == "drop":
            self._log_webhook(headers, topic, order_id, None, "dropped")
            return
        if mode == "reorder":
            with self.lock:
                self._held.append((topic, body, headers, order_id))
            self._log_webhook(headers, topic, order_id, None, "held")
            return
        if mode == "delay":
            delay = fault.seconds if fault else 1.0
            timer = threading.Timer(delay, self._post, args=(topic, body, headers, "delayed", order_id))
            timer.daemon = True
            timer.start()
            return
        self._post(topic, body, headers, mode, order_id)
        if mode == "duplicate":
            self._post(topic, body, headers, "duplicate", order_id)
        self.flush_held()
        if mode == "stale_replay" and previous is not None:
            old_topic, old_payload = previous
            old_body = self.webhook_body(old_topic, old_payload)
            old_headers = self.webhook_headers(old_topic, old_body, old_payload)
            self._post(old_topic, old_body, old_headers, "stale_replay", order_id)

    def flush_held(self) -> None:
        with self.lock:
            held, self._held = self._held, []
        for topic, body, headers, order_id in held:
            self._post(topic, body, headers, "reordered", order_id)

    def _post(self, topic: str, body: bytes, headers: dict[str, str], note: str, order_id: int) -> None:
        for url, secret in self.delivery_targets(topic):
            sent = dict(headers)
            if secret is not None:  # a subscription with its own secret signs with it
                sent.update(self.signature_headers(body, secret))
            try:
                response = requests.post(url, data=body, headers=sent, timeout=(1, 5))
                status: int | None = response.status_code
            except requests.RequestException:
                status = None
            self._log_webhook(sent, topic, order_id, status, note)

    def delivery_targets(self, topic: str) -> list[tuple[str, str | None]]:
        """(address, its own secret or None) for each delivery of `topic`: `hub_url` when set, else the subscribed
        addresses (each once)."""
        if self.hub_url:
            return [(self.hub_url, None)]
        with self.lock:
            found: dict[str, str | None] = {}
            for sub in self.subscriptions:
                if sub["topic"] == topic and sub.get("active", True):
                    found.setdefault(sub["address"], sub.get("secret") or None)
        return list(found.items())

    def subscribe(self, *, topic: str, address: str, secret: str = "", **fields: Any) -> dict[str, Any]:
        """A webhook subscription, as the platform's API creates it (the platform's route shapes the answer)."""
        with self.lock:
            sub = {"id": next(self._subscription_ids), "topic": topic, "address": address, "secret": secret,
                   "active": True, "created_at": utcnow().isoformat(), **fields}  # fmt: skip
            self.subscriptions.append(sub)
            return sub

    def _log_webhook(self, headers: dict[str, str], topic: str, order_id: int, status: int | None, note: str) -> None:
        with self.lock:
            self.webhooks.append(
                {"id": self.delivery_id(headers), "topic": topic, "order_id": order_id, "status": status, "note": note}
            )

    def page_size(self, requested: int) -> int:
        """A list endpoint's page size: what was asked, capped by `max_page_size`; counts the page served."""
        with self.lock:
            self.order_pages_served += 1
            return min(requested, self.max_page_size) if self.max_page_size else requested

    def signed_delivery(
        self, topic: str, payload: dict[str, Any], *, secret: str | None = None, body: bytes | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook as the platform would send it, not sent: its body (`payload` serialised as the platform does,
        unless `body` is given) and its headers, signed with `secret` (default: the simulator's)."""
        body = body if body is not None else self.webhook_body(topic, payload)
        headers = self.webhook_headers(topic, body, payload)
        if secret is not None:
            headers.update(self.signature_headers(body, secret))
        return body, headers

    # -- what each platform defines --------------------------------------------------------------------------------

    # The platform's writes by what they do, for faults aimed at one (`add_fault(mode, on="fulfilment")`):
    # name → (method, path substring) of the call that makes the write.
    write_routes: ClassVar[dict[str, tuple[str, str]]] = {}

    @property
    def shop(self) -> str:
        """The shop as a connection to this platform names it (`Connection.shop`)."""
        raise NotImplementedError

    def accept_credentials(self, credentials: dict[str, Any]) -> None:
        """From now on accept these credentials, and no others (a rotation made on the platform)."""
        raise NotImplementedError

    def fulfilments_of(self, order_id: int | str) -> list[dict[str, Any]]:
        """What the platform holds as the order's fulfilments (each as the platform shows it)."""
        raise NotImplementedError

    def stock_target(self, sku: str) -> tuple[str, str]:
        """Where the platform keeps `sku`'s number, created as if in its admin: (listing id, location id or ""), as
        the platform's connector writes them in the mapping table."""
        raise NotImplementedError

    def new_delivery_id(self) -> str:
        return str(uuid.uuid4())

    def throttle(self) -> Reply | None:
        return None

    def route(self, request: Request) -> Reply:
        raise NotImplementedError

    def authenticate(self, request: Request) -> Reply | None:
        raise NotImplementedError

    def unauthorized(self) -> Reply:
        raise NotImplementedError

    def error_reply(self, status: int, code: str, message: str) -> Reply:
        raise NotImplementedError

    def build_order(self, order_id: int, data: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        raise NotImplementedError

    def topic(self, event: str) -> str:
        raise NotImplementedError

    def webhook_headers(self, topic: str, body: bytes, payload: dict[str, Any]) -> dict[str, str]:
        raise NotImplementedError

    def delivery_id(self, headers: dict[str, str]) -> str:
        raise NotImplementedError

    def signature_headers(self, body: bytes, secret: str) -> dict[str, str]:
        """The header(s) that sign `body` with `secret` (a subscription with its own secret re-signs with them)."""
        raise NotImplementedError

    def platform_ledger(self) -> dict[str, Any]:
        return {}

    def extra_headers(self) -> dict[str, str]:
        return {}


def _handler_for(sim: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"{sim.platform}-simulator"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms per call.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s sim: " + format, sim.platform, *args)

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            host = self.headers.get("Host") or sim.url.removeprefix("http://")
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query),
                headers=dict(self.headers.items()),
                body=body,
                base_url=f"http://{host}",
            )
            try:
                reply, hang, send = sim.dispatch(request)
            except Exception:
                logger.exception("simulator error")
                reply, hang, send = sim.error_reply(500, "simulator_error", "Internal Server Error"), 0.0, True
            if hang:
                time.sleep(hang)
            if not send:
                self.close_connection = True
                return
            payload = b"" if reply.body is None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in {**sim.extra_headers(), **reply.headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout we injected)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    return Handler
