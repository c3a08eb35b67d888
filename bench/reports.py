"""Finance reports at 1M orders: the volume report's page and its CSV export, against the raw SQL in the same run;
then a 1M-row per-order export as a background job, with its progress as the page would show it.

Own database (`<name>_bench_reports`, re-created): 1,000,000 orders over the last 365 days in 20 channels of 10
brands, 90 % of them handed to a carrier, bulk-loaded with INSERT … SELECT over generate_series.
- the volume rollup's first run over the year (finished days counted once into `VolumeDay`);
- volume page (default range: the last 30 days), signed in as finance, N runs: query count and p95, beside the p95
  of the raw SQL of its queries (the rollup's rows, today's four grouped queries);
- its CSV export (the same code the download streams) against `COPY (<the same queries>) TO STDOUT`, the queries
  captured from the export itself, N runs interleaved: export_ratio (medians);
- RSS growth of this process while streaming the per-order SLA export of the whole year (~1M rows), sampled every
  20 ms: the export must not hold its rows in memory;
- that export as a job (`reports.tasks.export_run`), its progress read from the job row as the page reads it.
The last line is a JSON object with `p95_ms`, `max_queries`, `export_ratio` and `rss_growth_mb` (beside their
targets); the exit status is non-zero only for a correctness failure (a page that does not answer 200, the job's
row count wrong, its progress never moved), never for a missed target: timings vary with the machine's load.

Environment: BENCH_ORDERS (default 1000000), BENCH_RUNS (20), BENCH_REUSE=1 to measure again on the database the last
run loaded (no re-load: loading takes minutes; the rollup then only brings the last days up to date)."""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from _support import bulk_insert, own_database, pct  # noqa: E402  (bench/ is on sys.path when a bench runs)

