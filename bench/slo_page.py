"""The brand SLO page at scale, beside the raw SQL of the same page, in the same run.

    python bench/slo_page.py        (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/warehouse)

Own database (`<name>_bench_slo`, re-created). Bulk-loaded with INSERT … SELECT over generate_series: 10 brands with
2 connections each (20 connections); BENCH_ORDERS (1,000,000) orders spread over the last 30 days, each with its
"accepted" timeline event (1 in 40 slow), a webhook delivery with the platform's event time for 1 in 4; BENCH_WRITES
(100,000) shipments with their fulfilment writes; BENCH_RECORDS (10,000) reconciler records; and 30 days of one-minute
metric rollups (`MetricMinute`) for the 20 connections, BENCH_FAMILIES (3) families each. Then `slo_rollup(days=30)`
builds the daily rollup the page reads and `slo_minutes_rollup(minutes=360)` the minute rollup of the burn-rate
windows (their times, and those of the scheduled runs, are printed).

Each page is rendered through Django BENCH_RUNS (20) times (the SLO page as a signed-in brand user and as a finance
user on the same brand; the connector health board, `/health/`, as a warehouse manager, when
`reports/health_board.py` exists), interleaved with the raw SQL of the page: every SELECT the page ran, captured
once with its literals, run again directly on a cursor. Printed per page: query count, page p50/p95, raw SQL p95
and their ratio. The last line is JSON with `p95_ms`, `max_queries` and `ratio` (the worst page); exit 1 when a page
needs more than 12 queries or its p95 is over 150 ms. BENCH_REUSE=1 measures again on the last run's database (no
re-load; the 30-day rollup time is then not measured)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from _support import own_database, p95  # noqa: E402  (bench/ is on sys.path when a bench runs)

ORDERS = int(os.environ.get("BENCH_ORDERS", "1000000"))
WRITES = int(os.environ.get("BENCH_WRITES", "100000"))
RECORDS = int(os.environ.get("BENCH_RECORDS", "10000"))
FAMILIES = int(os.environ.get("BENCH_FAMILIES", "3"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
REUSE = os.environ.get("BENCH_REUSE") == "1"  # measure again on the database the last run loaded
BRANDS, PER_BRAND = 10, 2
CONNECTIONS = BRANDS * PER_BRAND
MAX_QUERIES, MAX_P95_MS = 12, 150.0
DAYS = 30
SPAN_S = DAYS * 86400 - 3600  # orders spread over the 30 days up to an hour ago


def _sql(sql: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)


def load() -> dict:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command

    from integrations.metrics.families import FAMILIES as METRIC_FAMILIES
    from integrations.services import connection_create
    from warehouse.models import Brand
    from warehouse.roles import brand_member_add

    call_command("migrate", verbosity=0)
    call_command("sync_roles", verbosity=0)
    brands = [Brand.objects.create(name=f"Brand {i}", slug=f"brand-{i}") for i in range(BRANDS)]
    connections = []
    for i, brand in enumerate(brands):
        for j in range(PER_BRAND):
            connections.append(
                connection_create(
                    brand=brand, platform="shopify", name=f"Shop {i}-{j}", shop=f"shop-{i}-{j}.myshopify.com",
                    actor=None,
                )
            )  # fmt: skip
    first_conn = connections[0].pk
    chan = {c.pk: c.channel_id for c in connections}
    brand_of = {c.pk: c.channel.brand_id for c in connections}
    # connection k (0..19) = first_conn + k: ids are consecutive here (created in one go)
    assert sorted(chan) == list(range(first_conn, first_conn + CONNECTIONS))
    chan_sql = "(ARRAY[" + ", ".join(str(chan[first_conn + k]) for k in range(CONNECTIONS)) + "])"
    brand_sql = "(ARRAY[" + ", ".join(str(brand_of[first_conn + k]) for k in range(CONNECTIONS)) + "])"
    t0 = time.perf_counter()
    # Orders: g-th order placed (now − g·span/N), arrived 0.3 s later, accepted 1.2 s after placement (1 in 40: 9 s).
    _sql(f"""
        INSERT INTO orders_order (brand_id, source, channel_id, platform_order_id, placed_at, priority_class,
            delivery_name, delivery_street1, delivery_street2, delivery_postal_code, delivery_city, delivery_region,
            delivery_country, contact_phone, email, special_handling, is_manual_entry, state, hold_reasons,
            stock_round, cancel_reason, forced_past, person_fixes, platform_conflicts, extra,
            last_activity_at, created_at, updated_at)
        SELECT {brand_sql}[1 + g % {CONNECTIONS}], 'channel', {chan_sql}[1 + g % {CONNECTIONS}], 'P' || g,
            t, 'standard', 'Ann', 'Calle 1', '', '46001', 'Valencia', '', 'ES', '', '', '', false, 'accepted', '[]',
            0, '', '[]', '{{}}', '{{}}', '{{}}', t, t + interval '0.3 s', t
        FROM (SELECT g, now() - interval '1 hour' - make_interval(secs => (g::float8 * {SPAN_S} / {ORDERS}))
              AS t FROM generate_series(1, {ORDERS}) AS g) s
    """)
    _sql("""
        INSERT INTO orders_orderevent (order_id, kind, message, at, data)
        SELECT id, 'accepted', 'Accepted', placed_at + CASE WHEN id % 40 = 0 THEN interval '9 s'
                                                       ELSE interval '1.2 s' END, '{}'
        FROM orders_order
    """)
    _sql(f"""
        INSERT INTO integrations_inbounddelivery (connection_id, source, delivery_id, event_id, topic, headers, body,
            received_at, triggered_at, platform_order_id, platform_updated_at, state, outcome, order_id,
            processed_at, attempts, reruns)
        SELECT {first_conn} + (substr(o.platform_order_id, 2)::bigint % {CONNECTIONS}), 'webhook',
            'd' || o.id, '', 'orders/create', '{{}}', '\\x7b7d', o.created_at, o.placed_at, o.platform_order_id,
            o.placed_at, 'processed', 'created', o.id, o.created_at + interval '0.5 s', 1, 0
        FROM orders_order o WHERE o.id % 4 = 0
    """)
    print(f"orders, timelines, deliveries: {time.perf_counter() - t0:.1f} s", flush=True)
    t1 = time.perf_counter()
    _sql(f"""
        INSERT INTO orders_shipment (order_id, carrier, service, tracking_number, carrier_receipt,
            handed_at, state, closed_manually_reason, created_at)
        SELECT id, 'UPS', '', '1Z' || id, 'R' || id, placed_at + interval '2 hours', 'handed_to_carrier', '',
            placed_at + interval '1 hour'
        FROM orders_order WHERE id % {max(ORDERS // WRITES, 1)} = 0
          AND placed_at < now() - interval '2 hours 10 minutes'
    """)
    _sql(f"""
        INSERT INTO outbox_outboundmessage (connection_id, platform, kind, payload, idempotency_key, state, attempts,
            next_attempt_at, ambiguous, result, created_at, sent_at, last_error, discard_reason, source)
        SELECT {first_conn} + (substr(o.platform_order_id, 2)::bigint % {CONNECTIONS}), 'shopify', 'fulfilment',
            jsonb_build_object('shipment_id', s.id, 'order_id', o.platform_order_id), 'ship:' || s.id, 'sent', 1,
            s.handed_at, false, '{{}}', s.handed_at + interval '0.1 s',
            s.handed_at + CASE WHEN s.id % 30 = 0 THEN interval '25 s' ELSE interval '3 s' END, '', '',
            'shipment:' || s.id
        FROM orders_shipment s JOIN orders_order o ON o.id = s.order_id
    """)
    _sql(f"""
        INSERT INTO integrations_inbounddelivery (connection_id, source, delivery_id, event_id, topic, headers, body,
            received_at, triggered_at, platform_order_id, state, outcome, processed_at, attempts, reruns)
        SELECT {first_conn} + g % {CONNECTIONS}, 'reconciler', 'reconcile:' || g, '', 'reconcile', '{{}}', '\\x7b7d',
            now() - make_interval(secs => g::float8 * {SPAN_S} / {RECORDS}), NULL, 'R' || g,
            CASE WHEN g % 50 = 0 THEN 'dead_letter' ELSE 'processed' END, '',
            now() - make_interval(secs => g::float8 * {SPAN_S} / {RECORDS}) + interval '3 minutes', 1, 0
        FROM generate_series(1, {RECORDS}) AS g
    """)
    keys = [f.key for f in METRIC_FAMILIES if f.window is not None][:FAMILIES]
    keys_sql = "(ARRAY[" + ", ".join(f"'{k}'" for k in keys) + "])"
    _sql(f"""
        INSERT INTO integrations_metricminute (metric, platform, connection_id, label, value, count, total, minute)
        SELECT {keys_sql}[f], 'shopify', {first_conn} + c, '', 1.5, 10, 15.0,
               date_trunc('minute', now()) - make_interval(mins => m)
        FROM generate_series(1, {DAYS * 1440}) AS m, generate_series(0, {CONNECTIONS - 1}) AS c,
             generate_series(1, {len(keys)}) AS f
    """)
    print(f"writes, reconciler records, {DAYS * 1440 * CONNECTIONS * len(keys)} metric minutes: "
          f"{time.perf_counter() - t1:.1f} s", flush=True)  # fmt: skip
    _sql("VACUUM ANALYZE")
    from reports.slo.rollup import slo_minutes_rollup, slo_rollup

    t2 = time.perf_counter()
    rows = slo_rollup(days=DAYS + 1)
    rollup_s = time.perf_counter() - t2
    print(f"slo_rollup(days=31): {rows} rows in {rollup_s:.1f} s", flush=True)
    t3 = time.perf_counter()
    slo_rollup()
    print(f"slo_rollup() as scheduled (today and yesterday): {time.perf_counter() - t3:.1f} s", flush=True)
    t4 = time.perf_counter()
    minute_rows = slo_minutes_rollup(minutes=6 * 60)
    print(f"slo_minutes_rollup(minutes=360): {minute_rows} rows in {time.perf_counter() - t4:.1f} s", flush=True)
    t5 = time.perf_counter()
    slo_minutes_rollup()
    print(f"slo_minutes_rollup() as scheduled (the last 5 minutes): {time.perf_counter() - t5:.2f} s", flush=True)
    brand = brands[3]
    brand_user = User.objects.create_user("bench-brand", password="bench-only")
    brand_member_add(user=brand_user, brand=brand)
    finance = User.objects.create_user("bench-finance", password="bench-only", is_staff=True)
    finance.groups.add(Group.objects.get(name="finance"))
    manager = User.objects.create_user("bench-manager", password="bench-only", is_staff=True)
    manager.groups.add(Group.objects.get(name="warehouse_manager"))
    ids = [c.pk for c in connections if c.channel.brand_id == brand.pk]
    users = {"brand user": brand_user, "finance": finance, "manager": manager}
    return {"brand": brand, "ids": ids, "users": users, "rollup_s": rollup_s}


def reloaded() -> dict:
    """The world of the last run's database (BENCH_REUSE=1), with its minute rollup brought up to now."""
    from django.contrib.auth.models import User

    from integrations.models import Connection
    from reports.slo.rollup import slo_minutes_rollup
    from warehouse.models import Brand

    slo_minutes_rollup(minutes=6 * 60)
    brand = Brand.objects.get(slug="brand-3")
    ids = list(Connection.objects.filter(channel__brand=brand).values_list("pk", flat=True))
    users = {
        "brand user": User.objects.get(username="bench-brand"),
        "finance": User.objects.get(username="bench-finance"),
    }
    return {"brand": brand, "ids": ids, "users": users, "rollup_s": None}


def captured_sql(captured: list[dict]) -> list[str]:
    """The page's own SQL, as it ran (literals in place), to run again directly on a cursor."""
    return [q["sql"] for q in captured if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]


def main() -> None:
    own_database("slo", reuse=REUSE)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    world = reloaded() if REUSE else load()
    users = world["users"]
    pages = {f"SLO page, {who}": (users[who], f"/slo/{world['brand'].pk}/") for who in ("brand user", "finance")}
    if (ROOT / "reports" / "health_board.py").exists():  # issue 18's page, when this branch has it
        pages["health board, manager"] = (users["manager"], "/health/")
    results = []
    for label, (user, url) in pages.items():
        client = Client()
        client.force_login(user)
        client.get(url)  # warm caches once
        with CaptureQueriesContext(connection) as first:
            client.get(url)
        raw = captured_sql(first.captured_queries)
        page_ms, raw_ms, queries = [], [], 0
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                response = client.get(url)
                page_ms.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            queries = max(queries, len(captured.captured_queries))
            with connection.cursor() as cursor:
                start = time.perf_counter()
                for sql in raw:
                    cursor.execute(sql)
                    cursor.fetchall()
                raw_ms.append((time.perf_counter() - start) * 1000)
        row = {
            "page": label, "queries": queries, "p50_ms": round(statistics.median(page_ms), 1),
            "p95_ms": round(p95(page_ms), 1), "raw_p95_ms": round(p95(raw_ms), 2),
        }  # fmt: skip
        row["ratio"] = round(row["p95_ms"] / max(row["raw_p95_ms"], 0.01), 2)
        results.append(row)
        print(
            f"{label:28} queries {queries:3}  page p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  "
            f"raw SQL p95 {row['raw_p95_ms']:6.2f} ms  ratio {row['ratio']}",
            flush=True,
        )
    worst = max(results, key=lambda r: r["p95_ms"])
    summary = {
        "p95_ms": worst["p95_ms"], "max_queries": max(r["queries"] for r in results), "ratio": worst["ratio"],
        "orders": ORDERS, "connections": CONNECTIONS, "rollup_30_days_s": None if world["rollup_s"] is None else round(world["rollup_s"], 1),
        "health_board": "measured" if any(r["page"].startswith("health") for r in results) else "absent",
        "pages": results,
    }  # fmt: skip
    print(json.dumps(summary))
    if summary["max_queries"] > MAX_QUERIES or summary["p95_ms"] > MAX_P95_MS:
        sys.exit(1)


if __name__ == "__main__":
    main()
