"""Fault test (issue 11 item 3): PostgreSQL crashes and comes back in the middle of a burst of signed webhooks.

Everything runs against a PostgreSQL cluster of the test's own (tests/integrations/throwaway_pg.py): the hub under
gunicorn, a real `qcluster`, and senders that behave like a platform (a delivery not answered 2xx is sent again).
Every delivery answered 2xx must become exactly one order or one exception; the test counts them. Bounded: about
two minutes, most of it the migration of the fresh database."""

import http.client
import json
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from integrations.platforms.base import sign
from tests.integrations.conftest import shopify_order
from tests.integrations.throwaway_pg import ThrowawayPostgres, _free_port
from tests.integrations.workers import ROOT, Cluster, hub_env, wait_until

pytestmark = [pytest.mark.faults, pytest.mark.postgresql]

SECRET = "restart-test-signing-secret"
DELIVERIES = 160
CRASH_AFTER = 50
SENDERS = 6
RESEND_FOR = 90.0  # seconds a sender keeps re-sending one delivery (a platform retries for hours)


def django(env, code: str) -> str:
    script = "import django; django.setup()\n" + textwrap.dedent(code)
    command = [sys.executable, "-c", script]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


SEED = f"""
from warehouse.models import Brand, Facility
from integrations.services import connection_create, connection_set_signing_secret
from inventory.models import Sku, SkuState
from inventory.services import stock_receive
brand = Brand.objects.create(name="Restart", slug="restart")
facility = Facility.objects.create(code="RST1", name="Restart 1", country="ES", postal_code="46001", city="Valencia")
sku = Sku.objects.create(brand=brand, code="TEE-BLK-M", title="Tee", weight_grams=200, length_mm=300, width_mm=200,
                         height_mm=30, hs_code="610910", state=SkuState.READY_FOR_RECEIVING)
stock_receive(sku=sku, facility=facility, quantity=100_000, event_id="rst-stock", actor=None)
conn = connection_create(brand=brand, platform="shopify", name="Restart", shop="restart.myshopify.com", actor=None)
connection_set_signing_secret(connection=conn, secret={SECRET!r}, actor=None, window=None)
print(conn.pk)
"""

OUTCOMES = """
import json
from django.contrib.contenttypes.models import ContentType
from integrations.models import InboundDelivery
from orders.models import Order
from warehouse.models import ExceptionItem
ct = ContentType.objects.get_for_model(InboundDelivery)
orders = set(Order.objects.values_list("pk", flat=True))
excs = {}
for object_id in ExceptionItem.objects.filter(content_type=ct).values_list("object_id", flat=True):
    excs[object_id] = excs.get(object_id, 0) + 1
rows = {d.delivery_id: [d.state, d.order_id in orders, excs.get(d.pk, 0)] for d in InboundDelivery.objects.all()}
ids = list(Order.objects.values_list("platform_order_id", flat=True))
print(json.dumps({"deliveries": rows, "orders": len(ids), "distinct_orders": len(set(ids))}))
"""


class Platform:
    """Sends each delivery until it is answered 2xx, as a platform does; records every answer."""

    def __init__(self, port: int, path: str) -> None:
        self.port, self.path = port, path
        self.answers: dict[str, list[int]] = {}
        self.lock = threading.Lock()
        # Deliveries after the first CRASH_AFTER wait for the crash: on a quick machine the whole burst could
        # otherwise be answered before PostgreSQL goes down, and the test would prove nothing (CI saw it).
        self.crashed = threading.Event()

    def deliver(self, n: int) -> None:
        key = f"rst-{n}"
        if n >= CRASH_AFTER:
            self.crashed.wait(timeout=180)
        body = json.dumps(shopify_order(60_000 + n)).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Hmac-Sha256": sign(body=body, secret=SECRET),
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Webhook-Id": key,
            "X-Shopify-Triggered-At": "2026-11-24T09:00:00.000Z",
        }
        deadline = time.monotonic() + RESEND_FOR
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                conn.request("POST", self.path, body=body, headers=headers)
                status = conn.getresponse().status
                conn.close()
            except OSError:
                status = 0  # connection refused or reset: the platform sees a failure and retries
            with self.lock:
                self.answers.setdefault(key, []).append(status)
            if 200 <= status < 300:
                return
            time.sleep(0.5)


def test_a_postgresql_crash_mid_burst_loses_no_delivery_answered_2xx(tmp_path):
    pg = ThrowawayPostgres()
    web = cluster = None
    try:
        pg.start()
        with psycopg.connect(f"{pg.url}/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE wh")
        production_like = {"DEBUG": "false", "SECRET_KEY": "fault-test-only-" + "x" * 50, "ALLOWED_HOSTS": "127.0.0.1"}
        env = hub_env(f"{pg.url}/wh", **production_like)
        subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True,
                       timeout=600)  # fmt: skip
        connection_id = int(django(env, SEED).split()[-1])
        port = _free_port()
        web = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--log-level", "warning"],
            cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        log = tmp_path / "worker.log"
        cluster = Cluster(f"{pg.url}/wh", log, **production_like)
        wait_until(lambda: _listening(port), within=60, what="gunicorn listens")

        platform = Platform(port, f"/webhooks/shopify/{connection_id}/")
        with ThreadPoolExecutor(SENDERS) as pool:
            futures = [pool.submit(platform.deliver, n) for n in range(DELIVERIES)]
            wait_until(lambda: len(platform.answers) >= CRASH_AFTER, within=120, what="the burst is under way")
            pg.crash()
            platform.crashed.set()
            time.sleep(2)
            pg.start()
            for future in futures:
                future.result()

        keys = [f"rst-{n}" for n in range(DELIVERIES)]
        answered = [k for k in keys if any(200 <= s < 300 for s in platform.answers.get(k, []))]
        refused = sum(1 for k in keys for s in platform.answers.get(k, []) if not 200 <= s < 300)
        assert answered == keys, "the platform's retries got every delivery in"
        assert refused > 0, "the crash refused deliveries (else the test proves nothing)"

        sweep = """
        import datetime as dt
        from django.utils import timezone
        from integrations.delivery_lifecycle import deliveries_sweep, sweep_after
        print(deliveries_sweep(now=timezone.now() + sweep_after() + dt.timedelta(seconds=1)))
        """

        def drained() -> bool:
            rows = json.loads(django(env, OUTCOMES).strip().splitlines()[-1])["deliveries"]
            if any(state == "received" for state, _, _ in rows.values()):
                django(env, sweep)  # the sweeper's next minutes, past their grace
                return False
            return True

        wait_until(drained, within=180, what="every delivery reaches an end", log=log)
        found = json.loads(django(env, OUTCOMES).strip().splitlines()[-1])
        rows = found["deliveries"]
        orders = exceptions = 0
        for key in answered:
            _state, has_order, n_exceptions = rows[key]
            assert (has_order, n_exceptions) in ((True, 0), (False, 1)), (key, rows[key])
            orders += has_order
            exceptions += n_exceptions
        assert found["orders"] == found["distinct_orders"] == orders
        assert orders + exceptions == DELIVERIES
        print(f"postgres crash: {refused} refused answers, {len(answered)} answered 2xx → {orders} orders, "
              f"{exceptions} exceptions")  # fmt: skip
    finally:
        if cluster is not None:
            cluster.stop()
        if web is not None:
            import os
            import signal

            os.killpg(web.pid, signal.SIGTERM)
            web.wait(timeout=30)
        pg.destroy()


def _listening(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False