ORDERS = int(os.environ.get("BENCH_ORDERS", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
REUSE = os.environ.get("BENCH_REUSE") == "1"  # measure again on the database the last run loaded
BRANDS, CHANNELS = 10, 20
YEAR_S = 365 * 86400


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def load() -> dict:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection

    from orders.models import Order, Shipment
    from warehouse.models import Brand, Facility, SalesChannel

    call_command("migrate", verbosity=0)
    call_command("sync_roles", verbosity=0)
    brands = [Brand.objects.create(name=f"Brand {i}", slug=f"brand-{i}") for i in range(BRANDS)]
    channels = [
        SalesChannel.objects.create(brand=brands[i % BRANDS], platform_code="shopify", name=f"Shop {i}")
        for i in range(CHANNELS)
    ]
    facility = Facility.objects.create(code="VLC1", name="Valencia 1", country="ES")
    finance = User.objects.create_user("bench-finance", password="bench-only", is_staff=True)
    finance.groups.add(Group.objects.get(name="finance"))
    t0 = time.perf_counter()
    created = f"now() - make_interval(secs => (g::bigint * {YEAR_S}) / {ORDERS})"
    first_channel = channels[0].pk
    bulk_insert(
        Order,
        f"generate_series(1, {ORDERS}) AS g",
        {
            # channel k belongs to brand k % BRANDS (created in that order above)
            "channel_id": f"{first_channel} + (g % {CHANNELS})",
            "brand_id": f"{brands[0].pk} + ((g % {CHANNELS}) % {BRANDS})",
            "platform_order_id": "'P' || g",
            "state": "CASE WHEN g % 10 = 0 THEN 'packed' ELSE 'dispatched' END",
            "facility_id": str(facility.pk),
            "created_at": created,
            "updated_at": created,
            "last_activity_at": created,
            "paid_at": created,
            "ship_by": f"{created} + interval '30 hours'",
            "delivery_country": "'ES'",
        },
    )
    first_order = Order.objects.order_by("pk").values_list("pk", flat=True).first()
    bulk_insert(
        Shipment,
        f"generate_series(1, {ORDERS}) AS g",
        {
            "order_id": f"{first_order} + g - 1",
            "facility_id": str(facility.pk),
            "carrier": "'dhl_parcel_de'",
            "tracking_number": "'T' || g",
            "state": "'handed_to_carrier'",
            # g % 40 hours after arrival: late past 30 h
            "handed_at": f"{created} + make_interval(hours => (g % 40)::int)",
            "created_at": created,
        },
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Shipment._meta.db_table} WHERE order_id % 10 = {first_order % 10}")
        cursor.execute("VACUUM ANALYZE")
    print(f"loaded {ORDERS} orders and their shipments in {time.perf_counter() - t0:.1f} s", flush=True)
    return {"finance": finance}


def reloaded() -> dict | None:
    """The world of the last run's database (BENCH_REUSE=1), or None when it holds no complete load of ORDERS orders
    (then the bench loads it again)."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from orders.models import Order

    call_command("migrate", verbosity=0)
    finance = User.objects.filter(username="bench-finance").first()
    if finance is None or Order.objects.count() != ORDERS:
        return None
    return {"finance": finance}


def _sql(queryset) -> str:
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        text = cursor.mogrify(sql, params)
    return text.decode() if isinstance(text, bytes) else text


def copy_ms(sqls: list[str]) -> float:
    """COPY each query to STDOUT and read every byte: what the database alone needs to export the same rows."""
    from django.db import connection

    start = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in sqls:
            with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
                for _ in copy:
                    pass
    return (time.perf_counter() - start) * 1000


def captured_selects(captured: list[dict]) -> list[str]:
    """The SQL of the reads among captured queries, as they ran (literals in place)."""
    return [q["sql"] for q in captured if q["sql"].lstrip("( ").upper().startswith(("SELECT", "WITH"))]


def volume_sqls(f) -> list[str]:
    """The volume report's queries as it runs them (captured, not rewritten by hand): the rollup's rows for the
    finished days and the UNION ALL of the four grouped counts of today."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.finance.volume import volume_counts

    with CaptureQueriesContext(connection) as captured:
        volume_counts(f)
    return [q["sql"] for q in captured.captured_queries if "GROUP BY" in q["sql"] or "reports_volumeday" in q["sql"]]


def main() -> None:
    server = os.environ.get("DATABASE_URL")
    own_database("reports", reuse=REUSE)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from reports import tasks
    from reports.finance.exports import csv_chunks, csv_write
    from reports.finance.filters import report_filter
    from reports.finance.registry import REPORTS
    from reports.models import ExportJob, ExportState

    setup_test_environment()
    world = reloaded() if REUSE else None
    if world is None:
        if REUSE:  # nothing complete to reuse: start from an empty database after all
            connection.close()
            os.environ.pop("DATABASE_URL", None)  # the same scratch database as above, re-created
            if server is not None:
                os.environ["DATABASE_URL"] = server
            own_database("reports")
        world = load()
    finance = world["finance"]
    client = Client()
    client.force_login(finance)

    # 0. The first rollup of finished days (the scheduled task's first run over the whole year).
    from reports.finance.volume import volume_rollup

    start = time.perf_counter()
    rolled_days = volume_rollup()
    rollup_s = round(time.perf_counter() - start, 1)
    print(f"volume rollup: {rolled_days} days in {rollup_s} s", flush=True)

    # 1. The volume page, last 30 days, against the raw SQL of its queries (the rollup's and today's live ones).
    f = report_filter({}, finance)
    raw = volume_sqls(f)
    assert len(raw) == 2, raw  # the rollup's rows, and today's four counts in one UNION ALL
    client.get("/reports/volume/")
    page_ms, raw_ms, queries = [], [], 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get("/reports/volume/")
            page_ms.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
        queries = max(queries, len(captured.captured_queries))
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for sql in raw:
                cursor.execute(sql)
                cursor.fetchall()
        raw_ms.append((time.perf_counter() - start) * 1000)
    page = {"queries": queries, "p50_ms": round(statistics.median(page_ms), 1), "p95_ms": round(pct(page_ms, 0.95), 1),
            "raw_p95_ms": round(pct(raw_ms, 0.95), 1)}  # fmt: skip
    print(f"volume page, 30 days: {page}", flush=True)

    # 2. Its CSV export against COPY of the same queries: every SELECT the export runs (captured from the export itself,
    # literals in place), each COPY'd to STDOUT and read to the last byte, interleaved with the export, RUNS times.
    volume = REPORTS["volume"]
    with CaptureQueriesContext(connection) as captured:
        size = sum(len(chunk) for chunk in csv_chunks(volume, volume.rows(f)))
    exported = captured_selects(captured.captured_queries)
    export_runs, copy_runs = [], []
    for _ in range(RUNS):
        start = time.perf_counter()
        size = sum(len(chunk) for chunk in csv_chunks(volume, volume.rows(f)))
        export_runs.append((time.perf_counter() - start) * 1000)
        copy_runs.append(copy_ms(exported))
    export_ratio = round(statistics.median(export_runs) / max(statistics.median(copy_runs), 0.01), 2)
    print(f"volume CSV: {size} bytes, {len(exported)} queries, export {statistics.median(export_runs):.1f} ms, "
          f"COPY {statistics.median(copy_runs):.1f} ms, ratio {export_ratio}", flush=True)  # fmt: skip

    # 3. RSS while streaming the whole year's per-order export (~1M rows), beside COPY of its query.
    from django.db.models import Max, Min
    from django.utils import timezone

    from orders.models import Order

    span = Order.objects.aggregate(first=Min("ship_by"), last=Max("ship_by"))  # the days every ship-by falls on
    first, last = (timezone.localtime(span[k]).date() for k in ("first", "last"))
    year = report_filter({"from": first.isoformat(), "to": last.isoformat()}, finance)
    assert not year.errors, year.errors
    per_order = REPORTS["sla-orders"]
    before, peak, done = rss_mb(), [rss_mb()], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak.append(rss_mb())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:  # what the job writes to its file, as the download streams it
        lines = csv_write(per_order, per_order.rows(year), sink)
    stream_ms = (time.perf_counter() - start) * 1000
    done.set()
    sampler.join()
    rss_growth = round(max(peak) - before, 1)
    big_copy = copy_ms([_sql(per_order.queryset(year))])
    print(f"per-order CSV: {lines} rows in {stream_ms / 1000:.1f} s (COPY {big_copy / 1000:.1f} s, ratio "
          f"{stream_ms / big_copy:.1f}), RSS growth {rss_growth} MB", flush=True)  # fmt: skip

    # 4. The same export as a background job, its progress read as the job page reads it.
    job = ExportJob.objects.create(
        report="sla-orders", params=year.as_params(), file_format="csv", requested_by=finance,
        rows_total=per_order.row_estimate(year),
    )  # fmt: skip
    seen: list[int] = []
    done.clear()

    def watch() -> None:
        while not done.is_set():
            seen.append(ExportJob.objects.get(pk=job.pk).percent)
            time.sleep(0.5)

    watcher = threading.Thread(target=watch)
    watcher.start()
    start = time.perf_counter()
    tasks.export_run(job.pk)
    job_s = time.perf_counter() - start
    done.set()
    watcher.join()
    job.refresh_from_db()
    moving = sorted({p for p in seen if 0 < p < 100})
    print(f"export job: {job.state}, {job.rows_done} rows in {job_s:.1f} s, progress seen {moving[:5]}…{moving[-3:]}")
    ok = job.state == ExportState.DONE and job.rows_done == lines == ORDERS and len(moving) >= 2
    print(
        json.dumps(
            {
                "p95_ms": page["p95_ms"],
                "max_queries": page["queries"],
                "export_ratio": export_ratio,
                "rss_growth_mb": rss_growth,
                "raw_p95_ms": page["raw_p95_ms"],
                "rollup_days": rolled_days,
                "rollup_s": rollup_s,
                "per_order_rows": lines,
                "per_order_export_s": round(stream_ms / 1000, 1),
                "per_order_copy_s": round(big_copy / 1000, 1),
                "job_s": round(job_s, 1),
                "job_rows": job.rows_done,
                "job_progress_samples": len(moving),
                "orders": ORDERS,
                "targets": {"p95_ms": 300, "max_queries": 12, "export_ratio": 2, "rss_growth_mb": 50},
            }
        )
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
