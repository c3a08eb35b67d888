"""What the alert tests share: a fake clock (time-machine: every timestamp the hub writes follows it, so an alert's
"for 10 minutes" is ten minutes of the clock), the simulators on loopback, a real SMTP server (tests/mail.py) and a
real on-call webhook receiver on loopback that checks each request's signature."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine

from integrations.alerts.models import Recipient
from integrations.alerts.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER
from integrations.alerts.rules import alerts_evaluate
from integrations.outbox.senders import default_client_factory
from integrations.platforms.registry import connector_for
from integrations.reconciler import reconcile_connection
from tests.integrations.conftest import run_queued_tasks
from tests.integrations.outbox.conftest import fast_http, shop, shopify_sim, sleeps  # noqa: F401  (fixtures)
from tests.mail import smtp_inbox  # noqa: F401  (fixture)

ONCALL_SECRET = "oncall-signing-secret-5b1e-77c2"
ONCALL_EMAIL = "oncall@hub.example"


@dataclass
class OnCall:
    """An on-call receiver: accepts a POST whose signature checks out (after refusing the first `fail_first`)."""

    secret: str
    fail_first: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    url: str = ""

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        expected = (
            "sha256="
            + hmac.new(
                self.secret.encode(), headers.get(TIMESTAMP_HEADER, "").encode() + b"." + body, hashlib.sha256
            ).hexdigest()
        )
        if not hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, "")):
            self.refused += 1
            return 401
        if self.fail_first > 0:
            self.fail_first -= 1
            self.refused += 1
            return 503
        self.received.append(json.loads(body))
        return 200


@pytest.fixture
def oncall():
    receiver = OnCall(secret=ONCALL_SECRET)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.handle(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/page"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def clock():
    """The fake clock: starts now and ticks; `clock.shift(minutes=10)` moves every clock of the process (not the
    monotonic one the HTTP timeouts use)."""
    with time_machine.travel(dt.datetime.now(dt.UTC), tick=True) as traveller:

        class Clock:
            def shift(self, **delta: float) -> None:
                traveller.shift(dt.timedelta(**delta))

        yield Clock()


@pytest.fixture
def paging(settings, smtp_inbox, oncall):  # noqa: F811
    """The on-call is told by e-mail and by the signed webhook, for every brand and rule."""
    settings.ALERTS_WEBHOOK_SECRET = ONCALL_SECRET
    settings.ALERTS_BASE_URL = "https://hub.example"
    Recipient.objects.create(email=ONCALL_EMAIL, webhook_url=oncall.url)
    return smtp_inbox, oncall


@pytest.fixture
def evaluate(django_capture_on_commit_callbacks):
    """One run of the scheduled evaluation at the clock's now, then the queued tasks (notifications, reconciles) as a
    django-q2 worker would run them."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            result = alerts_evaluate()
        with django_capture_on_commit_callbacks(execute=True):
            run_queued_tasks()
        return result

    return run


def pull_fast(connection, since):
    """The reconciler's pull through the connection's real client, with the tests' short timeouts and recorded sleeps
    (`settings.OUTBOX_HTTP`), so an injected 503 costs no real backoff."""
    return connector_for(connection.platform).orders_changed_since(default_client_factory(connection), since)


def reconcile(connection, **options):
    connection.refresh_from_db()
    return reconcile_connection(connection=connection, pull=pull_fast, **options)
