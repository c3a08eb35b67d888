"""The scheduled burn-rate evaluation: every connection's SLOs against `budget.BURN_ALERTS`; a connection whose
budget is burning gets an incident in the exception queue for staff (one open per connection and SLO: the next
evaluation updates its words instead of opening another). It first brings the minute rollup (`SloMinute`) up to the
last whole minute; the brand's page reads the same rows for its banner."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from integrations.models import Connection
from reports.slo.budget import Burning, burn_rates, burning
from reports.slo.measures import SLOS
from reports.slo.rollup import slo_minutes_rollup
from warehouse.errors import Reason
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState
from warehouse.services import exception_open, exception_resolve


def burn_words(b: Burning, connection: str) -> str:
    """ "Order ingest on Acme Shopify (Shopify) is spending its error budget 20× too fast (fast burn) …\""""
    return (
        f"{b.slo.name} on {connection} is spending its error budget {b.long_rate:.1f}× as fast as the month allows "
        f"({b.alert.words}: {b.long_rate:.1f}× over the last {_window(b.alert.long)}, {b.short_rate:.1f}× over the "
        f"last {_window(b.alert.short)}; a warning from {b.alert.factor:g}×)"
    )


def _window(window: dt.timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def dedupe_key(connection_id: int, slo_key: str) -> str:
    return f"slo-burn:{connection_id}:{slo_key}"


def slo_evaluate(*, now: dt.datetime | None = None) -> list[Burning]:
    """Evaluate every connection; open (or refresh) an incident for each that burns, and close the ones whose burn
    stopped (both windows of every alert back under its factor: the short window is what lets it reset quickly).
    Returns what fired."""
    now = now or timezone.now()
    connections = {c.pk: c for c in Connection.objects.select_related("channel__brand").order_by("pk")}
    slo_minutes_rollup(now=now)  # the windows read the minute rollup: bring it up to the last whole minute first
    rates = burn_rates(list(connections), now)
    fired: list[Burning] = []
    for slo in SLOS:
        fired += burning(slo, rates[slo.key])
    for b in fired:
        connection = connections[b.connection_id]
        exception_open(
            kind=ExceptionKind.INCIDENT,
            summary=burn_words(b, str(connection)),
            reasons=[Reason(f"slo_{b.alert.key}_burn", f"{b.slo.promise}: {b.alert.words}")],
            subject=connection,
            brand=connection.channel.brand,
            dedupe_key=dedupe_key(b.connection_id, b.slo.key),
            detail={
                "slo": b.slo.key, "alert": b.alert.key, "connection_id": b.connection_id,
                "long_rate": round(b.long_rate, 2), "short_rate": round(b.short_rate, 2),
            },
        )  # fmt: skip
    _close_recovered(burning_keys={dedupe_key(b.connection_id, b.slo.key) for b in fired}, now=now)
    return fired


def _close_recovered(*, burning_keys: set[str], now: dt.datetime) -> int:
    stopped = ExceptionItem.objects.filter(
        kind=ExceptionKind.INCIDENT, state=ExceptionState.OPEN, dedupe_key__startswith="slo-burn:"
    ).exclude(dedupe_key__in=burning_keys)
    closed = 0
    for item in stopped:
        at = f"{timezone.localtime(now):%d %b %H:%M}"
        note = f"Burn rate back under every alert's factor at {at}: closed by the evaluation."
        exception_resolve(item=item, actor=None, note=note)
        closed += 1
    return closed
