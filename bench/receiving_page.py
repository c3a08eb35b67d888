"""The receiving page (/inbound/<pk>/) of a 1,000-line inbound, in a database holding 1,000,000 inbound lines and
1,000,000 orders, against the raw SQL of its main query (one page of lines with their SKUs).

Own database (`<name>_bench_receiving`, re-created), bulk-loaded with INSERT … SELECT over generate_series. The page
is rendered through Django, signed in as a manager and as a brand user, on its first and its last page of lines, N
times each, interleaved with the raw SQL. Printed per page: SQL query count, p50/p95, raw SQL p95, ratio. The last
line is a JSON object; the exit status is 1 when a page runs more than 12 queries (the issue's pin).

Environment: BENCH_INBOUND_LINES (default 1000000), BENCH_ORDERS (1000000), BENCH_RUNS (20)."""

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

LINES = int(os.environ.get("BENCH_INBOUND_LINES", "1000000"))
ORDERS = int(os.environ.get("BENCH_ORDERS", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
PER_INBOUND = 1000
QUERY_PIN = 12


def load() -> dict:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection

    from inventory.models import ExpectedInbound, ExpectedInboundLine, Sku
    from orders.models import Order
    from warehouse.models import Brand, Facility
    from warehouse.roles import brand_member_add

    call_command("migrate", verbosity=0)
    call_command("sync_roles", verbosity=0)
    brand = Brand.objects.create(name="Acme Apparel", slug="acme")
    facility = Facility.objects.create(code="VLC1", name="Valencia 1", country="ES")
    manager = User.objects.create_user("bench-manager", password="bench-only", is_staff=True)
    manager.groups.add(Group.objects.get(name="warehouse_manager"))
    brand_user = User.objects.create_user("bench-brand", password="bench-only")
    brand_member_add(user=brand_user, brand=brand)
    t0 = time.perf_counter()
    bulk_insert(Sku, f"generate_series(1, {PER_INBOUND}) AS g", {
        "brand_id": str(brand.pk), "code": "'SKU-' || g", "title": "'Item ' || g", "state": "'ready_for_receiving'",
        "weight_grams": "100", "length_mm": "100", "width_mm": "100", "height_mm": "100", "hs_code": "'610910'",
        "created_at": "now()",
    })  # fmt: skip
    inbound_count = max(1, LINES // PER_INBOUND)
    bulk_insert(ExpectedInbound, f"generate_series(1, {inbound_count}) AS g", {
        "brand_id": str(brand.pk), "facility_id": str(facility.pk), "kind": "'asn'", "reference": "'ASN-' || g",
        "expected_on": "current_date + (g % 60)", "source": "'erp'", "state": "'expected'", "created_at": "now()",
    })  # fmt: skip
    first_inbound = ExpectedInbound.objects.order_by("pk").values_list("pk", flat=True).first()
    first_sku = Sku.objects.order_by("pk").values_list("pk", flat=True).first()
    bulk_insert(ExpectedInboundLine, f"generate_series(0, {inbound_count * PER_INBOUND - 1}) AS g", {
        "inbound_id": f"{first_inbound} + g / {PER_INBOUND}", "number": f"1 + g % {PER_INBOUND}",
        "sku_id": f"{first_sku} + g % {PER_INBOUND}", "quantity_expected": "5", "quantity_received": "g % 7",
    })  # fmt: skip
    bulk_insert(Order, f"generate_series(1, {ORDERS}) AS g", {
        "brand_id": str(brand.pk), "source": "'manual'", "platform_order_id": "'P' || g",
        "state": "CASE WHEN g % 100 = 0 THEN 'on_hold' ELSE 'delivered' END", "facility_id": str(facility.pk),
        "created_at": "now()", "updated_at": "now()", "last_activity_at": "now()", "delivery_country": "'ES'",
    })  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"loaded {inbound_count * PER_INBOUND} inbound lines and {ORDERS} orders in {time.perf_counter() - t0:.1f} s")
    middle = first_inbound + inbound_count // 2
    return {"manager": manager, "brand_user": brand_user, "inbound": middle}


def main() -> int:
    own_database("receiving")
    import django

    django.setup()
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    world = load()
    inbound = world["inbound"]
    raw = (
        "SELECT l.*, s.* FROM inventory_expectedinboundline l JOIN inventory_sku s ON s.id = l.sku_id "
        f"WHERE l.inbound_id = {inbound} ORDER BY l.number LIMIT 100 OFFSET %s"
    )
    results = []
    for who in ("manager", "brand_user"):
        client = Client()
        client.force_login(world[who])
        for page, offset in (("1", 0), ("10", 900)):
            url = f"/inbound/{inbound}/?page={page}"
            row = {"page": f"{who}, lines page {page}"}
            row |= page_against_sql(client, url, sql=raw, params=[offset], runs=RUNS, check=_hundred_lines)
            results.append(row)
            print(f"{row['page']:28} queries {row['queries']:3}  page p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} "
                  f"ms  raw SQL p95 {row['raw_p95_ms']:6.2f} ms  ratio {row['ratio']}")  # fmt: skip
    worst = max(results, key=lambda r: r["p95_ms"])
    max_queries = max(r["queries"] for r in results)
    print(json.dumps({"max_queries": max_queries, "query_pin": QUERY_PIN, "p95_ms": worst["p95_ms"],
                      "ratio": worst["ratio"], "inbound_lines": LINES, "orders": ORDERS, "pages": results}))  # fmt: skip
    return 0 if max_queries <= QUERY_PIN else 1


def _hundred_lines(response) -> None:
    assert response.content.count(b'<tr id="line-') == 100


if __name__ == "__main__":
    sys.exit(main())
