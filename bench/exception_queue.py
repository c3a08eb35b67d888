"""Exception queue and order list pages on a large table, against the raw SQL of the same page.

Own database (`<name>_bench_queue`, re-created): 1,000,000 orders (1% on hold) and 100,000 open exceptions,
bulk-loaded with INSERT … SELECT over generate_series. Each page is rendered through Django (signed-in manager) N
times, interleaved with the raw SQL of its main query; printed per page: SQL query count, p50/p95 of the page, p95 of
the raw SQL, and their ratio. The last line is a JSON object with `max_queries`, `p95_ms` and `ratio` (worst page).

Environment: BENCH_ORDERS (default 1000000), BENCH_EXCEPTIONS (100000), BENCH_RUNS (20)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _support import bulk_insert, own_database, p95  # noqa: E402  (bench/ is on sys.path when a bench runs)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

ORDERS = int(os.environ.get("BENCH_ORDERS", "1000000"))
EXCEPTIONS = int(os.environ.get("BENCH_EXCEPTIONS", "100000"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
BRANDS = 10


def load() -> dict:
    from django.contrib.auth.models import Group, User
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection

    from orders.models import Order
    from warehouse.models import Brand, ExceptionItem, ExceptionKind, Facility

    call_command("migrate", verbosity=0)
    call_command("sync_roles", verbosity=0)
    brands = [Brand.objects.create(name=f"Brand {i}", slug=f"brand-{i}") for i in range(BRANDS)]
    facility = Facility.objects.create(code="VLC1", name="Valencia 1", country="ES")
    manager = User.objects.create_user("bench-manager", password="bench-only", is_staff=True)
    manager.groups.add(Group.objects.get(name="warehouse_manager"))
    first_brand = brands[0].pk
    t0 = time.perf_counter()
    bulk_insert(
        Order,
        f"generate_series(1, {ORDERS}) AS g",
        {
            "brand_id": f"{first_brand} + (g % {BRANDS})",
            "source": "'manual'",
            "platform_order_id": "'P' || g",
            "state": "CASE WHEN g % 100 = 0 THEN 'on_hold' ELSE 'delivered' END",
            "facility_id": str(facility.pk),
            "created_at": "now() - make_interval(secs => g)",
            "updated_at": "now() - make_interval(secs => g)",
            "last_activity_at": "now() - make_interval(secs => g)",
            "delivery_country": "'ES'",
        },
    )
    order_ct = ContentType.objects.get_for_model(Order).pk
    kinds = [k.value for k in ExceptionKind]
    kind_sql = "(ARRAY[" + ", ".join(f"'{k}'" for k in kinds) + f"])[1 + (g % {len(kinds)})]"
    min_order = Order.objects.order_by("pk").values_list("pk", flat=True).first()
    bulk_insert(
        ExceptionItem,
        f"generate_series(1, {EXCEPTIONS}) AS g",
        {
            "kind": kind_sql,
            "brand_id": f"{first_brand} + (g % {BRANDS})",
            "facility_id": str(facility.pk),
            "content_type_id": str(order_ct),
            "object_id": f"{min_order} + (g * 10) % {ORDERS}",
            "summary": "'Order P' || g || ' needs a decision'",
            "detail": """'{"reasons": [{"code": "missing_zip", "message": "Delivery ZIP is missing"}]}'::jsonb""",
            "dedupe_key": "'bench:' || g",
            "opened_at": "now() - make_interval(mins => g)",
            "state": "'open'",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"loaded {ORDERS} orders and {EXCEPTIONS} open exceptions in {time.perf_counter() - t0:.1f} s")
    return {"manager": manager, "brand": brands[3], "pid": f"P{ORDERS // 2 + 7}"}


def main() -> None:
    own_database("queue")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()  # lets the test client run without ALLOWED_HOSTS surprises
    world = load()
    client = Client()
    client.force_login(world["manager"])
    brand_id = world["brand"].pk
    from orders.selectors import order_list_visible_to

    # the page's own main query (exact order id through the unique indexes), compiled to SQL with its literals
    pid_query = order_list_visible_to(user=world["manager"], filters={"platform_order_id": world["pid"]})[:50]
    sql, params = pid_query.query.sql_with_params()
    with connection.cursor() as cursor:
        pid_sql = cursor.mogrify(sql, params)
    pid_sql = pid_sql.decode() if isinstance(pid_sql, bytes) else pid_sql
    pages = {
        "exception queue": (
            "/exceptions/",
            "SELECT * FROM warehouse_exceptionitem WHERE state IN ('open', 'escalated') ORDER BY opened_at, id LIMIT 50",
        ),
        "orders, unfiltered": ("/orders/", "SELECT * FROM orders_order ORDER BY created_at DESC, id DESC LIMIT 50"),
        "orders, by brand": (
            f"/orders/?brand={brand_id}",
            f"SELECT * FROM orders_order WHERE brand_id = {brand_id} ORDER BY created_at DESC, id DESC LIMIT 50",
        ),
        "orders, by platform order id": (f"/orders/?platform_order_id={world['pid']}", pid_sql),
        "orders, page 50": (
            "/orders/?page=50",
            "SELECT * FROM orders_order ORDER BY created_at DESC, id DESC LIMIT 50 OFFSET 2450",
        ),
    }
    results = []
    for label, (url, raw) in pages.items():
        client.get(url)  # warm caches once
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
                cursor.execute(raw)
                cursor.fetchall()
                raw_ms.append((time.perf_counter() - start) * 1000)
        row = {
            "page": label,
            "queries": queries,
            "p50_ms": round(statistics.median(page_ms), 1),
            "p95_ms": round(p95(page_ms), 1),
            "raw_p95_ms": round(p95(raw_ms), 2),
        }
        row["ratio"] = round(row["p95_ms"] / max(row["raw_p95_ms"], 0.01), 1)
        results.append(row)
        print(
            f"{label:32} queries {queries:3}  page p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  "
            f"raw SQL p95 {row['raw_p95_ms']:6.2f} ms  ratio {row['ratio']}"
        )
    worst = max(results, key=lambda r: r["p95_ms"])
    print(
        json.dumps(
            {
                "max_queries": max(r["queries"] for r in results),
                "p95_ms": worst["p95_ms"],
                "ratio": worst["ratio"],
                "orders": ORDERS,
                "open_exceptions": EXCEPTIONS,
                "pages": results,
            }
        )
    )


if __name__ == "__main__":
    main()
