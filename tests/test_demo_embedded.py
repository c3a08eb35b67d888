"""The embedded default serves (issue 11, items 2 and 3): the demo's processes on a SQLite file, with the worker
running, never lose a write to a lock.

- The dropped-webhook story of the README: a `drop` fault on the Shopify simulator, an order created there, and the
  reconciler finds and ingests it within its cadence; no process logs "database is locked".
- A burst of webhooks while the worker writes: every delivery answered 2xx becomes exactly one order or one
  exception, counted in the database; duplicates sent meanwhile are answered 200, never 503.

Both tests share one start of the demo's processes (tests/demo_stack.py) on a temp file and ports, with the demo
connections' reconciler cadence at 1 minute; about three minutes in all, most of it migrating and seeding."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.demo_stack import DemoStack, demo_stack, get_json, post_json

ORDER = {"line_items": [{"sku": "TEE-M-BLUE", "quantity": 1}]}


def _rows(database: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as db:
        return db.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with demo_stack(tmp_path_factory.mktemp("demo"), DEMO_RECONCILE_MINUTES="1") as running:
        yield running


def _orders(stack: DemoStack, channel_id: int) -> dict[str, list[str]]:
    """Each platform order id of the sales channel → the states of the hub's orders holding it."""
    found: dict[str, list[str]] = {}
    for pid, state in _rows(
        stack.database,
        "SELECT platform_order_id, state FROM orders_order WHERE channel_id = ?",
        channel_id,
    ):
        found.setdefault(pid, []).append(state)
    return found


def test_a_dropped_webhook_is_found_by_the_reconciler_within_its_cadence_on_the_embedded_database(stack):
    shop = stack.connection("shopify")
    sim = shop["simulator_url"]
    assert post_json(f"{sim}/_sim/faults", {"mode": "drop"})["fault"]["target"] == "webhook"
    created = post_json(f"{sim}/_sim/orders", ORDER)
    order_id = str(created["order"]["id"])
    assert [w["note"] for w in created["webhooks"]] == ["dropped"], "the platform's webhook never left"
    assert order_id not in _orders(stack, shop["channel"])

    # The reconciler's dispatcher runs every minute and the demo connection's cadence is 1 minute here: the order
    # must be in the hub within two cadences and the scheduler's 30-second tick.
    deadline = time.monotonic() + 180
    while order_id not in _orders(stack, shop["channel"]) and time.monotonic() < deadline:
        time.sleep(1)
    waited = 180 - (deadline - time.monotonic())
    assert _orders(stack, shop["channel"]).get(order_id) == ["accepted"], stack.log("worker")[-3000:]
    runs = _rows(
        stack.database,
        "SELECT outcome, missing, replayed FROM integrations_reconcilerun WHERE connection_id = ? AND missing > 0",
        shop["id"],
    )
    assert ("ok", 1, 1) in runs, runs
    replayed = _rows(
        stack.database,
        "SELECT source, state FROM integrations_inbounddelivery WHERE connection_id = ? AND platform_order_id = ?",
        shop["id"], order_id,
    )  # fmt: skip
    assert replayed == [("reconciler", "processed")], replayed
    # A run in progress finishes (a run that died on a lock used to stay "running" for good), and every run is ok.
    deadline = time.monotonic() + 60
    while _rows(stack.database, "SELECT id FROM integrations_reconcilerun WHERE outcome = 'running'"):
        assert time.monotonic() < deadline, _rows(stack.database, "SELECT * FROM integrations_reconcilerun")
        time.sleep(1)
    assert _rows(stack.database, "SELECT DISTINCT outcome FROM integrations_reconcilerun") == [("ok",)]
    assert stack.lock_errors() == dict.fromkeys(stack.processes, 0), stack.log("worker")[-3000:]
    print(f"dropped order found by the reconciler after {waited:.0f} s")


def test_a_burst_of_webhooks_with_the_worker_running_loses_nothing_on_the_embedded_database(stack):
    """60 orders created on the simulator from 12 threads (each delivered as a signed webhook), every fourth one
    delivered twice (the simulator's `duplicate` fault): while the worker ingests, every answer is 200, and each order
    answered 2xx is exactly one hub order (an order on hold carries its exception), or, without an order, one
    exception item about its delivery."""
    shop = stack.connection("shopify")
    sim = shop["simulator_url"]
    post_json(f"{sim}/_sim/faults", {"mode": "duplicate", "times": 15})
    started = time.monotonic()
    with ThreadPoolExecutor(12) as pool:
        burst = {
            str(created["order"]["id"])
            for created in pool.map(lambda _: post_json(f"{sim}/_sim/orders", ORDER, timeout=60), range(60))
        }
    # What the platform saw: each delivery of these orders with the hub's answer.
    answers = [
        (str(w["order_id"]), w["status"], w["note"])
        for w in get_json(f"{sim}/_sim/ledger")["webhooks"]
        if str(w["order_id"]) in burst
    ]
    statuses = Counter(status for _, status, _ in answers)
    # 60 first deliveries + 15 duplicates, none refused: no 503 (a lock) and no other error. On a loaded machine the
    # development server may not accept a connection within the simulator's 1 s (the platform's retry covers it):
    # such a timeout (None) is no 2xx, so it is left out of the count below, and it must stay rare.
    assert set(statuses) <= {200, None} and statuses[200] >= 72, statuses
    sent = Counter(pid for pid, _, _ in answers)
    assert sorted(Counter(sent.values()).items()) == [(1, 45), (2, 15)], "15 orders' webhooks went twice"
    answered = {pid for pid, status, _ in answers if status is not None and 200 <= status < 300}
    assert len(answered) >= 58, answered

    deadline = time.monotonic() + 120
    pending = [(0,)]
    while time.monotonic() < deadline:
        pending = _rows(
            stack.database,
            "SELECT count(*) FROM integrations_inbounddelivery WHERE connection_id = ? AND state = 'received'",
            shop["id"],
        )
        if pending == [(0,)] and answered <= set(_orders(stack, shop["channel"])):
            break
        time.sleep(1)
    assert pending == [(0,)], "every delivery was processed"
    print(f"burst of 75 deliveries answered and drained in {time.monotonic() - started:.1f} s")

    orders = _orders(stack, shop["channel"])
    deliveries = dict(
        _rows(
            stack.database,
            "SELECT platform_order_id, count(*) FROM integrations_inbounddelivery WHERE connection_id = ? "
            "AND source = 'webhook' GROUP BY platform_order_id",
            shop["id"],
        )
    )
    delivery_exceptions = dict(
        _rows(
            stack.database,
            "SELECT d.platform_order_id, count(*) FROM warehouse_exceptionitem e "
            "JOIN django_content_type t ON t.id = e.content_type_id AND t.model = 'inbounddelivery' "
            "JOIN integrations_inbounddelivery d ON d.id = e.object_id WHERE d.connection_id = ? "
            "GROUP BY d.platform_order_id",
            shop["id"],
        )
    )
    outcome = Counter()
    for pid in answered:
        assert deliveries.get(pid) == 1, f"order {pid}: one stored delivery, duplicates were recognised"
        held_as = len(orders.get(pid, [])) + (0 if pid in orders else delivery_exceptions.get(pid, 0))
        assert held_as == 1, f"order {pid}: orders {orders.get(pid)}, exceptions {delivery_exceptions.get(pid)}"
        outcome["order" if pid in orders else "exception"] += 1
    assert outcome["order"] + outcome["exception"] == len(answered), outcome
    assert stack.lock_errors() == dict.fromkeys(stack.processes, 0), stack.log("worker")[-3000:]
