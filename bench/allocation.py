"""Allocation under contention: `inventory.services.stock_allocate` against pgbench running the bare conditional UPDATE.

    python bench/allocation.py        (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/warehouse)

Creates its own database `bench_allocation`, migrates it, and drops it at the end. Two workloads, each run A/B
interleaved (ours, then pgbench, REPS times) for SECONDS each with THREADS clients:
  zipf  1,000 SKUs, popularity ~ Zipf(s=1.1) (pgbench: random_zipfian(1, 1000, 1.1))
  hot   every client allocates the same SKU
Ours allocates one unit per call through the real service (movement insert + conditional UPDATE, one transaction);
pgbench runs only the conditional UPDATE, on a second facility holding the same stock. A last phase races THREADS
clients for the last LAST_UNITS units of one SKU and counts units granted beyond stock (`oversold`, must be 0).
The last line of output is one JSON object: ratio (median of the per-pair ratios), p99_ms, oversold, allocs_per_s,
reference_allocs_per_s, and the per-workload figures."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from itertools import accumulate
from pathlib import Path

from _support import admin_sql, with_db

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DB", "bench_allocation")
THREADS = int(os.environ.get("BENCH_THREADS", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
REPS = int(os.environ.get("BENCH_REPS", "3"))
SKUS = 1000
ZIPF_S = 1.1
LAST_UNITS = 50
STOCK = 10_000_000


def _pgbench() -> str:
    for candidate in ("/usr/lib/postgresql/15/bin/pgbench", shutil.which("pgbench")):
        if candidate and Path(candidate).exists():
            return candidate
    sys.exit("pgbench not found: apt-get install -y postgresql-contrib")


def _setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "false"  # no query log in the hot loop
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _seed() -> tuple[list, object, object]:
    from inventory.models import Movement, MovementKind, Sku, SkuState, StockLevel
    from warehouse.models import Brand, Facility

    brand = Brand.objects.create(name="Bench", slug="bench")
    ours = Facility.objects.create(code="BENCH", name="Ours", country="ES")
    ref = Facility.objects.create(code="REF", name="pgbench", country="ES")
    skus = Sku.objects.bulk_create(
        Sku(brand=brand, code=f"B{n:04d}", title="bench", weight_grams=1, length_mm=1, width_mm=1, height_mm=1,
            hs_code="1", state=SkuState.READY_FOR_RECEIVING)
        for n in range(1, SKUS + 2)  # the last one is the "last units" SKU
    )  # fmt: skip
    skus.sort(key=lambda s: s.pk)
    for facility in (ours, ref):
        StockLevel.objects.bulk_create(
            StockLevel(sku=s, facility=facility, on_hand=LAST_UNITS if i == SKUS else STOCK) for i, s in enumerate(skus)
        )
        Movement.objects.bulk_create(  # the ledger behind the opening stock
            Movement(event_id=f"open-{facility.code}-{s.pk}", kind=MovementKind.RECEIVE, sku=s, facility=facility,
                     quantity=LAST_UNITS if i == SKUS else STOCK, on_hand_delta=LAST_UNITS if i == SKUS else STOCK)
            for i, s in enumerate(skus)
        )  # fmt: skip
    return skus, ours, ref


def _zipf_cum_weights() -> list[float]:
    return list(accumulate(1.0 / (k**ZIPF_S) for k in range(1, SKUS + 1)))


def _run_ours(*, tag: str, pick, skus, facility, seconds: float) -> tuple[float, list[float], int, dict[int, int]]:
    """THREADS clients allocate one unit per call for `seconds`; returns (allocs/s, latencies ms, errors, granted)."""
    from django.db import connection

    from inventory.services import stock_allocate
    from warehouse.errors import InsufficientStock

    barrier = threading.Barrier(THREADS + 1)
    latencies: list[list[float]] = [[] for _ in range(THREADS)]
    granted: list[dict[int, int]] = [{} for _ in range(THREADS)]
    errors = [0] * THREADS
    stop = threading.Event()

    def client(i: int) -> None:
        rng = random.Random(hash((tag, i)))
        n = 0
        try:
            connection.ensure_connection()
            barrier.wait()
            while not stop.is_set():
                sku = pick(rng)
                n += 1
                started = time.perf_counter()
                try:
                    stock_allocate(facility=facility, lines=[(sku, 1)], event_id=f"{tag}-{i}-{n}", actor=None)
                except InsufficientStock:
                    errors[i] += 1
                    if tag == "last":  # the race for the last units ends at the first refusal
                        break
                    continue
                latencies[i].append((time.perf_counter() - started) * 1000)
                granted[i][sku.pk] = granted[i].get(sku.pk, 0) + 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    deadline = began + seconds
    while time.perf_counter() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    flat = [x for lat in latencies for x in lat]
    total: dict[int, int] = {}
    for g in granted:
        for k, v in g.items():
            total[k] = total.get(k, 0) + v
    return len(flat) / elapsed, flat, sum(errors), total


def _run_pgbench(*, url: str, script: str, variables: dict[str, int], seconds: float) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        argv = [_pgbench(), "-n", "-f", path, "-c", str(THREADS), "-j", str(min(THREADS, 4)), "-T",
                str(max(1, round(seconds)))]  # fmt: skip
        for name, value in variables.items():
            argv += ["-D", f"{name}={value}"]
        argv.append(url)
        out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(path)
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if not match:
        sys.exit(f"cannot read pgbench output:\n{out}")
    return float(match.group(1))


UPDATE = (
    "UPDATE inventory_stocklevel SET allocated = allocated + 1 WHERE sku_id = :sku_id AND facility_id = :fac "
    "AND on_hand - allocated - in_pick - quarantine - damaged - reserved >= 1;\n"
)
SCRIPTS = {
    "zipf": f"\\set k random_zipfian(1, {SKUS}, {ZIPF_S})\n\\set sku_id :base + :k\n" + UPDATE,
    "hot": "\\set sku_id :base + 1\n" + UPDATE,
}


def _p(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/warehouse")
    if not base_url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/allocation.py needs PostgreSQL (DATABASE_URL=postgres://...)")
    url = with_db(base_url, BENCH_DB)
    maintenance = with_db(base_url, "postgres")  # the named database need not exist
    admin_sql(maintenance, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    admin_sql(maintenance, f'CREATE DATABASE "{BENCH_DB}"')
    t0 = time.perf_counter()
    try:
        _setup_django(url)
        from django.db import connection

        from inventory.models import Movement, StockLevel

        skus, ours, ref = _seed()
        connection.close()
        base = skus[0].pk - 1
        assert skus[SKUS - 1].pk - base == SKUS, "SKU ids must be contiguous for the pgbench script"
        cum = _zipf_cum_weights()
        picks = {
            "zipf": lambda rng: rng.choices(skus[:SKUS], cum_weights=cum)[0],
            "hot": lambda rng: skus[0],
        }
        results: dict[str, dict] = {}
        all_latencies: list[float] = []
        ratios: list[float] = []
        print(f"allocation bench: {THREADS} clients, {REPS}×{SECONDS:.0f}s per workload, A/B interleaved")
        for workload in ("zipf", "hot"):
            mine, theirs = [], []
            for rep in range(REPS):
                rate, lat, _, _ = _run_ours(tag=f"{workload}{rep}", pick=picks[workload], skus=skus, facility=ours,
                                            seconds=SECONDS)  # fmt: skip
                ref_rate = _run_pgbench(url=url, script=SCRIPTS[workload], variables={"base": base, "fac": ref.pk},
                                        seconds=SECONDS)  # fmt: skip
                mine.append(rate)
                theirs.append(ref_rate)
                ratios.append(rate / ref_rate)
                all_latencies.extend(lat)
                results.setdefault(workload, {"p50_ms": [], "p99_ms": []})
                results[workload]["p50_ms"].append(_p(lat, 0.5))
                results[workload]["p99_ms"].append(_p(lat, 0.99))
                print(f"  {workload} rep {rep + 1}: ours {rate:8.0f}/s   pgbench {ref_rate:8.0f}/s   "
                      f"ratio {rate / ref_rate:.3f}   p99 {_p(lat, 0.99):.1f} ms")  # fmt: skip
            results[workload] = {
                "allocs_per_s": round(statistics.median(mine), 1),
                "reference_allocs_per_s": round(statistics.median(theirs), 1),
                "ratio": round(statistics.median(m / t for m, t in zip(mine, theirs, strict=True)), 3),
                "p50_ms": round(statistics.median(results[workload]["p50_ms"]), 2),
                "p99_ms": round(statistics.median(results[workload]["p99_ms"]), 2),
            }

        # The last units: every client races for LAST_UNITS units of one SKU until refused.
        last = skus[SKUS]
        _, _, refused, granted = _run_ours(tag="last", pick=lambda rng: last, skus=skus, facility=ours, seconds=10)
        units_granted = granted.get(last.pk, 0)
        oversold = max(0, units_granted - LAST_UNITS)

        # Our ledger must explain our buckets exactly, and no bucket may exceed what is on hand.
        from django.db.models import Sum

        level_total = StockLevel.objects.filter(facility=ours).aggregate(a=Sum("allocated"))["a"]
        ledger_total = Movement.objects.filter(facility=ours).aggregate(a=Sum("allocated_delta"))["a"]
        over_committed = StockLevel.objects.filter(facility=ours).with_available().filter(available__lt=0).count()
        oversold += over_committed + abs(level_total - ledger_total)
        connection.close()

        allocs = statistics.median(r["allocs_per_s"] for r in results.values())
        reference = statistics.median(r["reference_allocs_per_s"] for r in results.values())
        summary = {
            "ratio": round(statistics.median(ratios), 3),
            "p99_ms": round(_p(all_latencies, 0.99), 2),
            "p50_ms": round(_p(all_latencies, 0.5), 2),
            "oversold": oversold,
            "allocs_per_s": round(allocs, 1),
            "reference_allocs_per_s": round(reference, 1),
            "threads": THREADS,
            "seconds_per_run": SECONDS,
            "reps": REPS,
            "workloads": results,
            "last_units": {"stock": LAST_UNITS, "granted": units_granted, "refused": refused},
            "ledger_matches_buckets": level_total == ledger_total,
        }
        print(f"  last units: {units_granted} of {LAST_UNITS} granted, {refused} refused, oversold {oversold}")
        print(f"  ours {allocs:.0f} allocs/s vs pgbench {reference:.0f}/s: ratio {summary['ratio']} (target ≥ 0.15); "
              f"p99 {summary['p99_ms']} ms; took {time.perf_counter() - t0:.0f}s")  # fmt: skip
        print(json.dumps(summary))
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django may not be set up yet
            pass
        admin_sql(maintenance, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


if __name__ == "__main__":
    main()
