"""A connection's health in words, for its console page and the connection list: the last delivery received, the
last successful pull, the last error (a sentence, never an exception's class name) and a computed status.

"Failing" is not stored: an Active connection reads as Failing once its last `FAILING_AFTER` reconciler pulls all
failed, or its outbound writes failed `FAILING_AFTER` times in a row (the outbox's circuit counts them). The first
success (a pull, a write) turns it back to Active."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from integrations.models import Connection, ConnectionStatus, DeliverySource, InboundDelivery, ReconcileRun
from integrations.outbox.models import ConnectionCircuit

FAILING_AFTER = 3  # consecutive failed pulls, or consecutive failed writes

# The one place the reconciler's and the outbox's error codes (exception class names) become words.
ERROR_WORDS: dict[str, str] = {
    "_NotSent": "the platform could not be reached (nothing was sent)",
    "ConnectTimeout": "the platform could not be reached in time",
    "ReadTimeout": "the platform did not answer in time",
    "RateLimited": "the platform asked us to slow down (rate limit)",
    "AuthExpired": "the platform refused the credentials",
    "PermanentError": "the platform refused the request",
    "AmbiguousWrite": "no answer came after the request was sent, so it may have landed",
    "TransientError": "the platform had a temporary problem",
    "HttpError": "the platform answered with an error",
    "ApiHostRefused": "the API base URL is not one of the platform's own hosts, so nothing was sent",
    "OperationalError": "the database was unavailable",
    "IntegrityError": "the database refused a change",
}
_CLASS_NAME = re.compile(r"\b_?[A-Z][A-Za-z]*(?:Error|Exception|Timeout|Refused|Sent|Limited|Expired|Write)\b")
_WHERE = re.compile(r" at [\w.]+:\d+ \([\w<>]+\)")  # error_name()'s "at file.py:12 (func)"


def error_in_words(text: str, *, prefix: str = "") -> str:
    """A stored error ("pull failed: _NotSent (HTTP 503)") as a sentence for a person, after `prefix` if given."""
    text = _WHERE.sub("", (text or "").strip())
    if not text:
        return ""
    text = _CLASS_NAME.sub(lambda m: ERROR_WORDS.get(m.group(0), "an unexpected error"), text)
    text = text.replace("pull failed: ", "the pull failed: ").replace(
        "died while replaying: ", "a pull stopped while replaying the orders it found: "
    )
    text = prefix + text if prefix else text[0].upper() + text[1:]
    return text if text.endswith(".") else text + "."


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    words: str


@dataclass(frozen=True)
class ConnectionHealth:
    status: str  # "Active", "Failing", or the connection's own stored status label
    failing_because: str
    last_delivery: Event | None
    last_pull: Event | None
    last_error: Event | None


def _last_failed_pulls(connection: Connection) -> list[ReconcileRun]:
    runs = list(
        ReconcileRun.objects.filter(connection=connection)
        .exclude(outcome="running")
        .order_by("-started_at", "-pk")[:FAILING_AFTER]
    )
    return runs if len(runs) == FAILING_AFTER and all(r.outcome == "failed" for r in runs) else []


def connection_health(connection: Connection) -> ConnectionHealth:
    delivery = (
        InboundDelivery.objects.filter(connection=connection, source=DeliverySource.WEBHOOK)
        .order_by("-received_at", "-pk")
        .only("received_at", "topic")
        .first()
    )
    pull = (
        ReconcileRun.objects.filter(connection=connection, outcome__in=["ok", "partial"])
        .order_by("-finished_at", "-pk")
        .first()
    )
    failed_run = (
        ReconcileRun.objects.filter(connection=connection, outcome="failed").order_by("-finished_at", "-pk").first()
    )
    circuit = ConnectionCircuit.objects.filter(connection_id=connection.pk).first()
    errors: list[Event] = []
    if failed_run is not None and failed_run.finished_at is not None:
        errors.append(Event(failed_run.finished_at, error_in_words(failed_run.error)))
    if circuit is not None and circuit.last_error:
        errors.append(
            Event(circuit.updated_at, error_in_words(circuit.last_error, prefix="A write to the platform failed: "))
        )
    failing_because = ""
    failed_pulls = _last_failed_pulls(connection)
    if failed_pulls:
        failing_because = f"the last {FAILING_AFTER} pulls failed"
    elif circuit is not None and circuit.consecutive_failures >= FAILING_AFTER:
        failing_because = f"the last {circuit.consecutive_failures} writes to the platform failed"
    status = connection.get_status_display()
    if connection.status == ConnectionStatus.ACTIVE and failing_because:
        status = "Failing"
    return ConnectionHealth(
        status=status,
        failing_because=failing_because,
        last_delivery=Event(delivery.received_at, delivery.topic or "no topic") if delivery else None,
        last_pull=Event(pull.finished_at or pull.started_at, f"{pull.pulled} orders pulled") if pull else None,
        last_error=max(errors, key=lambda e: e.at) if errors else None,
    )
