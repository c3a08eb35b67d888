"""Seed 001's inventory-sync acceptance test in a real browser: "We change inventory in the warehouse system and verify
the eCommerce platform reflects the change within the expected sync window."

A manager receives an expected inbound by scan on its page; operations count the shelf on the stock page and the
manager approves the count. After each change the worker's scheduled steps run (the very functions its schedules
name: the publishing cycle, then the outbox sweep), and the Shopify simulator shows the new available number. The
window is seed 001's shortest ("inventory levels are published on a defined schedule, typically every 15–60
minutes"): the schedules' cadence fits in it, and so does each measured delay from the ledger movement to the level
the platform stored. The ledger and the simulator are asserted at the end."""

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.module_loading import import_string

from integrations.outbox.models import MessageKind, MessageState, OutboundMessage
from integrations.outbox.schedules import SCHEDULES as OUTBOX_SCHEDULES
from integrations.platforms.shopify.simulator import ShopifySimulator
from integrations.publishing.models import DirtyStock, PublishedLevel
from integrations.publishing.schedules import SCHEDULES as PUBLISHING_SCHEDULES
from inventory.models import Movement, MovementKind, StockLevel
from inventory.receiving import expected_inbound_create
from inventory.services import stock_receive
from tests.browser.test_narrow_screens import OFFENDERS_JS
from tests.integrations.factories import ConnectionFactory
from tests.inventory.factories import SkuFactory
from tests.publishing.factories import ListingFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PUBLISHING_WINDOW = dt.timedelta(minutes=15)  # seed 001, "Integration Patterns": every 15–60 minutes, the shortest
WORKER_STEPS = ("publishing.publish_dirty", "outbox.drain_due")  # stock → outbox rows → the platform's API
BARCODE = "8412345000017"
TOKEN = "shpat_inventory_sync_3b9d"
LISTING, LOCATION = "7301", "905684977"


@pytest.fixture
def shopify_sim(settings):
    settings.OUTBOX_HTTP = {"connect_timeout": 0.5, "read_timeout": 2.0, "retry_attempts": 2}
    with ShopifySimulator.running(access_token=TOKEN, bucket_size=400, hang_seconds=0.5) as sim:
        yield sim


def _schedule(name):
    return next(row for row in (*PUBLISHING_SCHEDULES, *OUTBOX_SCHEDULES) if row["name"] == name)


def _worker_runs_its_schedules():
    """What the worker does on its next minute: each scheduled step, by the function its schedule names."""
    for name in WORKER_STEPS:
        import_string(_schedule(name)["func"])()
    assert not OutboundMessage.objects.exclude(state=MessageState.SENT).exists(), "every write reached the platform"


def _shopify_level(sim):
    """The level the platform stores for our listing: (available, when it was set)."""
    level = next(lvl for lvl in sim.ledger()["inventory_levels"] if str(lvl["inventory_item_id"]) == LISTING)
    return level["available"], dt.datetime.fromisoformat(level["updated_at"])


def _delay(movement, set_at):
    """From the ledger movement to the level the platform stored (the simulator stamps whole seconds)."""
    return set_at - movement.created_at.replace(microsecond=0)


def _stock(sku, facility):
    level = StockLevel.objects.get(sku=sku, facility=facility)
    return {"on_hand": level.on_hand, "available": level.available}


def _message(page, text):
    page.wait_for_selector(f".messages li:has-text({text!r})")


