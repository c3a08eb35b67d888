"""Publishing stock to channels, coalesced, and catching channels that diverge from the WMS.

- Every movement that changes a SKU's sellable number marks it dirty (a database trigger, migration 0002).
- `publishing_run_cycle` claims the dirty SKUs, computes each connection's number once and queues one absolute write
  per (SKU, connection) whose number changed: under promo load a hundred events on a SKU become one write per channel.
- `publishing_check_divergence` reads back what the channel shows and compares WMS truth, what we last pushed and the
  channel. Beyond the threshold: one INVENTORY_DIVERGENCE exception per SKU and connection, and the WMS number is
  published again; a desync spike quarantines streaming writes for the SKUs and runs a targeted reconcile (seed 000
  §09 runbook "Inventory desync")."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import connection as db
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.models import Connection, ConnectionStatus
from integrations.publishing import channel
from integrations.publishing.models import (
    DirtyStock,
    PoolKind,
    PublishedLevel,
    PublishQuarantine,
    PublishSettings,
)
from integrations.publishing.pool import offered, sellable, settings_for
from inventory.kits import kits_using
from inventory.models import Sku
from warehouse.errors import Reason
from warehouse.models import Brand, ExceptionKind
from warehouse.services import exception_open

WRITABLE = (ConnectionStatus.ACTIVE, ConnectionStatus.POLLING_FALLBACK)


@dataclass
class CycleResult:
    claimed: int = 0
    written: int = 0
    unchanged: int = 0
    quarantined: int = 0


def _claim_dirty(limit: int) -> list[int]:
    """Take up to `limit` dirty SKUs. On PostgreSQL rows still locked by an uncommitted stock change are skipped
    (they are published next cycle, with the committed number)."""
    table = DirtyStock._meta.db_table
    if db.vendor == "postgresql":
        sql = (
            f"DELETE FROM {table} WHERE sku_id IN (SELECT sku_id FROM {table} ORDER BY marked_at, sku_id "  # noqa: S608
            "LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING sku_id"
        )
        with db.cursor() as cursor:
            cursor.execute(sql, [limit])
            return [row[0] for row in cursor.fetchall()]
    ids = list(DirtyStock.objects.order_by("marked_at", "sku_id").values_list("sku_id", flat=True)[:limit])
    DirtyStock.objects.filter(sku_id__in=ids).delete()
    return ids


def publishing_mark_dirty(*, skus: Iterable[Sku] | None = None, brand: Brand | None = None) -> int:
    """Queue SKUs for the next cycle by hand: a full resync of a brand, or a bulk count completed elsewhere."""
    found = Sku.objects.all()
    if brand is not None:
        found = found.filter(brand=brand)
    if skus is not None:
        found = found.filter(pk__in=[s.pk for s in skus])
    now = timezone.now()
    rows = [DirtyStock(sku_id=pk, marked_at=now) for pk in found.values_list("pk", flat=True)]
    DirtyStock.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _open_quarantines(connection_ids: Iterable[int], sku_ids: Iterable[int]) -> set[tuple[int, int]]:
    return set(
        PublishQuarantine.objects.filter(
            connection_id__in=list(connection_ids), sku_id__in=list(sku_ids), released_at__isnull=True
        ).values_list("connection_id", "sku_id")
    )


def _publish(*, conn: Connection, sku: Sku, quantity: int, level: PublishedLevel | None, now: dt.datetime) -> None:
    """Record the number as pushed and queue the absolute write (same transaction: both or neither)."""
    if level is None:
        level = PublishedLevel(connection=conn, sku=sku, quantity=quantity, pushed_at=now, writes=0)
    level.quantity, level.pushed_at, level.writes = quantity, now, level.writes + 1
    level.save()
    channel.enqueue_level(connection=conn, sku=sku, quantity=quantity, sequence=level.writes)


def publishing_run_cycle(*, limit: int = 2000) -> CycleResult:
    """One publishing cycle: every dirty SKU (and the kits built from it) to every writable connection of its
    brand, one write per (SKU, connection) whose number changed. Safe to run concurrently and to re-run."""
    result = CycleResult()
    with transaction.atomic():
        claimed = _claim_dirty(limit)
        result.claimed = len(claimed)
        if not claimed:
            return result
        skus = list(Sku.objects.filter(pk__in=set(claimed) | kits_using(claimed)))
        pools = sellable(skus)
        by_brand: dict[int, list[Sku]] = defaultdict(list)
        for sku in skus:
            by_brand[sku.brand_id].append(sku)
        connections = list(
            Connection.objects.filter(channel__brand_id__in=list(by_brand), status__in=WRITABLE).select_related(
                "channel", "publish_settings"
            )
        )
        levels = {
            (lvl.connection_id, lvl.sku_id): lvl
            for lvl in PublishedLevel.objects.select_for_update().filter(
                connection__in=connections, sku_id__in=[s.pk for s in skus]
            )
        }
        listed = channel.listed_pairs(connections, skus)
        paused = _open_quarantines([c.pk for c in connections], [s.pk for s in skus])
        now = timezone.now()
        for conn in connections:
            settings = settings_for(conn)
            if not settings.enabled or not channel.publishable(conn):
                continue  # (a connection left without a connector, or without the location its platform needs,
                # must not wedge every other channel's cycle)
            for sku in by_brand[conn.brand_id]:
                if (conn.pk, sku.pk) not in listed:
                    continue  # not sold on this channel
                quantity = offered(settings=settings, pool=pools[sku.pk])
                if quantity is None:
                    continue
                if (conn.pk, sku.pk) in paused:
                    result.quarantined += 1
                    continue
                level = levels.get((conn.pk, sku.pk))
                if level is not None and level.quantity == quantity:
                    result.unchanged += 1
                    continue
                _publish(conn=conn, sku=sku, quantity=quantity, level=level, now=now)
                result.written += 1
    return result


# ---------------------------------------------------------------------------------------------------------------
# Divergence
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class DivergenceResult:
    checked: int = 0
    diverged: list[int] = field(default_factory=list)  # SKU ids
    manual_edits: list[int] = field(default_factory=list)
    spike: bool = False
    released: list[int] = field(default_factory=list)


def _beyond(*, shown: int, truth: int, pct: float) -> bool:
    return abs(shown - truth) * 100 > pct * max(truth, 0) if truth > 0 else shown != truth


def publishing_check_divergence(*, connection: Connection, skus: Sequence[Sku] | None = None) -> DivergenceResult:
    """Read back what the channel shows and compare it with WMS truth and with what we last pushed.

    A channel still showing our previous number while a newer write is queued is not divergence (that write is on
    its way). Anything else beyond the threshold is: one exception per SKU and connection, and the WMS number is
    written again. At `spike_skus` or more in one pass the SKUs are quarantined and a targeted reconcile runs."""
    result = DivergenceResult()
    settings = settings_for(connection)
    if settings.pool == PoolKind.CHANNEL_OWNED or not settings.enabled or not channel.publishable(connection):
        return result  # a channel-owned pool: the channel's number is authoritative there
    if skus is None:
        skus = list(
            Sku.objects.filter(
                Q(published_levels__connection=connection) | Q(pk__in=channel.listed_sku_ids(connection))
            ).distinct()
        )
    skus = list(skus)
    shown = channel.read_levels(connection=connection, skus=skus)
    pending = channel.pending_skus(connection=connection)
    pools = sellable(skus)
    now = timezone.now()
    pct = float(settings.divergence_threshold_pct)
    levels = {lvl.sku_id: lvl for lvl in PublishedLevel.objects.filter(connection=connection, sku__in=skus)}
    paused = {sku_id for _, sku_id in _open_quarantines([connection.pk], [s.pk for s in skus])}
    diverged: list[tuple[Sku, int, int, PublishedLevel | None]] = []
    for sku in skus:
        if sku.pk not in shown or sku.pk in pending:
            continue
        result.checked += 1
        truth = offered(settings=settings, pool=pools[sku.pk])
        assert truth is not None
        level = levels.get(sku.pk)
        if level is not None:
            PublishedLevel.objects.filter(pk=level.pk).update(channel_quantity=shown[sku.pk], channel_read_at=now)
        if _beyond(shown=shown[sku.pk], truth=truth, pct=pct):
            diverged.append((sku, shown[sku.pk], truth, level))
        elif sku.pk in paused:
            PublishQuarantine.objects.filter(connection=connection, sku=sku, released_at__isnull=True).update(
                released_at=now
            )
            # Events skipped while quarantined: the next cycle publishes the number as it is now.
            DirtyStock.objects.bulk_create([DirtyStock(sku=sku, marked_at=now)], ignore_conflicts=True)
            result.released.append(sku.pk)
    result.diverged = [sku.pk for sku, *_ in diverged]
    result.spike = len(diverged) >= max(1, settings.spike_skus)
    for sku, seen, truth, level in diverged:
        last = level.quantity if level is not None else None
        manual = last is not None and seen != last
        if manual:
            result.manual_edits.append(sku.pk)
        reasons = [
            Reason(
                "channel_diverges",
                f"{connection.name} shows {seen} of {sku.code}; the WMS offers {truth}"
                + (f"; we last pushed {last}" if last is not None else "; never pushed"),
            )
        ]
        if manual:
            reasons.append(
                Reason(
                    "edited_on_platform", f"{seen} ≠ {last} last pushed: changed on the platform (see the audit log)"
                )
            )
        exception_open(
            kind=ExceptionKind.INVENTORY_DIVERGENCE,
            summary=f"{sku.code} on {connection.name}: channel shows {seen}, WMS {truth}",
            reasons=reasons,
            subject=sku,
            brand=connection.brand,
            dedupe_key=f"{ExceptionKind.INVENTORY_DIVERGENCE}:{connection.pk}:{sku.pk}",
            detail={
                "connection": connection.pk,
                "wms": truth,
                "last_pushed": last,
                "channel": seen,
                "manual_edit": manual,
                "last_pushed_at": level.pushed_at.isoformat() if level is not None else None,
                "read_at": now.isoformat(),  # the read-back's own exchange is in the connection's audit log
            },
        )
    if result.spike:
        with transaction.atomic():
            for sku, *_ in diverged:
                PublishQuarantine.objects.get_or_create(
                    connection=connection, sku=sku, released_at=None,
                    defaults={"reason": f"desync spike: {len(diverged)} SKUs diverged in one read-back"},
                )  # fmt: skip
        exception_open(
            kind=ExceptionKind.INVENTORY_DIVERGENCE,
            summary=f"Desync spike on {connection.name}: {len(diverged)} SKUs diverge; writes quarantined",
            reasons=[Reason("desync_spike", f"{len(diverged)} SKUs beyond ±{pct:g}% in one read-back")],
            subject=connection,
            brand=connection.brand,
            dedupe_key=f"{ExceptionKind.INVENTORY_DIVERGENCE}:spike:{connection.pk}",
            detail={"skus": [sku.code for sku, *_ in diverged]},
        )
        publishing_reconcile_skus(connection=connection, skus=[sku for sku, *_ in diverged])
    else:
        with transaction.atomic():
            for sku, _seen, truth, level in diverged:
                _publish(conn=connection, sku=sku, quantity=truth, level=level, now=now)
    return result


def publishing_reconcile_skus(*, connection: Connection, skus: Sequence[Sku]) -> int:
    """Targeted reconcile: write the WMS number for each SKU now, through the quarantine (it is the reconcile's
    own write); the next read-back releases each quarantine once the channel agrees."""
    settings = settings_for(connection)
    pools = sellable(skus)
    now = timezone.now()
    written = 0
    with transaction.atomic():
        levels = {
            lvl.sku_id: lvl
            for lvl in PublishedLevel.objects.select_for_update().filter(connection=connection, sku__in=list(skus))
        }
        for sku in skus:
            quantity = offered(settings=settings, pool=pools[sku.pk])
            if quantity is None:
                continue
            _publish(conn=connection, sku=sku, quantity=quantity, level=levels.get(sku.pk), now=now)
            written += 1
    return written


def publish_settings_set(*, connection: Connection, actor: object = None, **changes: object) -> PublishSettings:
    """Create or change one connection's publishing contract (buffer, threshold, pool), kept in history."""
    settings = PublishSettings.objects.filter(connection=connection).first() or PublishSettings(connection=connection)
    for name, value in changes.items():
        setattr(settings, name, value)
    settings._history_user = actor  # type: ignore[attr-defined]
    settings.save()
    DirtyStock.objects.bulk_create(
        [
            DirtyStock(sku_id=pk, marked_at=timezone.now())
            for pk in Sku.objects.filter(brand_id=connection.brand_id).values_list("pk", flat=True)
        ],
        ignore_conflicts=True,
    )  # a new buffer changes every number this channel is offered
    return settings
