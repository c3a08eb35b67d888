"""What every carrier simulator shares: a real HTTP server on loopback (one thread per request), a ledger of what the
carrier saw and did, HTTP fault injection, the `/_sim/*` control endpoints and label drawing. No Django: a simulator
is a fake carrier, not part of the hub.

(The platforms' simulator base is order- and webhook-shaped and is being moved by the connector-kit work, so the
carriers have this small base of their own; the two can share a core once both settle.)

Conventions every carrier simulator keeps, so the conformance suite needs no carrier's name:
- a recipient whose postal code is `BAD_POSTAL_CODE` is refused as an undeliverable address, with the carrier's own
  error shape and message;
- a parcel heavier than the connector's `max_parcel_grams` is refused as overweight, likewise;
- faults (`add_fault(mode, method=, path=, times=, retry_after=)` or `POST /_sim/faults`), each consumed after
  `times` matches: `429` (with `Retry-After`), `500`, `503`, any other status by number, `timeout` (hang, nothing
  applied), `token_expired` (the next authenticated call is refused 401 as with an expired token), `partial` (the
  last parcel of the next multi-parcel create, cancel or subscription fails in the carrier's own partial shape);
- `scan(tracking_number)` plays the carrier's fixture events for a parcel it created (oldest first; the API answers
  them in the carrier's own order), `duplicate_events(tracking_number)` repeats them."""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger(__name__)

BAD_POSTAL_CODE = "00000"
STATUS_FAULTS = {"429", "500", "502", "503", "504"}
OTHER_FAULTS = {"timeout", "token_expired", "partial"}


@dataclass
class Fault:
    mode: str
    method: str = ""
    path: str = ""
    times: int = 1
    retry_after: float = 1.0

    def matches(self, method: str, path: str) -> bool:
        return (not self.method or self.method.upper() == method) and (not self.path or self.path in path)


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    base_url: str

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8", errors="replace")).items()}

    def param(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        return list(self.query.get(name) or [])

    def header(self, name: str, default: str = "") -> str:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), default)


