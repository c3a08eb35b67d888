"""End-to-end order lag: webhook received → order accepted and allocated, through gunicorn and a django-q2 cluster.

    python bench/order_lag.py        (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/warehouse)

Creates its own database `bench_order_lag` (dropped at the end), one brand, facility, SKU with ample stock and a
Shopify connection; starts gunicorn (the hub) and `manage.py qcluster` (Q_WORKERS workers, Q_POLL poll).
1. floor: FLOOR_TASKS empty django-q2 tasks (enqueue → finish, from the task rows) plus the allocation transaction
   alone (`stock_allocate` of one line, timed in this process);
2. steady: RATE signed orders/create webhooks per second for SECONDS; lag = order accepted (its TransitionRecord)
   − the moment the webhook was sent; p50/p99;
3. burst: CALIBRATION webhooks sent at once, drain rate = CALIBRATION ÷ time to the last acceptance; then BURST
   webhooks at once: burst_drain_ratio = measured drain time ÷ (BURST ÷ drain rate) (≤ 1.2: no slowdown with depth).
Last line: JSON with p50_ms, p99_ms, burst_drain_ratio and the floor beside them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _support import admin_sql, free_port, pct, with_db

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DB", "bench_order_lag")
RATE = float(os.environ.get("BENCH_RATE", "50"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
BURST = int(os.environ.get("BENCH_BURST", "5000"))
CALIBRATION = int(os.environ.get("BENCH_CALIBRATION", "500"))
FLOOR_TASKS = int(os.environ.get("BENCH_FLOOR_TASKS", "200"))
WORKERS = os.environ.get("Q_WORKERS", "2")
POLL = os.environ.get("Q_POLL", "0.05")
WEB_WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "2"))
SENDERS = int(os.environ.get("BENCH_SENDERS", "8"))
SECRET = "bench-lag-signing-secret"
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def _django(env: dict[str, str], code: str) -> str:
    script = "import django; django.setup()\n" + textwrap.dedent(code)
    return subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def _order_body(order_id: int) -> bytes:
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    return json.dumps(
        {
            "id": order_id,
            "name": f"#{order_id}",
            "email": "lag@example.com",
            "created_at": now,
            "processed_at": now,
            "updated_at": now,
            "financial_status": "paid",
            "cancelled_at": None,
            "shipping_address": {
                "name": "Ana Garcia",
                "address1": "Carrer de la Pau 3",
                "zip": "46002",
                "city": "Valencia",
                "province_code": "V",
                "country_code": "ES",
                "phone": "+34 600 000 000",
            },
            "line_items": [{"id": order_id * 10, "sku": "LAG-1", "quantity": 1, "name": "Lag tee"}],
        }
    ).encode()


class Sender:
    """Keep-alive connections to the hub; `send(order_id)` returns the wall-clock send time (or raises)."""

    def __init__(self, port: int, path: str) -> None:
        self.port, self.path = port, path
        self.local = threading.local()

    def send(self, order_id: int) -> float:
        conn = getattr(self.local, "conn", None) or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        self.local.conn = conn
        body = _order_body(order_id)
        signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Hmac-Sha256": signature,
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Webhook-Id": f"lag-{order_id}",
        }
        sent = time.time()
        try:
            conn.request("POST", self.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            self.local.conn = None
            raise
        if response.status != 200:
            raise RuntimeError(f"webhook answered {response.status}")
        return sent


def _send_all(sender: Sender, ids: list[int], *, rate: float | None) -> tuple[dict[int, float], int]:
    """Send every id (at `rate` per second, or as fast as SENDERS threads go); (send times, failures)."""
    sent: dict[int, float] = {}
    failures = 0
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=SENDERS if rate is None else 64) as pool:
        futures = {}
        for n, order_id in enumerate(ids):
            if rate is not None:
                delay = start + n / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            futures[pool.submit(sender.send, order_id)] = order_id
        for future, order_id in futures.items():
            try:
                sent[order_id] = future.result()
            except Exception:
                failures += 1
    return sent, failures


def _accepted_at(env: dict[str, str], ids: list[int], timeout: float) -> dict[int, float]:
    """Wait until every order is accepted (or timeout); their acceptance times (epoch seconds)."""
    code = f"""
    import json, time
    from django.contrib.contenttypes.models import ContentType
    from orders.models import Order
    from warehouse.models import TransitionRecord
    ids = [str(i) for i in {ids!r}]
    deadline = time.monotonic() + {timeout}
    ct = ContentType.objects.get_for_model(Order)
    while True:
        done = Order.objects.filter(platform_order_id__in=ids, state__in=["accepted"]).count()
        if done >= len(ids) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    pks = dict(Order.objects.filter(platform_order_id__in=ids).values_list("pk", "platform_order_id"))
    rows = TransitionRecord.objects.filter(content_type=ct, object_id__in=list(pks), target="accepted")
    print(json.dumps({{pks[r.object_id]: r.at.timestamp() for r in rows}}))
    """
    return {int(k): v for k, v in json.loads(_django(env, code).strip().splitlines()[-1]).items()}


def main() -> None:
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/warehouse")
    url = with_db(base_url, BENCH_DB)
    admin_url = with_db(base_url, "postgres")
    admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    admin_sql(admin_url, f'CREATE DATABASE "{BENCH_DB}"')
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz"),
        "LOG_LEVEL": "WARNING",
        "Q_WORKERS": WORKERS,
        "Q_POLL": POLL,
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run([PYTHON, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    setup = f"""
    import time, statistics
    from warehouse.models import Brand, Facility
    from integrations.services import connection_create, connection_set_signing_secret
    from inventory.models import Sku, SkuState
    from inventory.services import stock_receive, stock_allocate, stock_release
    brand = Brand.objects.create(name="Lag", slug="lag")
    facility = Facility.objects.create(code="LAG1", name="Lag 1", country="ES", postal_code="46001", city="Valencia")
    sku = Sku.objects.create(brand=brand, code="LAG-1", title="Lag tee", weight_grams=200, length_mm=300,
                             width_mm=200, height_mm=30, hs_code="610910", state=SkuState.READY_FOR_RECEIVING)
    stock_receive(sku=sku, facility=facility, quantity=10_000_000, event_id="lag-stock", actor=None)
    conn = connection_create(brand=brand, platform="shopify", name="Lag", shop="lag.myshopify.com", actor=None)
    connection_set_signing_secret(connection=conn, secret={SECRET!r}, actor=None, window=None)
    times = []
    for n in range(200):
        t = time.perf_counter()
        stock_allocate(facility=facility, lines=[(sku, 1)], event_id=f"floor-{{n}}", actor=None)
        times.append((time.perf_counter() - t) * 1000)
    for n in range(200):
        stock_release(facility=facility, lines=[(sku, 1)], event_id=f"floor-release-{{n}}", actor=None)
    print(conn.pk, statistics.median(times))
    """
    connection_id, allocation_ms = _django(env, setup).split()[-2:]
    allocation_floor_ms = float(allocation_ms)

    port = free_port()
    web = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WEB_WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [PYTHON, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        time.sleep(2)  # the cluster's workers start
        floor = f"""
        import time
        from django_q.tasks import async_task
        from django_q.models import Success
        for n in range({FLOOR_TASKS}):
            async_task("math.floor", 1.5, task_name=f"floor-{{n}}")
            time.sleep(0.01)
        deadline = time.monotonic() + 60
        while Success.objects.filter(name__startswith="floor-").count() < {FLOOR_TASKS} and time.monotonic() < deadline:
            time.sleep(0.2)
        for s in Success.objects.filter(name__startswith="floor-"):
            print((s.stopped - s.started).total_seconds() * 1000)
        """
        task_ms = [float(x) for x in _django(env, floor).split()]
        task_floor_ms = statistics.median(task_ms)
        print(f"floor: empty task enqueue→done p50 {task_floor_ms:.1f} ms + allocation {allocation_floor_ms:.1f} ms")

        sender = Sender(port, f"/webhooks/shopify/{connection_id}/")
        steady_ids = list(range(1_000_000, 1_000_000 + int(RATE * SECONDS)))
        sent, failed = _send_all(sender, steady_ids, rate=RATE)
        accepted = _accepted_at(env, steady_ids, timeout=120)
        lags = [(accepted[i] - sent[i]) * 1000 for i in steady_ids if i in accepted and i in sent]
        missing = len(steady_ids) - len(lags)
        print(
            f"steady {RATE:.0f}/s for {SECONDS:.0f}s: p50 {pct(lags, 0.5):.0f} ms, p99 {pct(lags, 0.99):.0f} ms,"
            f" not accepted {missing}"
        )

        cal_ids = list(range(2_000_000, 2_000_000 + CALIBRATION))
        cal_sent, _ = _send_all(sender, cal_ids, rate=None)
        cal_done = _accepted_at(env, cal_ids, timeout=600)
        cal_time = max(cal_done.values()) - min(cal_sent.values())
        drain_rate = len(cal_done) / cal_time
        burst_ids = list(range(3_000_000, 3_000_000 + BURST))
        burst_sent, burst_failed = _send_all(sender, burst_ids, rate=None)
        burst_done = _accepted_at(env, burst_ids, timeout=1800)
        burst_time = max(burst_done.values()) - min(burst_sent.values())
        ratio = burst_time / (BURST / drain_rate)
        print(f"burst {BURST}: drained in {burst_time:.1f} s; calibration {drain_rate:.1f} orders/s; ratio {ratio:.2f}")
    finally:
        for proc in (worker, web):
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in (worker, web):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
    admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    result = {
        "p50_ms": round(pct(lags, 0.5), 1),
        "p99_ms": round(pct(lags, 0.99), 1),
        "burst_drain_ratio": round(ratio, 3),
        "steady_rate": RATE,
        "steady_seconds": SECONDS,
        "steady_not_accepted": missing,
        "steady_send_failures": failed,
        "burst_send_failures": burst_failed,
        "burst": BURST,
        "burst_drain_s": round(burst_time, 2),
        "burst_accepted": len(burst_done),
        "drain_rate_per_s": round(drain_rate, 1),
        "floor_task_ms": round(task_floor_ms, 1),
        "floor_allocation_ms": round(allocation_floor_ms, 2),
        "floor_ms": round(task_floor_ms + allocation_floor_ms, 1),
    }
    print(json.dumps(result))
    if missing or len(burst_done) < BURST:
        sys.exit(1)


if __name__ == "__main__":
    main()
