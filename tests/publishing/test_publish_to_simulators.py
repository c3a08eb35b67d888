"""On the platform simulators (real HTTP on loopback, through the outbound queue): a burst of stock events becomes
one write per SKU and channel with the latest number; a channel that diverges beyond the threshold gets one
exception and is corrected; a desync spike quarantines the SKUs and runs a targeted reconcile."""

import pytest

from integrations.models import AuditRecord
from integrations.outbox.services import outbox_drain
from integrations.publishing.models import PublishedLevel, PublishQuarantine
from integrations.publishing.services import (
    publish_settings_set,
    publishing_check_divergence,
    publishing_run_cycle,
)
from inventory.services import stock_adjust, stock_allocate, stock_cycle_count, stock_receive
from tests.conftest import grant
from tests.factories import UserFactory
from tests.inventory.factories import SkuFactory
from tests.publishing.factories import ListingFactory
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = pytest.mark.django_db

LOCATION = 905684977


def _inventory_writes(sim):
    return [r for r in sim.ledger()["requests"] if r["path"].endswith("inventory_levels/set.json")]


def _woo_writes(sim):
    """Stock numbers the shop's REST API changed (one by one or in a batch call)."""
    return [row for row in sim.ledger()["stock_history"] if row["via"] == "api"]


def _woo_calls(sim):
    return [r["path"] for r in sim.ledger()["requests"] if "/products" in r["path"] and r["method"] in ("PUT", "POST")]


def _shopify_levels(sim):
    return {lvl["inventory_item_id"]: lvl["available"] for lvl in sim.ledger()["inventory_levels"]}


def _drain():
    report = outbox_drain(limit=200)
    assert report.dead == 0 and report.retried == 0, report
    return report


@pytest.fixture
def catalog(brand, facility, shop, woo_shop):
    """Three SKUs listed on both channels, 50 units each at the facility."""
    skus = [SkuFactory(brand=brand, code=f"PROMO-{i}") for i in range(3)]
    for i, sku in enumerate(skus):
        ListingFactory(connection=shop, sku=sku, external_id=str(7000 + i), location=str(LOCATION))
        ListingFactory(connection=woo_shop, sku=sku, external_id=str(300 + i))
        stock_receive(sku=sku, facility=facility, quantity=50, event_id=f"rcv-{sku.code}", actor=None)
    publishing_run_cycle()
    _drain()
    return skus


def test_a_burst_of_stock_events_produces_one_coalesced_write_per_sku_and_channel(
    catalog, facility, shopify_sim, woo_sim, woo_shop
):
    publish_settings_set(connection=woo_shop, safety_buffer=5)
    publishing_run_cycle()
    _drain()
    shopify_before, woo_before = len(_inventory_writes(shopify_sim)), len(_woo_writes(woo_sim))
    woo_calls_before = len(_woo_calls(woo_sim))
    hot, warm, quiet = catalog
    for i in range(30):
        stock_allocate(facility=facility, lines=[(hot, 1)], event_id=f"burst-hot-{i}", actor=None)
    for i in range(10):
        stock_allocate(facility=facility, lines=[(warm, 1)], event_id=f"burst-warm-{i}", actor=None)

    cycle = publishing_run_cycle()
    _drain()

    assert cycle.written == 4  # 2 SKUs × 2 channels, for 40 stock events
    assert len(_inventory_writes(shopify_sim)) - shopify_before == 2
    assert len(_woo_writes(woo_sim)) - woo_before == 2
    assert _woo_calls(woo_sim)[woo_calls_before:] == ["/wp-json/wc/v3/products/batch"]  # both in one bulk call
    assert _shopify_levels(shopify_sim) == {7000: 20, 7001: 40, 7002: 50}
    woo_stock = {item["product_id"]: item["stock_quantity"] for item in woo_sim.ledger()["stock"]}
    assert woo_stock == {300: 15, 301: 35, 302: 45}  # less the 5-unit safety buffer
    assert quiet.pk


def test_a_completed_cycle_count_publishes_in_bulk(catalog, facility, shopify_sim):
    approver = grant(UserFactory(username="counter"), "inventory.approve_cycle_count")
    before = len(_inventory_writes(shopify_sim))
    for sku, counted in zip(catalog, (48, 50, 47), strict=True):
        stock_cycle_count(sku=sku, facility=facility, counted=counted, event_id=f"count-{sku.code}", actor=approver,
                          approver=approver, reason="quarterly count")  # fmt: skip

    publishing_run_cycle()
    _drain()

    assert len(_inventory_writes(shopify_sim)) - before == 2  # the unchanged count is not re-sent
    assert _shopify_levels(shopify_sim) == {7000: 48, 7001: 50, 7002: 47}