class CarrierSimulator:
    """Carrier-independent state and machinery; subclasses add routes, auth and the carrier's payload shapes."""

    carrier: ClassVar[str] = ""

    def __init__(self, *, hang_seconds: float = 2.0) -> None:
        self.lock = threading.RLock()
        self.hang_seconds = hang_seconds
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.parcels: dict[str, dict[str, Any]] = {}  # tracking number → what the carrier knows of it
        self.serial = itertools.count(1)
        self.tokens_issued = 0  # OAuth carriers count the tokens they hand out
        self.issued_tokens: list[str] = []  # and keep them, so a test can look for them where they must not be
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # -- the server ------------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.server is not None, "the simulator is not running"
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, *, host: str = "127.0.0.1", port: int = 0) -> CarrierSimulator:
        self.server = ThreadingHTTPServer((host, port), _handler_for(self))
        self.server.daemon_threads = True
        # A short poll: `stop()` waits for the serving loop to notice, once per test.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{self.carrier}-sim", daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Any]:
        """`with connector.simulator(credentials=...).running() as sim:` — on a free loopback port."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    # -- dispatch --------------------------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> tuple[Reply, float]:
        """The reply and how long to hang before sending it."""
        if request.path.startswith("/_sim/"):
            return self.control(request), 0.0
        fault = self.take_fault(request.method, request.path, modes=STATUS_FAULTS | {"timeout"}, numeric=True)
        with self.lock:
            self.requests.append({"method": request.method, "path": request.path, "fault": fault.mode if fault else ""})
        if fault is not None:
            if fault.mode == "timeout":
                return self.error_reply(504, "Gateway Timeout"), fault.retry_after or self.hang_seconds
            reply = self.error_reply(int(fault.mode), HTTPStatus(int(fault.mode)).phrase)
            if fault.mode in {"429", "503"}:
                reply.headers["Retry-After"] = f"{fault.retry_after:g}"
            return reply, 0.0
        refused = self.authenticate(request)
        if refused is not None:
            return refused, 0.0
        with self.lock:
            return self.route(request), 0.0

    def take_fault(self, method: str, path: str, *, modes: set[str], numeric: bool = False) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                wanted = fault.mode in modes or (numeric and fault.mode.isdigit() and fault.mode not in modes)
                if wanted and fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def add_fault(self, mode: str, **options: Any) -> Fault:
        if mode not in STATUS_FAULTS | OTHER_FAULTS and not (len(mode) == 3 and mode.isdigit()):
            raise ValueError(f"unknown fault {mode!r}")
        fault = Fault(mode=mode, **options)
        with self.lock:
            self.faults.append(fault)
        return fault

    def token_expired_now(self, request: Request) -> bool:
        """Consume a `token_expired` fault for this call (the subclass answers 401 in its own shape)."""
        return self.take_fault(request.method, request.path, modes={"token_expired"}) is not None

    def partial_now(self, request: Request) -> bool:
        return self.take_fault(request.method, request.path, modes={"partial"}) is not None

    # -- control endpoints -----------------------------------------------------------------------------------------

    def control(self, request: Request) -> Reply:
        path = request.path
        if path == "/_sim/ledger" and request.method == "GET":
            return Reply(200, self.ledger())
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
        if path == "/_sim/scan" and request.method == "POST":
            data = request.json() or {}
            try:
                self.scan(str(data.get("tracking_number", "")))
            except KeyError as exc:
                return Reply(404, {"error": str(exc)})
            return Reply(200, {"ok": True})
        return Reply(404, {"error": "no such control endpoint"})

    def ledger(self) -> dict[str, Any]:
        with self.lock:
            return json.loads(
                json.dumps(
                    {
                        "carrier": self.carrier,
                        "parcels": self.parcels,
                        "requests": self.requests,
                        "tokens_issued": self.tokens_issued,
                        **self.own_ledger(),
                    },
                    default=str,
                )
            )

    # -- parcels and their events ----------------------------------------------------------------------------------

    def parcel(self, tracking_number: str) -> dict[str, Any]:
        with self.lock:
            if tracking_number not in self.parcels:
                raise KeyError(f"no parcel {tracking_number!r}")
            return self.parcels[tracking_number]

    def scan(self, tracking_number: str) -> None:
        """Play the carrier's fixture events for the parcel (its label exists, so it is handed over and travels)."""
        parcel = self.parcel(tracking_number)
        with self.lock:
            parcel["events"].extend(self.fixture_events(tracking_number))
            parcel["state"] = "handed_over"

    def duplicate_events(self, tracking_number: str) -> None:
        parcel = self.parcel(tracking_number)
        with self.lock:
            parcel["events"].extend(json.loads(json.dumps(parcel["events"])))

    # -- what each carrier defines ---------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        raise NotImplementedError

    def authenticate(self, request: Request) -> Reply | None:
        raise NotImplementedError

    def error_reply(self, status: int, message: str) -> Reply:
        raise NotImplementedError

    def fixture_events(self, tracking_number: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    def own_ledger(self) -> dict[str, Any]:
        return {}


# --- labels the simulators draw ----------------------------------------------------------------------------------


def pdf_label(lines: list[str]) -> bytes:
    """A small, valid one-page PDF (4×6 in) with `lines` of text: what a carrier's PDF label looks like to a viewer."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "BT /F1 14 Tf 20 400 Td 18 TL " + " ".join(f"({escape(line)}) '" for line in lines) + " ET"
    stream = zlib.compress(text.encode("latin-1", errors="replace"))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 288 432] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def zpl_label(lines: list[str], barcode: str) -> str:
    """A ZPL II label (what a thermal printer takes) with `lines` of text and a Code 128 barcode."""
    fields = "".join(f"^FO40,{40 + 40 * i}^A0N,30,30^FD{line}^FS" for i, line in enumerate(lines))
    return f"^XA^CI28{fields}^FO40,{80 + 40 * len(lines)}^BCN,120,Y,N,N^FD{barcode}^FS^XZ"


def gif_label(text: str) -> bytes:
    """A valid 1×1 GIF89a carrying `text` in a comment (UPS's GIF labels are images; the content is not the point)."""
    comment = text.encode("ascii", errors="replace")[:255]
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
        + b"!\xfe"
        + bytes([len(comment)])
        + comment
        + b"\x00"
        + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def _handler_for(sim: CarrierSimulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = f"{sim.carrier}-simulator"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms per call.
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s sim: " + format, sim.carrier, *args)

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
                reply, hang = sim.dispatch(request)
            except Exception:
                logger.exception("simulator error")
                reply, hang = sim.error_reply(500, "Internal Server Error"), 0.0
            if hang:
                time.sleep(hang)
            if isinstance(reply.body, bytes):
                payload = reply.body
            else:
                payload = b"" if reply.body is None else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (a timeout we injected)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    return Handler
