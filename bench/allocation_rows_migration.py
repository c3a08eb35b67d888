"""The data migration `orders.0010` (JSON `Order.allocated_lines` → allocation rows, in batches) on a large synthetic set.

    python bench/allocation_rows_migration.py        (DATABASE_URL; ORDERS, default 1,000,000)

Creates its own database `bench_allocation_rows` (dropped at the end) and migrates it. One template order is made
through the real services (two lines, two SKUs, accepted); the database is migrated back to `orders.0009` (the JSON
column returns), the template's JSON is set the way the old code wrote it (`[[sku_id, quantity], ...]`), and ORDERS−1
copies of the order and its lines are inserted in SQL. Then `migrate orders 0010` is timed, every order is checked to
hold rows that add up to its JSON, and `migrate orders 0011` (dropping the column) is timed.
Then the migrations that make shipments and route legs refer to the rows are timed on the same orders: each order gets
a route whose leg repeats its lines (the old shape) and a shipment, `migrate allocation 0010` (strip the lines from
the legs) and `migrate orders 0014` (check the shipments' lines against the rows, drop the column) are timed, and
every route is checked to have lost its lines (`legs_match`).
Last line: JSON with orders, rows, seconds, orders_per_s, and whether every order's rows match (`rows_match`)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from _support import admin_sql, with_db

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DB", "bench_allocation_rows")
ORDERS = int(os.environ.get("ORDERS", "1000000"))


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _template() -> tuple[int, list[list[int]]]:
    """One accepted order through the services; returns its pk and its allocation as the old JSON."""
    from inventory.models import Sku, SkuState
    from inventory.services import stock_receive
    from orders.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
    from orders.models import OrderState
    from orders.services import order_ingest
    from warehouse.models import Brand, Facility

    brand = Brand.objects.create(name="Bench", slug="bench")
    facility = Facility.objects.create(code="BEN1", name="Bench 1")
    skus = []
    for code in ("TEE", "CAP"):
        sku = Sku.objects.create(brand=brand, code=code, title=code, weight_grams=100, length_mm=10, width_mm=10,
                                 height_mm=10, hs_code="610910", state=SkuState.READY_FOR_RECEIVING)  # fmt: skip
        stock_receive(sku=sku, facility=facility, quantity=100, event_id=f"rcv:{code}", actor=None)
        skus.append(sku)
    address = CanonicalAddress(street1="Carrer Major 1", postal_code="46001", city="Valencia", country="ES")
    canonical = CanonicalOrder(
        platform_order_id="B0", updated_at=None, address=address, phone="+34 600 000 000",
        lines=(CanonicalLine("TEE", 2), CanonicalLine("CAP", 1)),
    )  # fmt: skip
    order = order_ingest(canonical=canonical, brand=brand, source="file").order
    assert order.state == OrderState.ACCEPTED, order.hold_reasons
    return order.pk, [[skus[0].pk, 2], [skus[1].pk, 1]]


def _clone(template: int, allocated: list[list[int]], copies: int) -> None:
    """Copies of the template order (a fresh order id each) and of its lines, in SQL."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE orders_order SET allocated_lines = %s WHERE id = %s", [json.dumps(allocated), template])
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders_order' AND column_name "
            "NOT IN ('id', 'platform_order_id') ORDER BY ordinal_position"
        )
        columns = ", ".join(f'"{name}"' for (name,) in cursor.fetchall())
        cursor.execute(
            f"INSERT INTO orders_order ({columns}, platform_order_id) SELECT {columns}, 'B' || g "
            f"FROM orders_order, generate_series(1, %s) g WHERE id = %s",
            [copies, template],
        )
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders_orderline' AND column_name "
            "NOT IN ('id', 'order_id') ORDER BY ordinal_position"
        )
        line_columns = ", ".join(f'l."{name}"' for (name,) in cursor.fetchall())
        plain = line_columns.replace("l.", "")
        cursor.execute(
            f"INSERT INTO orders_orderline (order_id, {plain}) SELECT o.id, {line_columns} "
            f"FROM orders_order o JOIN orders_orderline l ON l.order_id = %s WHERE o.id <> %s",
            [template, template],
        )
        cursor.execute("ANALYZE orders_order; ANALYZE orders_orderline")