def test_a_divergence_beyond_the_threshold_opens_one_exception_and_corrects_the_channel(catalog, shop, shopify_sim):
    hot = catalog[0]
    with shopify_sim.lock:  # someone edits the level in the Shopify admin
        shopify_sim.inventory_levels[(7000, LOCATION)]["available"] = 80
        shopify_sim.inventory_levels[(7001, LOCATION)]["available"] = 51  # within ±5%: left alone

    first = publishing_check_divergence(connection=shop)
    again = publishing_check_divergence(connection=shop)  # before the correction went out

    assert first.diverged == [hot.pk] and first.manual_edits == [hot.pk] and not first.spike
    items = ExceptionItem.objects.filter(kind=ExceptionKind.INVENTORY_DIVERGENCE, state=ExceptionState.OPEN)
    assert items.count() == 1
    item = items.get()
    assert item.detail["wms"] == 50 and item.detail["channel"] == 80 and item.detail["last_pushed"] == 50
    assert {r["code"] for r in item.reasons} == {"channel_diverges", "edited_on_platform"}
    # The edit is surfaced with the audit trail: the read-back that saw it is in the connection's audit log.
    assert AuditRecord.objects.filter(connection=shop, method="GET", endpoint__contains="inventory_levels").exists()
    assert item.detail["read_at"] and item.detail["last_pushed_at"]
    assert again.checked == 2  # the SKU with a queued correction is not read as diverging again

    _drain()
    assert _shopify_levels(shopify_sim)[7000] == 50
    assert publishing_check_divergence(connection=shop).diverged == []
    assert items.count() == 1  # never auto-resolved: a person reads the edit trail


def test_a_desync_spike_quarantines_writes_for_the_skus_and_runs_a_targeted_reconcile(
    catalog, facility, shop, shopify_sim
):
    publish_settings_set(connection=shop, spike_skus=3)
    assert publishing_run_cycle().written == 0  # a new threshold changes no number
    with shopify_sim.lock:
        for item in (7000, 7001, 7002):
            shopify_sim.inventory_levels[(item, LOCATION)]["available"] = 0

    result = publishing_check_divergence(connection=shop)

    assert result.spike and sorted(result.diverged) == sorted(s.pk for s in catalog)
    assert PublishQuarantine.objects.filter(connection=shop, released_at__isnull=True).count() == 3
    assert ExceptionItem.objects.filter(dedupe_key=f"inventory_divergence:spike:{shop.pk}").count() == 1
    # While quarantined, streaming writes for those SKUs stop …
    stock_adjust(sku=catalog[0], facility=facility, delta=-1, event_id="broken", actor=None, reason="broken")
    cycle = publishing_run_cycle()
    assert (cycle.quarantined, cycle.written) == (1, 1)  # Shopify paused for that SKU; WooCommerce still told
    # … and the targeted reconcile's own writes land; the next read-back releases the quarantine.
    _drain()
    assert _shopify_levels(shopify_sim) == {7000: 50, 7001: 50, 7002: 50}
    after = publishing_check_divergence(connection=shop)
    assert sorted(after.released) == sorted(s.pk for s in catalog)  # 49 vs 50 is within ±5%
    assert not PublishQuarantine.objects.filter(connection=shop, released_at__isnull=True).exists()
    assert PublishedLevel.objects.get(connection=shop, sku=catalog[0]).channel_quantity == 50
    publishing_run_cycle()  # what was skipped while quarantined goes out now
    _drain()
    assert _shopify_levels(shopify_sim)[7000] == 49


def test_the_scheduled_tasks_publish_what_is_dirty_and_read_every_channel_back(catalog, facility, shopify_sim):
    from integrations.publishing.tasks import check_divergence, publish_dirty

    stock_adjust(sku=catalog[2], facility=facility, delta=-10, event_id="damaged", actor=None, reason="water damage")
    assert publish_dirty() == 2  # Shopify and WooCommerce, once each
    _drain()
    with shopify_sim.lock:
        shopify_sim.inventory_levels[(7001, LOCATION)]["available"] = 3

    assert check_divergence() == 1  # Shopify's edit; WooCommerce is read back too and agrees
    assert _shopify_levels(shopify_sim)[7002] == 40
