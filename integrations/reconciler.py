"""The reconciler: "if we missed it, would we know within 30 minutes".

Every `reconcile_every_minutes` (default 10; the fallback cadence while in polling fallback) a connection's orders
changed since its watermark (minus an overlap) are pulled through the platform client, diffed against the WMS, and
what the WMS lacks (missing) or holds in an older version (stale) is replayed through the same ingestion path as a
webhook, marked found by the reconciler. A daily run does a full diff. Every run is a `ReconcileRun` row.

A channel whose webhooks went quiet (none for `silent_after_minutes`) while pulls find orders we did not have raises
a CHANNEL_SILENT exception and switches the connection to polling fallback (runbook: platform outage); it returns to
active when webhooks flow again and a run finds nothing missing."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.apps import apps
from django.db import connection as db
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from integrations.connections import client_for
from integrations.delivery_lifecycle import error_name
from integrations.ingest import payload_replay
from integrations.mappings import mappings_for, normalise
from integrations.metrics import last_webhook_at
from integrations.models import Connection, ConnectionStatus, DeliveryState, InboundDelivery, ReconcileRun
from integrations.outbox.services import headroom_record
from integrations.platforms.registry import connector_for
from integrations.services import (
    connection_enter_polling_fallback,
    connection_pause_for_credentials,
    connection_resume,
)
from warehouse.errors import Reason
from warehouse.models import ExceptionKind
from warehouse.services import exception_open

logger = logging.getLogger(__name__)

Puller = Callable[[Connection, dt.datetime | None], Iterable[dict[str, Any]]]
RUN_STALE_AFTER = dt.timedelta(minutes=15)


def platform_pull(connection: Connection, since: dt.datetime | None) -> Iterable[dict[str, Any]]:
    """Orders changed since `since` (all when None), through the connection's connector and client
    (`orders_changed_since` pages through the platform's own pagination)."""
    connector = connector_for(connection.platform)
    client = client_for(connection)
    yield from connector.orders_changed_since(client, since)
    # The pull's pages read the rate-limit budget too: recorded like a write's, so the metric covers both surfaces.
    headroom = getattr(getattr(client, "http", None), "last_headroom", None)
    if headroom is not None:
        headroom_record(connection.pk, headroom=headroom, now=timezone.now())


def _status_code(exc: BaseException) -> int | None:
    for attr in ("status_code", "status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def _wms_versions(connection: Connection, order_ids: list[str]) -> dict[str, dt.datetime | None]:
    """Which of these platform orders the WMS holds, and the newest platform version it applied (None: unknown).

    The orders app's `Order.source_updated_at` is the truth; our own processed deliveries fill in when it is empty."""
    held: dict[str, dt.datetime | None] = {}
    try:
        order_model = apps.get_model("orders", "Order")
    except LookupError:
        order_model = None
    if order_model is not None:
        has_version = any(f.name == "source_updated_at" for f in order_model._meta.get_fields())
        columns = ["platform_order_id", "source_updated_at"] if has_version else ["platform_order_id"]
        for row in order_model._default_manager.filter(
            channel_id=connection.channel_id, platform_order_id__in=order_ids
        ).values_list(*columns):
            held[str(row[0])] = row[1] if has_version else None
    applied = (
        InboundDelivery.objects.filter(
            connection=connection, platform_order_id__in=order_ids, state=DeliveryState.PROCESSED
        )
        .values("platform_order_id")
        .annotate(newest=Max("platform_updated_at"))
    )
    for row in applied:
        pid, newest = row["platform_order_id"], row["newest"]
        if pid in held and newest is not None and (held[pid] is None or newest > held[pid]):  # type: ignore[operator]
            held[pid] = newest
    return held


def reconcile_connection(
    *,
    connection: Connection,
    full: bool = False,
    pull: Puller | None = None,
    now: dt.datetime | None = None,
) -> ReconcileRun:
    """One reconciler pass over one connection. Safe to run twice: replays are idempotent."""
    now = now or timezone.now()
    pull = pull or platform_pull
    since = (
        None
        if full or connection.reconcile_watermark is None
        else (connection.reconcile_watermark - dt.timedelta(minutes=connection.reconcile_overlap_minutes))
    )
    run = ReconcileRun.objects.create(connection=connection, full=full, since=since, started_at=now)
    started = time.monotonic()
    try:
        pulled = list(pull(connection, since))
    except Exception as exc:
        code = _status_code(exc)
        run.outcome, run.error = "failed", f"pull failed: {type(exc).__name__}" + (f" (HTTP {code})" if code else "")
        run.finished_at = timezone.now()
        run.duration_ms = (time.monotonic() - started) * 1000
        run.save()
        if code == 401:
            connection_pause_for_credentials(connection=connection, note="the reconciler's pull got 401")
        logger.warning("reconcile of connection %s failed: %s", connection.pk, run.error)
        return run

    try:
        _diff_and_replay(connection=connection, run=run, pulled=pulled)
    except Exception as exc:
        # A run that dies says so, and a person hears of it; the watermark stays, so the next run decides again.
        logger.exception("reconcile of connection %s died", connection.pk)
        if not db.in_atomic_block:
            db.close_if_unusable_or_obsolete()  # a connection broken by the failure is replaced, not reused
        run_failed(run=run, error=f"died while replaying: {error_name(exc)}", duration_ms=_ms(started))
        return run

    run.finished_at = timezone.now()
    run.duration_ms = _ms(started)
    run.save()
    Connection.objects.filter(pk=connection.pk).update(
        reconcile_watermark=now, last_reconciled_at=now, **({"last_full_diff_at": now} if full else {})
    )
    _channel_health(connection=connection, run=run, now=now)
    return run


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _diff_and_replay(*, connection: Connection, run: ReconcileRun, pulled: list[dict[str, Any]]) -> None:
    """Diff what was pulled against the WMS and replay what it lacks or holds older. Every replay decided here
    happens now, or waits on its delivery for a retry (the sweeper wakes it), or is in the exception queue
    (quarantined or dead-lettered): the run's outcome is "ok" only when all happened now."""
    mappings = mappings_for(connection)
    versions: list[tuple[dict[str, Any], str, dt.datetime | None]] = []
    for payload in pulled:
        try:
            canonical = normalise(payload=payload, mappings=mappings)
        except (ValueError, TypeError, AttributeError):
            continue
        if canonical.platform_order_id:
            versions.append((payload, canonical.platform_order_id, canonical.updated_at))
    held = _wms_versions(connection, [pid for _, pid, _ in versions])

    missing = stale = replayed = 0
    not_yet: dict[str, int] = {}
    for payload, pid, updated_at in versions:
        have = held.get(pid)
        if pid not in held:
            missing += 1
        elif have is not None and updated_at is not None and have < updated_at:
            stale += 1
        else:
            continue  # the WMS has this version (or newer, or orders owns it without a platform version)
        delivery = payload_replay(connection=connection, payload=payload)
        if delivery.state in (DeliveryState.PROCESSED, DeliveryState.STALE):
            replayed += delivery.state == DeliveryState.PROCESSED
        else:
            not_yet[delivery.state] = not_yet.get(delivery.state, 0) + 1

    run.pulled, run.missing, run.stale, run.replayed = len(pulled), missing, stale, replayed
    run.outcome = "ok" if not not_yet else "partial"
    if not_yet:
        run.error = ("replays not done now: " + ", ".join(f"{n} {state}" for state, n in sorted(not_yet.items())))[:300]


def run_failed(*, run: ReconcileRun, error: str, duration_ms: float | None = None) -> None:
    """Mark a run failed and open a RECONCILE_FAILED exception on its connection (one open per connection)."""
    run.outcome, run.error = "failed", error[:300]
    run.finished_at = timezone.now()
    if duration_ms is not None:
        run.duration_ms = duration_ms
    run.save()
    connection = run.connection
    exception_open(
        kind=ExceptionKind.RECONCILE_FAILED,
        summary=f"{connection}: reconciler run {run.pk} failed: {error}"[:300],
        reasons=[Reason("reconcile_failed", error[:300])],
        subject=connection,
        brand=connection.brand,
        detail={"run_id": run.pk, "connection_id": connection.pk},
    )


def reconcile_runs_expire_stale(*, now: dt.datetime | None = None) -> int:
    """Runs still "running" RUN_STALE_AFTER after they started died with their worker: mark them failed."""
    now = now or timezone.now()
    expired = 0
    for run in ReconcileRun.objects.select_related("connection__channel__brand").filter(
        outcome="running", started_at__lte=now - RUN_STALE_AFTER
    ):
        run_failed(run=run, error=f"never finished: still running {RUN_STALE_AFTER} after it started (worker died?)")
        expired += 1
    return expired


def _channel_health(*, connection: Connection, run: ReconcileRun, now: dt.datetime) -> None:
    """Silent channel detection (missed webhooks) and the way back from polling fallback."""
    quiet_for = dt.timedelta(minutes=connection.silent_after_minutes)
    last = last_webhook_at(connection)
    silent = (last is None and connection.created_at <= now - quiet_for) or (
        last is not None and last <= now - quiet_for
    )
    if run.missing and silent:
        exception_open(
            kind=ExceptionKind.CHANNEL_SILENT,
            summary=f"{connection}: no webhooks for {connection.silent_after_minutes} min while the reconciler "
            f"found {run.missing} order(s) we did not have",
            reasons=[
                Reason("channel_silent", f"last webhook: {last.isoformat() if last else 'never'}"),
                Reason("reconciler_found_orders", f"{run.missing} missing order(s) replayed in run {run.pk}"),
            ],
            subject=connection,
            brand=connection.brand,
        )
        connection_enter_polling_fallback(connection=connection, note="channel silent; polling until webhooks return")
    elif connection.status == ConnectionStatus.POLLING_FALLBACK and not run.missing and not silent:
        connection_resume(connection=connection, actor=None, note="webhooks flowing again; nothing missed")


def reconcile_due(*, now: dt.datetime | None = None, full: bool = False) -> list[int]:
    """Connections whose cadence says a run is due (and none is running): their ids. A paused or disabled
    connection is not pulled (no retry storm against a platform that refuses us)."""
    now = now or timezone.now()
    due: list[int] = []
    running = set(
        ReconcileRun.objects.filter(outcome="running", started_at__gt=now - RUN_STALE_AFTER).values_list(
            "connection_id", flat=True
        )
    )
    for conn in Connection.objects.filter(
        status__in=[ConnectionStatus.ACTIVE, ConnectionStatus.POLLING_FALLBACK]
    ).order_by("pk"):
        if conn.pk in running:
            continue
        if full:
            if conn.last_full_diff_at is None or conn.last_full_diff_at <= now - dt.timedelta(hours=23):
                due.append(conn.pk)
            continue
        cadence = dt.timedelta(minutes=conn.reconcile_cadence_minutes)
        if conn.last_reconciled_at is None or conn.last_reconciled_at <= now - cadence + dt.timedelta(seconds=5):
            due.append(conn.pk)
    return due


def reconcile_connection_by_id(connection_id: int, *, full: bool = False) -> int | None:
    with transaction.atomic():
        conn = Connection.objects.select_related("channel__brand").filter(pk=connection_id).first()
    if conn is None or conn.status not in (ConnectionStatus.ACTIVE, ConnectionStatus.POLLING_FALLBACK):
        return None
    return reconcile_connection(connection=conn, full=full).pk
