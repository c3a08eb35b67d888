"""Carrier tracking events through the webhook path under gunicorn: 10,000 UPS Track Alert events from 2,000
shipments posted to /webhooks/carriers/ups/<account>/ (verify the bearer token UPS fetched from us, store each event
once with INSERT … ON CONFLICT and, in the same statement, the django-q2 task that applies it; answer after that
commit), beside a bare Django view on the same gunicorn doing one INSERT … ON
CONFLICT per event (runs before and after ours; the baseline is their mean). Then what the workers do with those
tasks, timed (`applied_per_s`): every stored event applied in time order to its shipment through orders' services,
the channel statuses queued in the outbox.

    python bench/tracking.py        (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/warehouse)

Each shipment gets five posts, in this order: picked up (t0), departed (t1), delivered (t4), out for delivery (t3:
older than the delivery, so late) and departed again (a duplicate). Each of the CLIENTS threads owns every CLIENTS-th of the
shipments and posts a shipment's five in order. Afterwards, in the database:
- `duplicates_applied`: scans recorded on shipments beyond the 4 distinct events each (must be 0);
- `out_of_order_regressions`: shipments not delivered at the end, shipments whose state history goes backwards, and
  channel statuses queued after a later one (e.g. "out for delivery" after "delivered") (must be 0).
Last line: JSON with events_per_s, p99_ms, the baseline's, ratio (target ≥ 0.3) and the correctness figures; exit 1
when a correctness figure fails or an answer was not 2xx."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

from _support import admin_sql, free_port, pct, with_db

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DB", "bench_tracking")
SHIPMENTS = int(os.environ.get("BENCH_SHIPMENTS", "2000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
WEBHOOK_ID, WEBHOOK_SECRET = "bench-webhook-client-0001", "bench-webhook-secret-0001"

BARE_URLS = """
import json
from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from config.urls import urlpatterns as _base

@csrf_exempt
def bare(request):
    if request.headers.get("x-api-key", "") != "__ID__":
        return HttpResponse(status=401)
    event = json.loads(request.body)
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO bench_bare (carrier, tracking_number, code, occurred_at) VALUES ('ups', %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            [event["trackingNumber"], event["activityStatus"]["type"] + ":" + event["activityStatus"]["code"],
             event["gmtActivityDate"] + event["gmtActivityTime"]],
        )
    return HttpResponse(status=200)

urlpatterns = [path("bench-bare/", bare), *_base]
""".replace("__ID__", WEBHOOK_ID)

SETUP = """
import datetime as dt
import django; django.setup()
from django.db import connection
from django.utils import timezone
from integrations.carriers.accounts import carrier_account_set_credentials
from integrations.carriers.models import CarrierAccount
from integrations.services import connection_create
from orders.models import Order, Shipment
from warehouse.models import Brand, Facility

brand = Brand.objects.create(name="Bench", slug="bench")
facility = Facility.objects.create(code="BEN1", name="Bench 1")
conn = connection_create(brand=brand, platform="shopify", name="Bench", shop="bench.myshopify.com", actor=None)
account = CarrierAccount.objects.create(carrier="ups", name="UPS bench", facility=facility)
carrier_account_set_credentials(account=account, actor=None, credentials={
    "client_id": "bench-client", "client_secret": "bench-secret", "account_number": "A1B2C3",
    "webhook_client_id": "__ID__", "webhook_client_secret": "__SECRET__"})
handed = timezone.now() - dt.timedelta(days=1)
orders = Order.objects.bulk_create([
    Order(brand=brand, channel=conn.channel, facility=facility, platform_order_id=str(9_000_000 + i),
          state="dispatched") for i in range(__N__)])
Shipment.objects.bulk_create([
    Shipment(order=o, facility=facility, carrier="ups", service="11", tracking_number=f"1ZBENCH{i:011d}",
             carrier_receipt="MANIFEST-BENCH", handed_at=handed, state="handed_to_carrier")
    for i, o in enumerate(orders)])
with connection.cursor() as cur:
    cur.execute("CREATE TABLE bench_bare (carrier text, tracking_number text, code text, occurred_at text, "
                "PRIMARY KEY (carrier, tracking_number, code, occurred_at))")
