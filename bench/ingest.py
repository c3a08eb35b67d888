"""Webhook ingest under gunicorn: our endpoint against a bare Django view doing HMAC verify + one INSERT … ON CONFLICT.

    python bench/ingest.py        (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/warehouse)

Creates its own database `bench_ingest`, migrates it, creates one Shopify connection, and starts ONE gunicorn (same
configuration for both views: the bare view is mounted beside the real URLs by a settings module written to a temp
dir). A/B interleaved, REPS times: CLIENTS keep-alive clients post SECONDS of signed, distinct deliveries to
/webhooks/shopify/<id>/ (ours: verify, store once with its audit row, enqueue the processing task, answer after
commit), then to /bench-bare/ (verify with a constant secret, INSERT … ON CONFLICT DO NOTHING, answer).
Every 2xx must be durable: rows are counted against 2xx answers at the end (`lost` must be 0; `non_2xx` must be 0).
Last line: JSON with ratio (median of per-pair req/s ratios), p50_ms, p99_ms (ours), reference figures."""

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
import tempfile
import textwrap
import threading
import time
from pathlib import Path

from _support import admin_sql, free_port, pct, with_db

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DB", "bench_ingest")
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
REPS = int(os.environ.get("BENCH_REPS", "3"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
SECRET = "bench-signing-secret-0001"

BARE_URLS = """
import base64, hashlib, hmac
from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from config.urls import urlpatterns as _base


SECRET = b"__SECRET__"

@csrf_exempt
def bare(request):
    body = request.body
    given = request.headers.get("X-Shopify-Hmac-Sha256", "").encode("latin-1")
    expected = base64.b64encode(hmac.new(SECRET, body, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, given):
        return HttpResponse(status=401)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO bench_bare (delivery_id, body) VALUES (%s, %s) ON CONFLICT (delivery_id) DO NOTHING",
            [request.headers.get("X-Shopify-Webhook-Id", ""), body],
        )
    return HttpResponse(status=200)

urlpatterns = [path("bench-bare/", bare), *_base]
""".replace("__SECRET__", SECRET)


def _sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()


def _order(n: int) -> bytes:
    return json.dumps(
        {
            "id": 10_000_000 + n,
            "updated_at": "2026-11-24T09:00:00+00:00",
            "financial_status": "paid",
            "email": "bench@example.com",
            "shipping_address": {
                "name": "Bench",
                "address1": "Calle 1",
                "zip": "46001",
                "city": "Valencia",
                "country_code": "ES",
            },
            "line_items": [{"id": 1, "sku": "BENCH-1", "quantity": 1, "name": "Bench tee"}],
        }
    ).encode()


def _load(port: int, path: str, tag: str, seconds: float) -> tuple[int, int, list[float]]:
    """CLIENTS threads on keep-alive connections; returns (2xx, non-2xx, latencies in ms)."""
    ok = bad = 0
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(c: int) -> None:
        nonlocal ok, bad
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        good = fail = n = 0
        while time.monotonic() < deadline:
            n += 1
            body = _order(n)
            headers = {
                "Content-Type": "application/json",
                "X-Shopify-Hmac-Sha256": _sign(body),
                "X-Shopify-Topic": "orders/create",
                "X-Shopify-Webhook-Id": f"{tag}-{c}-{n}",
                "X-Shopify-Triggered-At": "2026-11-24T09:00:00Z",
            }
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            mine.append((time.perf_counter() - started) * 1000)
            if 200 <= status < 300:
                good += 1
            else:
                fail += 1
        conn.close()
        with lock:
            ok += good
            bad += fail
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok, bad, latencies


def main() -> None:
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/warehouse")
    url = with_db(base_url, BENCH_DB)
    base_url = with_db(base_url, "postgres")  # the maintenance database: the configured one may not exist
    admin_sql(base_url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    admin_sql(base_url, f'CREATE DATABASE "{BENCH_DB}"')
    tmp = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    (tmp / "bench_ingest_urls.py").write_text(textwrap.dedent(BARE_URLS))
    (tmp / "bench_ingest_settings.py").write_text(
        "from config.settings import *  # noqa\nROOT_URLCONF = 'bench_ingest_urls'\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench_ingest_settings",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{tmp}:{ROOT}",
    }
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    setup = textwrap.dedent(
        f"""
        import django; django.setup()
        from django.db import connection
        from warehouse.models import Brand
        from integrations.services import connection_create, connection_set_signing_secret
        brand = Brand.objects.create(name="Bench", slug="bench")
        conn = connection_create(brand=brand, platform="shopify", name="Bench", shop="bench.myshopify.com", actor=None)
        connection_set_signing_secret(connection=conn, secret={SECRET!r}, actor=None, window=None)
        with connection.cursor() as cur:
            cur.execute("CREATE TABLE bench_bare (delivery_id text PRIMARY KEY, body bytea NOT NULL)")
        print(conn.pk)
        """
    )
    connection_id = int(
        subprocess.run([python, "-c", setup], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    port = free_port()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "sync",
            "--keep-alive",
            "5",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        _load(port, "/bench-bare/", "warm-bare", 1.0)
        _load(port, f"/webhooks/shopify/{connection_id}/", "warm-ours", 1.0)
        ours_ok = bare_ok = ours_bad = bare_bad = 0
        ratios: list[float] = []
        ours_lat: list[float] = []
        bare_lat: list[float] = []
        ours_rates: list[float] = []
        bare_rates: list[float] = []
        for rep in range(REPS):
            ok, bad, lat = _load(port, f"/webhooks/shopify/{connection_id}/", f"ours{rep}", SECONDS)
            ours_ok, ours_bad, ours_lat = ours_ok + ok, ours_bad + bad, ours_lat + lat
            ours_rate = ok / SECONDS
            ok, bad, lat = _load(port, "/bench-bare/", f"bare{rep}", SECONDS)
            bare_ok, bare_bad, bare_lat = bare_ok + ok, bare_bad + bad, bare_lat + lat
            bare_rate = ok / SECONDS
            ours_rates.append(ours_rate)
            bare_rates.append(bare_rate)
            ratios.append(ours_rate / bare_rate if bare_rate else 0.0)
            print(f"rep {rep}: ours {ours_rate:.0f} req/s, bare {bare_rate:.0f} req/s, ratio {ratios[-1]:.2f}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    count = textwrap.dedent(
        """
        import django; django.setup()
        from django.db import connection
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM integrations_inbounddelivery WHERE delivery_id LIKE 'ours%%'")
            ours = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM bench_bare WHERE delivery_id LIKE 'bare%%'")
            bare = cur.fetchone()[0]
        print(ours, bare)
        """
    )
    stored_ours, stored_bare = map(
        int,
        subprocess.run(
            [python, "-c", count], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout.split()[-2:],
    )
    admin_sql(base_url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    result = {
        "ratio": round(statistics.median(ratios), 3),
        "p50_ms": round(pct(ours_lat, 0.5), 2),
        "p99_ms": round(pct(ours_lat, 0.99), 2),
        "req_per_s": round(statistics.median(ours_rates), 1),
        "reference_req_per_s": round(statistics.median(bare_rates), 1),
        "reference_p50_ms": round(pct(bare_lat, 0.5), 2),
        "reference_p99_ms": round(pct(bare_lat, 0.99), 2),
        "non_2xx": ours_bad,
        "reference_non_2xx": bare_bad,
        "lost": ours_ok - stored_ours,
        "reference_lost": bare_ok - stored_bare,
        "clients": CLIENTS,
        "workers": WORKERS,
    }
    print(json.dumps(result))
    if ours_bad or result["lost"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
