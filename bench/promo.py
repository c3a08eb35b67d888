"""Promotion simulation: 2,000 orders for 500 units of 20 SKUs arrive on two simulated channels at once.

    python bench/promo.py        (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/warehouse)

Creates its own database `bench_promo`, migrates it, and drops it at the end. A Shopify and a WooCommerce simulator
run on loopback; each SKU is listed on both. ORDER_THREADS clients (half per channel) ingest the orders through
`orders.services.order_ingest` (validate, allocate all or nothing, or hold short) while a publisher thread runs
publishing cycles (`publishing_run_cycle` + `outbox_drain`) every CYCLE_S seconds. After the last order exactly one
more publishing cycle runs; then every channel's advertised number is compared with WMS truth.

Printed: units sold vs units available (oversold must be 0), whether every channel matches the WMS within that one
cycle, the time from the last order to the last channel update, and how many stock events became how many channel
writes (the coalescing). The last line is one JSON object with at least `oversold`, `channels_match` and
`last_update_s`."""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from pathlib import Path

from _support import admin_sql, with_db

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DB", "bench_promo")
ORDERS = int(os.environ.get("PROMO_ORDERS", "2000"))
SKUS = int(os.environ.get("PROMO_SKUS", "20"))
UNITS = int(os.environ.get("PROMO_UNITS", "500"))
ORDER_THREADS = int(os.environ.get("PROMO_THREADS", "4"))
CYCLE_S = float(os.environ.get("PROMO_CYCLE_S", "0.5"))
TOKEN, CK, CS = "shpat_bench_promo", "ck_bench_promo", "cs_bench_promo"  # the simulators' fake credentials
LOCATION = 905684977


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.OUTBOX_HTTP = {"connect_timeout": 1.0, "read_timeout": 5.0, "retry_attempts": 2}
    call_command("migrate", verbosity=0)


