"""A stand-in for the hub's carrier webhook endpoints on loopback, built only on the connector's protocol: the token
URL a carrier fetches a token from (`webhook_token`) and the event URL it posts to (`webhook_verify`, then
`webhook_events`). The real routes come with the custody work; the carrier's side of the exchange is tested here."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from integrations.carriers.protocol import Carrier, TrackingEvent


class Hub:
    def __init__(self, carrier: Carrier, credentials: Mapping[str, Any]) -> None:
        self.carrier = carrier
        self.credentials = credentials
        self.deliveries: list[dict[str, Any]] = []
        self.events: list[TrackingEvent] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    @contextlib.contextmanager
    def running(self) -> Iterator[Hub]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/token":
                    answer = hub.carrier.webhook_token(
                        authorization=self.headers.get("Authorization", ""),
                        body=body,
                        credentials=hub.credentials,
                        now=hub.now(),
                    )
                    self._reply(200 if answer else 401, answer or {"error": "invalid_client"})
                    return
                verified = hub.carrier.webhook_verify(
                    headers=dict(self.headers.items()), body=body, credentials=hub.credentials, now=hub.now()
                )
                with hub.lock:
                    hub.deliveries.append({"verified": verified, "body": body})
                    if verified:
                        hub.events.extend(hub.carrier.webhook_events(body))
                self._reply(200 if verified else 401, {})

            def _reply(self, status: int, body: Any) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