def test_a_receipt_and_a_count_reach_the_channels_simulator_within_the_publishing_window(
    brand, facility, make_user, sign_in, live_server, shopify_sim
):
    # The worker's schedules publish well inside the window: a stock change waits at most one publishing cycle,
    # then at most one outbox sweep (an enqueue also wakes the sweep at once).
    assert dt.timedelta(minutes=sum(_schedule(name)["minutes"] for name in WORKER_STEPS)) <= PUBLISHING_WINDOW

    tee = SkuFactory(brand=brand, code="TEE-M-BLUE", barcode=BARCODE)
    stock_receive(sku=tee, facility=facility, quantity=10, event_id="opening-stock", actor=None)
    shop = ConnectionFactory(brand=brand, platform="shopify", api_base_url=shopify_sim.url,
                             secrets={"credentials": {"access_token": TOKEN}})  # fmt: skip
    ListingFactory(connection=shop, sku=tee, external_id=LISTING, location=LOCATION)
    _worker_runs_its_schedules()
    assert _shopify_level(shopify_sim)[0] == 10
    inbound = expected_inbound_create(brand=brand, facility=facility, reference="ASN-2026-040",
                                      expected_on=timezone.localdate(), lines=[(tee, 6)], actor=None)  # fmt: skip
    manager, operator = make_user("warehouse_manager", username="mara"), make_user("operations", username="olga")

    # 1. The manager receives the inbound by scan on its page.
    page = sign_in(manager)
    page.goto(f"{live_server.url}/inbound/")
    page.click(f"a:has-text('{inbound.reference}')")
    page.fill("#id_scan", BARCODE)
    page.fill("#id_scan_quantity", "6")
    page.click("#scan button[type=submit]")
    _message(page, "6 × TEE-M-BLUE received into stock")
    assert page.locator("#line-1 [data-received]").inner_text() == "6"
    assert _stock(tee, facility) == {"on_hand": 16, "available": 16}
    assert DirtyStock.objects.filter(sku=tee).exists()  # marked for publishing in the receipt's transaction
    assert _shopify_level(shopify_sim)[0] == 10  # published by the worker's schedule, not inline

    _worker_runs_its_schedules()
    receipt = Movement.objects.get(sku=tee, kind=MovementKind.RECEIVE, reason__contains="ASN-2026-040 line 1")
    shown, set_at = _shopify_level(shopify_sim)
    assert shown == 16
    assert dt.timedelta(0) <= _delay(receipt, set_at) <= PUBLISHING_WINDOW

    # 2. Operations count the shelf; the manager approves the count on the same page.
    page.context.clear_cookies()
    page = sign_in(operator)
    page.goto(f"{live_server.url}/stock/?q=TEE-M-BLUE")
    row = page.locator("tr", has=page.locator("input[name=counted]"))
    row.locator("input[name=counted]").fill("14")
    row.locator("input[name=reason]").fill("Cycle count aisle 4: two torn")
    row.locator("button", has_text="Propose").click()
    _message(page, "sent for approval")
    assert _stock(tee, facility)["on_hand"] == 16  # nothing changes before a manager approves
    page.context.clear_cookies()
    page = sign_in(manager)
    page.goto(f"{live_server.url}/stock/")
    proposal = page.locator("#proposals tr", has_text="counted 14")
    assert "variance -2" in proposal.inner_text()
    proposal.locator("input[name=note]").fill("Torn tees binned")
    proposal.locator("button", has_text="Approve").click()
    _message(page, "Count approved")
    assert _stock(tee, facility) == {"on_hand": 14, "available": 14}
    assert _shopify_level(shopify_sim)[0] == 16

    _worker_runs_its_schedules()
    count = Movement.objects.get(sku=tee, kind=MovementKind.CYCLE_COUNT)
    shown, set_at = _shopify_level(shopify_sim)
    assert shown == 14
    assert dt.timedelta(0) <= _delay(count, set_at) <= PUBLISHING_WINDOW

    # The ledger explains every unit, and the platform saw each number once, in order.
    moves = Movement.objects.filter(sku=tee, facility=facility).order_by("pk")
    assert [(m.kind, m.on_hand_delta) for m in moves] == [
        (MovementKind.RECEIVE, 10),
        (MovementKind.RECEIVE, 6),
        (MovementKind.CYCLE_COUNT, -2),
    ]
    assert receipt.actor == manager
    assert (count.actor, count.approver) == (operator, manager)
    assert count.detail == {"expected": 16, "counted": 14, "variance": -2}
    assert count.reason.startswith("Cycle count aisle 4: two torn") and "Torn tees binned" in count.reason
    assert sum(m.on_hand_delta for m in moves) == _stock(tee, facility)["on_hand"]
    writes = OutboundMessage.objects.filter(connection=shop, kind=MessageKind.INVENTORY).order_by("pk")
    assert [(w.payload["sku"], w.payload["quantity"], w.state) for w in writes] == [
        ("TEE-M-BLUE", n, MessageState.SENT) for n in (10, 16, 14)
    ]
    assert PublishedLevel.objects.get(connection=shop, sku=tee).quantity == 14
    sets = [r for r in shopify_sim.ledger()["requests"] if r["path"].endswith("inventory_levels/set.json")]
    assert len(sets) == 3

    page.set_viewport_size({"width": 375, "height": 800})  # the stock page works on a phone
    page.reload()
    assert page.evaluate(OFFENDERS_JS) == []