def _seed(shopify_url: str, woo_url: str) -> tuple:
    from integrations.models import ExternalId, ExternalIdKind
    from integrations.services import connection_create, connection_set_credentials
    from inventory.models import Sku, SkuState
    from inventory.services import stock_receive
    from warehouse.models import Brand, Facility

    brand = Brand.objects.create(name="Promo Brand", slug="promo")
    facility = Facility.objects.create(code="PROMO", name="Promo DC", country="ES", postal_code="46001")
    shop = connection_create(brand=brand, platform="shopify", name="Shopify", shop="promo.myshopify.com",
                             api_base_url=shopify_url, actor=None)  # fmt: skip
    woo = connection_create(brand=brand, platform="woocommerce", name="WooCommerce", shop="https://woo.promo",
                            api_base_url=woo_url, actor=None)  # fmt: skip
    connection_set_credentials(connection=shop, credentials={"access_token": TOKEN}, actor=None)
    connection_set_credentials(connection=woo, credentials={"consumer_key": CK, "consumer_secret": CS}, actor=None)
    ExternalId.objects.create(connection=shop, kind=ExternalIdKind.LOCATION, local_id=facility.pk,
                              external_id=str(LOCATION))  # fmt: skip
    per_sku = [UNITS // SKUS + (1 if i < UNITS % SKUS else 0) for i in range(SKUS)]
    skus = []
    for i in range(SKUS):
        sku = Sku.objects.create(brand=brand, code=f"PROMO-{i:02d}", title="Promo tee", weight_grams=200,
                                 length_mm=300, width_mm=200, height_mm=20, hs_code="610910",
                                 state=SkuState.READY_FOR_RECEIVING)  # fmt: skip
        ExternalId.objects.create(connection=shop, kind=ExternalIdKind.LISTING, local_id=sku.pk,
                                  external_id=str(7000 + i))  # fmt: skip
        ExternalId.objects.create(
            connection=woo, kind=ExternalIdKind.LISTING, local_id=sku.pk, external_id=str(300 + i)
        )
        stock_receive(sku=sku, facility=facility, quantity=per_sku[i], event_id=f"open-{sku.code}", actor=None)
        skus.append(sku)
    return brand, facility, shop, woo, skus


def _cycle(connection_ids: list[int]) -> int:
    """One publishing cycle: queue what changed, then send it, each channel's queue drained in its own thread (as
    the outbox's per-connection kicks do with several workers). Returns writes sent."""
    from django.db import connection

    from integrations.outbox.services import outbox_drain
    from integrations.publishing.services import publishing_run_cycle

    publishing_run_cycle()
    sent = [0] * len(connection_ids)

    def drain(i: int) -> None:
        try:
            while True:
                report = outbox_drain(connection_id=connection_ids[i], limit=200)
                sent[i] += report.sent
                if report.claimed < 200:
                    return
        finally:
            connection.close()

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(len(connection_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(sent)


def _ingest_all(*, brand, channels, skus) -> tuple[float, list[Exception]]:
    """ORDER_THREADS clients, half per channel, released together; returns (time of the last order, errors)."""
    from django.db import connection

    from orders.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
    from orders.services import order_ingest

    barrier = threading.Barrier(ORDER_THREADS)
    errors: list[Exception] = []
    last = [0.0]
    address = CanonicalAddress(name="Promo Buyer", street1="Carrer Major 1", postal_code="46002", city="Valencia",
                                country="ES")  # fmt: skip

    def client(i: int) -> None:
        rng = random.Random(i)
        conn = channels[i % 2]
        try:
            barrier.wait()
            for n in range(i, ORDERS, ORDER_THREADS):
                sku = rng.choice(skus)
                canonical = CanonicalOrder(
                    platform_order_id=f"{conn.platform}-{n}", updated_at=None, status="paid", phone="+34 600 000 000",
                    address=address, lines=(CanonicalLine(sku_code=sku.code, quantity=rng.choice((1, 1, 1, 2))),),
                )  # fmt: skip
                order_ingest(canonical=canonical, brand=brand, channel=conn.channel)
                last[0] = max(last[0], time.perf_counter())
        except Exception as exc:  # reported, and fails the run
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(ORDER_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return last[0], errors


def main() -> None:
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/warehouse")
    if not base_url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/promo.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    url, maintenance = with_db(base_url, BENCH_DB), with_db(base_url, "postgres")
    admin_sql(maintenance, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    admin_sql(maintenance, f'CREATE DATABASE "{BENCH_DB}"')
    try:
        _setup_django(url)
        from django.db import connection
        from django.db.models import Sum

        from integrations.platforms.shopify.simulator import ShopifySimulator
        from integrations.platforms.woocommerce.simulator import WooCommerceSimulator
        from integrations.publishing.pool import offered, sellable, settings_for
        from inventory.models import Movement, StockLevel
        from orders.models import Order, OrderState

        with ShopifySimulator.running(access_token=TOKEN, bucket_size=100_000) as shopify_sim, \
                WooCommerceSimulator.running(consumer_key=CK, consumer_secret=CS) as woo_sim:  # fmt: skip
            brand, facility, shop, woo, skus = _seed(shopify_sim.url, woo_sim.url)
            ids = [shop.pk, woo.pk]
            _cycle(ids)  # channels start at the opening stock
            events_before = Movement.objects.count()
            connection.close()

            stop = threading.Event()
            writes = [0]

            def publisher() -> None:
                try:
                    while not stop.is_set():
                        writes[0] += _cycle(ids)
                        stop.wait(CYCLE_S)
                finally:
                    connection.close()

            print(f"promo: {ORDERS} orders for {UNITS} units of {SKUS} SKUs on Shopify + WooCommerce simulators, "
                  f"{ORDER_THREADS} clients, publishing every {CYCLE_S:g}s")  # fmt: skip
            started = time.perf_counter()
            pub = threading.Thread(target=publisher)
            pub.start()
            last_order, errors = _ingest_all(brand=brand, channels=[shop, woo], skus=skus)
            stop.set()
            pub.join()
            writes[0] += _cycle(ids)  # the one publishing cycle after the last order
            last_update = time.perf_counter()

            levels = StockLevel.objects.filter(facility=facility)
            totals = levels.aggregate(on_hand=Sum("on_hand"), allocated=Sum("allocated"))
            accepted = Order.objects.filter(brand=brand, state=OrderState.ACCEPTED)
            sold = sum(q for order in accepted for _, q in order.allocated_stock())
            held = Order.objects.filter(brand=brand, state=OrderState.ON_HOLD).count()
            oversold = max(0, sold - UNITS) + sum(max(0, lvl.allocated - lvl.on_hand) for lvl in levels)
            truth = sellable(skus)
            shopify_levels = {
                lvl["inventory_item_id"]: lvl["available"] for lvl in shopify_sim.ledger()["inventory_levels"]
            }
            woo_levels = {item["product_id"]: item["stock_quantity"] for item in woo_sim.ledger()["stock"]}
            mismatches = []
            for i, sku in enumerate(skus):
                for name, conn, shown in (("shopify", shop, shopify_levels.get(7000 + i)),
                                          ("woocommerce", woo, woo_levels.get(300 + i))):  # fmt: skip
                    want = offered(settings=settings_for(conn), pool=truth[sku.pk])
                    if shown != want:
                        mismatches.append(f"{name} {sku.code}: shows {shown}, WMS {want}")
            stock_events = Movement.objects.count() - events_before
            elapsed = last_order - started

        result = {
            "orders": ORDERS,
            "accepted": accepted.count(),
            "held_short": held,
            "units_available": UNITS,
            "units_sold": sold,
            "allocated": int(totals["allocated"] or 0),
            "oversold": oversold,
            "channels_match": not mismatches and not errors,
            "last_update_s": round(last_update - last_order, 3),
            "ingest_s": round(elapsed, 3),
            "orders_per_s": round(ORDERS / elapsed, 1) if elapsed > 0 else None,
            "stock_events": stock_events,
            "channel_writes": writes[0],
            "errors": len(errors),
        }
        print(f"units sold {sold} = units available {UNITS}: {'yes' if sold == UNITS else 'NO'}; oversold {oversold}")
        print(f"accepted {result['accepted']}, held short {held}; {ORDERS} orders in {elapsed:.1f}s")
        print(f"channels match WMS after one publishing cycle: {'yes' if result['channels_match'] else 'NO'}")
        for line in mismatches[:10]:
            print(f"  mismatch: {line}")
        for exc in errors[:5]:
            print(f"  error: {type(exc).__name__}: {exc}")
        print(f"last order → last channel update: {result['last_update_s']:.3f}s")
        print(f"{stock_events} stock events became {writes[0]} channel writes (2 channels)")
        print(json.dumps(result))
    finally:
        from django.db import connections

        connections.close_all()
        admin_sql(maintenance, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
