"""The pick page (/picking/<pk>/) of a 1,000-line order, the pick queue (/picking/) and the pack page, in a database
holding 1,000,000 orders, against the raw SQL of the pick page's main query (one page of pick lines with their SKUs).

Own database (`<name>_bench_picking`, re-created), bulk-loaded with INSERT … SELECT over generate_series: 1M delivered
or held orders, and one picking order of 1,000 lines with its allocation rows and pick list. Each page is rendered
through Django signed in as operations and as a manager, N times, interleaved with the raw SQL. Printed per page: SQL
query count, p50/p95, raw SQL p95, ratio. The last line is a JSON object; the exit status is 1 when a page runs more
than 12 queries (the issue's pin).

Environment: BENCH_ORDERS (default 1000000), BENCH_RUNS (20)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from _support import bulk_insert, own_database, page_against_sql  # noqa: E402  (bench/ is on sys.path when a bench runs)

ORDERS = int(os.environ.get("BENCH_ORDERS", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
LINES = 1000
QUERY_PIN = 12


def load() -> dict:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection

    from inventory.models import Sku
    from orders.models import AllocationRow, Order, OrderLine, PickLine
    from warehouse.models import Brand, Facility

    call_command("migrate", verbosity=0)
    call_command("sync_roles", verbosity=0)
    brand = Brand.objects.create(name="Acme Apparel", slug="acme")
    facility = Facility.objects.create(code="VLC1", name="Valencia 1", country="ES")
    users = {}
    for role in ("operations", "warehouse_manager"):
        users[role] = User.objects.create_user(f"bench-{role}", password="bench-only", is_staff=True)
        users[role].groups.add(Group.objects.get(name=role))
    t0 = time.perf_counter()
    bulk_insert(Sku, f"generate_series(1, {LINES}) AS g", {
        "brand_id": str(brand.pk), "code": "'SKU-' || g", "title": "'Item ' || g", "state": "'ready_for_receiving'",
        "weight_grams": "100", "length_mm": "100", "width_mm": "100", "height_mm": "100", "hs_code": "'610910'",
        "created_at": "now()",
    })  # fmt: skip
    bulk_insert(Order, f"generate_series(1, {ORDERS}) AS g", {
        "brand_id": str(brand.pk), "source": "'manual'", "platform_order_id": "'P' || g",
        "state": "CASE WHEN g % 100 = 0 THEN 'on_hold' ELSE 'delivered' END", "facility_id": str(facility.pk),
        "created_at": "now()", "updated_at": "now()", "last_activity_at": "now()", "delivery_country": "'ES'",
    })  # fmt: skip
    bulk_insert(Order, "generate_series(1, 1) AS g", {
        "brand_id": str(brand.pk), "source": "'manual'", "platform_order_id": "'PICK-1'", "state": "'picking'",
        "facility_id": str(facility.pk), "created_at": "now()", "updated_at": "now()", "last_activity_at": "now()",
        "delivery_country": "'ES'", "ship_by": "now()",
    })  # fmt: skip
    order = Order.objects.get(platform_order_id="PICK-1")
    first_sku = Sku.objects.order_by("pk").values_list("pk", flat=True).first()
    bulk_insert(OrderLine, f"generate_series(1, {LINES}) AS g", {
        "order_id": str(order.pk), "line_number": "g", "sku_code": "'SKU-' || g", "sku_id": f"{first_sku} + g - 1",
        "quantity_received": "'2'", "quantity": "2",
    })  # fmt: skip
    first_line = OrderLine.objects.filter(order=order).order_by("pk").values_list("pk", flat=True).first()
    bulk_insert(AllocationRow, f"generate_series(0, {LINES - 1}) AS g", {
        "order_id": str(order.pk), "line_id": f"{first_line} + g", "facility_id": str(facility.pk),
        "sku_id": f"{first_sku} + g", "quantity": "2", "source": "'stock'", "event_id": f"'order:{order.pk}:allocate:0'",
    })  # fmt: skip
    first_row = AllocationRow.objects.filter(order=order).order_by("pk").values_list("pk", flat=True).first()
    bulk_insert(PickLine, f"generate_series(0, {LINES - 1}) AS g", {
        "order_id": str(order.pk), "row_id": f"{first_row} + g", "line_id": f"{first_line} + g",
        "facility_id": str(facility.pk), "sku_id": f"{first_sku} + g", "expected": "2", "picked": "g % 3",
        "short": "0", "short_reports": "0",
    })  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"loaded {ORDERS} orders and a {LINES}-line picking order in {time.perf_counter() - t0:.1f} s")
    return {"users": users, "order": order.pk}


def main() -> int:
    own_database("picking")
    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    world = load()
    order = world["order"]
    raw = (
        "SELECT p.*, s.*, l.* FROM orders_pickline p JOIN inventory_sku s ON s.id = p.sku_id "
        f"JOIN orders_orderline l ON l.id = p.line_id WHERE p.order_id = {order} ORDER BY p.id LIMIT 100 OFFSET %s"
    )
    pages = [("pick page 1", f"/picking/{order}/?page=1", 0, b"data-pick-line="),
             ("pick page 10", f"/picking/{order}/?page=10", 900, b"data-pick-line="),
             ("pick queue", "/picking/?facility=VLC1", 0, b"data-order="),
             ("pack page", f"/picking/{order}/pack/", 0, b"<h1>")]  # fmt: skip
    results = []
    for role, user in world["users"].items():
        client = Client()
        client.force_login(user)
        for name, url, offset, marker in pages:
            row = {"page": f"{role}, {name}"}
            row |= page_against_sql(client, url, sql=raw, params=[offset], runs=RUNS,
                                    check=lambda response, marker=marker: _has(response, marker))  # fmt: skip
            results.append(row)
            print(f"{row['page']:36} queries {row['queries']:3}  page p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} "
                  f"ms  raw SQL p95 {row['raw_p95_ms']:6.2f} ms  ratio {row['ratio']}")  # fmt: skip
    worst = max(results, key=lambda r: r["p95_ms"])
    max_queries = max(r["queries"] for r in results)
    print(json.dumps({"max_queries": max_queries, "query_pin": QUERY_PIN, "p95_ms": worst["p95_ms"],
                      "ratio": worst["ratio"], "order_lines": LINES, "orders": ORDERS, "pages": results}))  # fmt: skip
    return 0 if max_queries <= QUERY_PIN else 1


def _has(response, marker: bytes) -> None:
    assert marker in response.content, marker


if __name__ == "__main__":
    sys.exit(main())