def _legs_and_shipments(template: int, allocated: list[list[int]]) -> dict[str, object]:
    """Every order gets a route whose leg repeats its lines (as before allocation.0010) and a shipment (as before
    orders.0014); both migrations are timed."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", "allocation", "0009", verbosity=0)
    call_command("migrate", "orders", "0013", verbosity=0)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT facility_id, brand_id FROM orders_order WHERE id = %s", [template])
        facility_id, brand_id = cursor.fetchone()
        cursor.execute("SELECT code FROM warehouse_facility WHERE id = %s", [facility_id])
        (code,) = cursor.fetchone()
        legs = json.dumps([{"facility": code, "facility_id": facility_id, "lines": allocated}])
        cursor.execute("DELETE FROM allocation_orderroute")
        cursor.execute(
            "INSERT INTO allocation_orderroute (order_id, brand_id, legs, split_fee, cutoff_met, short, decided_at) "
            "SELECT id, %s, %s::jsonb, 0, true, '[]'::jsonb, now() FROM orders_order",
            [brand_id, legs],
        )
        cursor.execute(
            "INSERT INTO orders_shipment (order_id, facility_id, lines, carrier, service, tracking_number, "
            "carrier_receipt, state, closed_manually_reason, created_at) "
            "SELECT id, facility_id, '[]'::jsonb, 'UPS', '', '', '', 'staged', '', now() FROM orders_order"
        )
        cursor.execute("ANALYZE allocation_orderroute; ANALYZE orders_shipment")
    seeded = time.perf_counter() - started
    print(f"seeded {ORDERS:,} routes with lines in their legs and {ORDERS:,} shipments in {seeded:.1f}s", flush=True)
    started = time.perf_counter()
    call_command("migrate", "allocation", "0010", verbosity=0)
    legs_seconds = time.perf_counter() - started
    started = time.perf_counter()
    call_command("migrate", "orders", "0014", verbosity=0)
    shipments_seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM allocation_orderroute WHERE legs <> %s::jsonb",
            [json.dumps([{"facility": code, "facility_id": facility_id}])],
        )
        (left,) = cursor.fetchone()
    print(f"allocation.0010: {ORDERS:,} routes' legs without lines in {legs_seconds:.1f}s ({left} not as expected); "
          f"orders.0014 (check {ORDERS:,} shipments, drop the column) {shipments_seconds:.1f}s")  # fmt: skip
    return {
        "route_legs_s": round(legs_seconds, 1), "shipment_lines_s": round(shipments_seconds, 1), "legs_match": left == 0,
    }  # fmt: skip


def main() -> None:
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/warehouse")
    url, maintenance = with_db(base_url, BENCH_DB), with_db(base_url, "postgres")
    admin_sql(maintenance, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    admin_sql(maintenance, f'CREATE DATABASE "{BENCH_DB}"')
    try:
        _setup_django(url)
        from django.core.management import call_command
        from django.db import connection

        template, allocated = _template()
        call_command("migrate", "orders", "0009", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM orders_allocationrow")
        started = time.perf_counter()
        _clone(template, allocated, ORDERS - 1)
        seeded = time.perf_counter() - started
        print(f"seeded {ORDERS:,} orders with {2 * ORDERS:,} lines in {seeded:.1f}s", flush=True)

        started = time.perf_counter()
        call_command("migrate", "orders", "0010", verbosity=0)
        seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders_allocationrow")
            (rows,) = cursor.fetchone()
            # Every order with a JSON allocation holds rows adding up to it, SKU by SKU.
            cursor.execute(
                """
                WITH wanted AS (
                    SELECT o.id, (e->>0)::int AS sku_id, (e->>1)::int AS quantity
                    FROM orders_order o, jsonb_array_elements(o.allocated_lines) e
                ), held AS (
                    SELECT order_id AS id, sku_id, sum(quantity)::int AS quantity
                    FROM orders_allocationrow GROUP BY order_id, sku_id
                )
                SELECT count(*) FROM wanted FULL JOIN held USING (id, sku_id)
                WHERE wanted.quantity IS DISTINCT FROM held.quantity
                """
            )
            (mismatched,) = cursor.fetchone()
        started = time.perf_counter()
        call_command("migrate", "orders", "0011", verbosity=0)
        drop_seconds = time.perf_counter() - started
        print(f"orders.0010: {ORDERS:,} orders → {rows:,} rows in {seconds:.1f}s ({ORDERS / seconds:,.0f} orders/s); "
              f"{mismatched} mismatched; orders.0011 (drop the column) {drop_seconds:.1f}s")  # fmt: skip
        legs = _legs_and_shipments(template, allocated)
        print(json.dumps({
            "orders": ORDERS, "rows": rows, "seconds": round(seconds, 1),
            "orders_per_s": round(ORDERS / seconds), "drop_column_s": round(drop_seconds, 1),
            "seed_s": round(seeded, 1), "rows_match": mismatched == 0, **legs,
        }))  # fmt: skip
        connection.close()
        if mismatched or not legs["legs_match"]:
            sys.exit(1)
    finally:
        admin_sql(maintenance, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