print(account.pk)
"""

APPLY = """
import json, time
import django; django.setup()
from django.db import connection
from integrations.tracking.services import carrier_events_apply_pending
with connection.cursor() as cur:
    cur.execute("SELECT count(*) FROM tracking_carrierevent WHERE applied_at IS NULL")
    pending = cur.fetchone()[0]
started = time.perf_counter()
applied = 0
while True:
    n = carrier_events_apply_pending(limit=1000)
    applied += n
    if not n:
        break
print(json.dumps({"pending": pending, "applied": applied, "seconds": time.perf_counter() - started}))
"""

CHECK = """
import json
import django; django.setup()
from django.db import connection
with connection.cursor() as cur:
    cur.execute("SELECT count(*) FROM tracking_carrierevent")
    stored = cur.fetchone()[0]
    cur.execute("SELECT coalesce(sum(greatest(n - 4, 0)), 0)::int FROM (SELECT count(*) AS n FROM orders_shipmentevent "
                "GROUP BY shipment_id) s")
    duplicates = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM orders_shipment WHERE state <> 'delivered'")
    undelivered = cur.fetchone()[0]
    # states in history order: a later row with a lower rank is a regression
    cur.execute(\"\"\"
        SELECT count(*) FROM (
          SELECT id, rank, lag(rank) OVER (PARTITION BY id ORDER BY history_id) AS before FROM (
            SELECT id, history_id, CASE state WHEN 'staged' THEN 0 WHEN 'handed_to_carrier' THEN 1
              WHEN 'in_transit' THEN 2 ELSE 3 END AS rank FROM orders_historicalshipment) h) r
        WHERE before IS NOT NULL AND rank < before\"\"\")
    backwards = cur.fetchone()[0]
    cur.execute(\"\"\"
        SELECT count(*) FROM (
          SELECT rank, lag(rank) OVER (PARTITION BY payload->>'shipment_id' ORDER BY id) AS before FROM (
            SELECT id, payload, CASE payload->>'status' WHEN 'in_transit' THEN 1 WHEN 'out_for_delivery' THEN 2
              WHEN 'attempted_delivery' THEN 2 ELSE 3 END AS rank FROM outbox_outboundmessage
            WHERE kind = 'status') m) r
        WHERE before IS NOT NULL AND rank < before\"\"\")
    late_statuses = cur.fetchone()[0]
    cur.execute("SELECT count(*) FROM bench_bare")
    bare = cur.fetchone()[0]
print(json.dumps({"stored": stored, "duplicates": duplicates, "undelivered": undelivered, "backwards": backwards,
                  "late_statuses": late_statuses, "bare": bare}))
"""


def _event(n: int, status_type: str, code: str, hhmmss: str, description: str) -> dict:
    return {
        "trackingNumber": f"1ZBENCH{n:011d}",
        "localActivityDate": "20261124",
        "localActivityTime": hhmmss,
        "activityLocation": {"city": "Valencia", "country": "ES"},
        "activityStatus": {"type": status_type, "code": code, "description": description},
        "gmtActivityDate": "20261124",
        "gmtActivityTime": hhmmss,
        "gmtOffset": "+00.00",
    }


def posts_of(n: int) -> list[bytes]:
    """The five posts of shipment n: in order, then a late one, then a duplicate."""
    picked = _event(n, "I", "PU", "080000", "Pickup Scan")
    departed = _event(n, "I", "DP", "120000", "Departed from Facility")
    delivered = _event(n, "D", "KB", "180000", "Delivered")
    out = _event(n, "I", "OT", "160000", "Out For Delivery Today")
    return [json.dumps(e, separators=(",", ":")).encode() for e in (picked, departed, delivered, out, departed)]


def _token(port: int, account_id: int) -> str:
    import base64

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    basic = base64.b64encode(f"{WEBHOOK_ID}:{WEBHOOK_SECRET}".encode()).decode()
    conn.request(
        "POST",
        f"/webhooks/carriers/ups/{account_id}/token",
        body=b"grant_type=client_credentials",
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    answer = conn.getresponse()
    body = json.loads(answer.read())
    conn.close()
    return str(body["access_token"])


def _load(port: int, path: str, headers: dict[str, str]) -> tuple[int, int, list[float], float]:
    """CLIENTS threads on keep-alive connections, each posting its shipments' events in order; returns (2xx,
    non-2xx, latencies in ms, seconds)."""
    ok = bad = 0
    latencies: list[float] = []
    lock = threading.Lock()

    def client(c: int) -> None:
        nonlocal ok, bad
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        good = fail = 0
        for n in range(c, SHIPMENTS, CLIENTS):
            for body in posts_of(n):
                started = time.perf_counter()
                try:
                    conn.request("POST", path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    status = 0
                mine.append((time.perf_counter() - started) * 1000)
                good, fail = (good + 1, fail) if 200 <= status < 300 else (good, fail + 1)
        conn.close()
        with lock:
            ok += good
            bad += fail
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ok, bad, latencies, time.perf_counter() - started


def main() -> None:
    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/warehouse")
    url = with_db(base_url, BENCH_DB)
    base_url = with_db(base_url, "postgres")
    admin_sql(base_url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    admin_sql(base_url, f'CREATE DATABASE "{BENCH_DB}"')
    tmp = Path(tempfile.mkdtemp(prefix="bench_tracking_"))
    (tmp / "bench_tracking_urls.py").write_text(textwrap.dedent(BARE_URLS))
    (tmp / "bench_tracking_settings.py").write_text(
        "from config.settings import *  # noqa\nROOT_URLCONF = 'bench_tracking_urls'\n"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "bench_tracking_settings",
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": f"{tmp}:{ROOT}",
    }
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    setup = SETUP.replace("__ID__", WEBHOOK_ID).replace("__SECRET__", WEBHOOK_SECRET).replace("__N__", str(SHIPMENTS))
    account_id = int(
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
        token = _token(port, account_id)
        ours_headers = {
            "Content-Type": "application/json",
            "User-Agent": "UPSPubSubTrackingService",
            "Authorization": f"Bearer {token}",
            "x-api-key": WEBHOOK_ID,
        }
        bare_headers = {"Content-Type": "application/json", "x-api-key": WEBHOOK_ID}
        bare1 = _load(port, "/bench-bare/", bare_headers)
        ours = _load(port, f"/webhooks/carriers/ups/{account_id}/", ours_headers)
        bare2 = _load(port, "/bench-bare/", bare_headers)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    # What the qcluster does with the wake-up tasks the webhooks wrote: apply every stored event, timed.
    applying = json.loads(
        subprocess.run([python, "-c", APPLY], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    found = json.loads(
        subprocess.run([python, "-c", CHECK], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        .stdout.strip()
        .splitlines()[-1]
    )
    if not os.environ.get("BENCH_KEEP_DB"):
        admin_sql(base_url, f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    events = SHIPMENTS * 5
    ours_rate = ours[0] / ours[3]
    bare_rate = (bare1[0] / bare1[3] + bare2[0] / bare2[3]) / 2
    regressions = found["undelivered"] + found["backwards"] + found["late_statuses"]
    print(
        f"ours {ours_rate:.0f} events/s ({ours[3]:.1f} s), bare {bare1[0] / bare1[3]:.0f} and "
        f"{bare2[0] / bare2[3]:.0f} events/s; stored {found['stored']} distinct events of {events} posts"
    )
    result = {
        "events": events,
        "shipments": SHIPMENTS,
        "events_per_s": round(ours_rate, 1),
        "p50_ms": round(pct(ours[2], 0.5), 2),
        "p99_ms": round(pct(ours[2], 0.99), 2),
        "duplicates_applied": found["duplicates"],
        "out_of_order_regressions": regressions,
        "stored_events": found["stored"],
        "applied_after": applying["applied"],
        "applied_per_s": round(applying["applied"] / applying["seconds"], 1) if applying["seconds"] else 0.0,
        "non_2xx": ours[1],
        "baseline_events_per_s": round(bare_rate, 1),
        "baseline_p99_ms": round(pct(bare1[2] + bare2[2], 0.99), 2),
        "baseline_non_2xx": bare1[1] + bare2[1],
        "ratio": round(ours_rate / bare_rate, 3) if bare_rate else 0.0,
        "clients": CLIENTS,
        "workers": WORKERS,
    }
    print(json.dumps(result))
    if found["duplicates"] or regressions or ours[1] or found["stored"] != SHIPMENTS * 4:
        sys.exit(1)


if __name__ == "__main__":
    main()
