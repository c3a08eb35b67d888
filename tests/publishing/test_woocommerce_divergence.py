"""Divergence on WooCommerce, against the simulator over real HTTP: a stock number changed in the WordPress admin
beyond the threshold opens one exception and the WMS number is written back (the simulator's ledger shows the
corrective REST write after the manual edit); within the threshold nothing happens; the read-back follows the
products list across pages and reads variations."""

import re

import pytest
import requests

from integrations.models import AuditRecord
from integrations.outbox.models import OutboundMessage
from integrations.outbox.services import outbox_drain
from integrations.platforms.woocommerce import client as woo_client
from integrations.publishing.services import publishing_check_divergence, publishing_run_cycle
from inventory.services import stock_receive
from tests.inventory.factories import SkuFactory
from tests.publishing.factories import ListingFactory
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]

PRODUCTS = (300, 301, 302)
VARIABLE, VARIATION = 400, 40001


def _drain():
    report = outbox_drain(limit=200)
    assert report.dead == 0 and report.retried == 0, report
    return report


def _history(sim, product_id, variation_id=0):
    return [
        (h["via"], h["stock_quantity"])
        for h in sim.ledger()["stock_history"]
        if (h["product_id"], h["variation_id"]) == (product_id, variation_id)
    ]


def _edit_in_admin(sim, product_id, quantity, variation_id=0):
    """A person changes the stock in the WordPress admin (the simulator's control endpoint, over HTTP)."""
    body = {"product_id": product_id, "variation_id": variation_id, "stock_quantity": quantity}
    requests.post(f"{sim.url}/_sim/stock", json=body, timeout=5).raise_for_status()


def _open_divergences():
    return ExceptionItem.objects.filter(kind=ExceptionKind.INVENTORY_DIVERGENCE, state=ExceptionState.OPEN)


@pytest.fixture
def catalog(brand, facility, woo_shop, woo_sim):
    """Three simple products and one variation on the shop, listed for four SKUs with 50 units each, published."""
    skus = [SkuFactory(brand=brand, code=f"WOO-{i}") for i in range(4)]
    for sku, product_id in zip(skus, PRODUCTS, strict=False):
        woo_sim.add_product(product_id=product_id, sku=sku.code)
        ListingFactory(connection=woo_shop, sku=sku, external_id=str(product_id))
    woo_sim.add_product(product_id=VARIABLE, sku="WOO-TEE", variations=[{"id": VARIATION, "sku": skus[3].code}])
    ListingFactory(connection=woo_shop, sku=skus[3], external_id=f"{VARIABLE}/{VARIATION}")
    for sku in skus:
        stock_receive(sku=sku, facility=facility, quantity=50, event_id=f"rcv-{sku.code}", actor=None)
    assert publishing_run_cycle().written == 4
    _drain()
    return skus


def test_a_manual_edit_beyond_the_threshold_opens_one_exception_and_the_wms_number_is_written_back(
    catalog, woo_shop, woo_sim
):
    hot, warm = catalog[0], catalog[1]
    _edit_in_admin(woo_sim, 300, 80)
    _edit_in_admin(woo_sim, 301, 51)  # within ±5%: left alone

    first = publishing_check_divergence(connection=woo_shop)
    again = publishing_check_divergence(connection=woo_shop)  # before the correction went out

    assert first.checked == 4
    assert first.diverged == [hot.pk] and first.manual_edits == [hot.pk] and not first.spike
    item = _open_divergences().get()
    assert item.subject == hot and item.detail["connection"] == woo_shop.pk
    assert (item.detail["wms"], item.detail["channel"], item.detail["last_pushed"]) == (50, 80, 50)
    assert {r["code"] for r in item.reasons} == {"channel_diverges", "edited_on_platform"}
    # The read-back that saw the edit is in the connection's audit log.
    assert AuditRecord.objects.filter(connection=woo_shop, method="GET", endpoint__contains="/products").exists()
    assert again.diverged == [] and again.checked == 3  # the SKU with a queued correction is not read again

    _drain()
    assert _history(woo_sim, 300) == [("api", 50), ("admin", 80), ("api", 50)]  # published, edited, corrected
    assert _history(woo_sim, 301) == [("api", 50), ("admin", 51)]  # no corrective write within the threshold
    assert publishing_check_divergence(connection=woo_shop).diverged == []
    assert _open_divergences().count() == 1  # never auto-resolved: a person reads the edit trail
    assert warm.pk not in first.diverged


def test_an_edit_within_the_threshold_changes_nothing(catalog, woo_shop, woo_sim):
    queued = OutboundMessage.objects.count()
    _edit_in_admin(woo_sim, 302, 48)  # 4% below the WMS number

    result = publishing_check_divergence(connection=woo_shop)

    assert result.checked == 4 and result.diverged == [] and result.manual_edits == []
    assert not _open_divergences().exists()
    assert OutboundMessage.objects.count() == queued
    assert _history(woo_sim, 302)[-1] == ("admin", 48)


def test_a_variation_edited_on_the_shop_is_read_back_and_corrected(catalog, woo_shop, woo_sim):
    tee = catalog[3]
    _edit_in_admin(woo_sim, VARIABLE, 0, variation_id=VARIATION)

    result = publishing_check_divergence(connection=woo_shop)
    _drain()

    assert result.diverged == [tee.pk]
    assert _open_divergences().get().detail["channel"] == 0
    assert _history(woo_sim, VARIABLE, VARIATION) == [("api", 50), ("admin", 0), ("api", 50)]
    assert AuditRecord.objects.filter(
        connection=woo_shop, method="GET", endpoint__contains=f"/products/{VARIABLE}/variations/{VARIATION}"
    ).exists()


def test_the_read_back_follows_the_products_list_across_pages(catalog, woo_shop, woo_sim, monkeypatch):
    monkeypatch.setattr(woo_client, "PER_PAGE", 2)  # three listed products: two pages
    last = catalog[2]
    _edit_in_admin(woo_sim, 302, 10)  # the product on the second page (the list is in id order)

    result = publishing_check_divergence(connection=woo_shop)

    assert result.checked == 4 and result.diverged == [last.pk]
    reads = AuditRecord.objects.filter(connection=woo_shop, method="GET", endpoint__contains="/products?")
    assert sorted(re.search(r"[?&]page=(\d+)", r.endpoint)[1] for r in reads) == ["1", "2"]
    assert all("per_page=2" in r.endpoint and "include=300,301,302" in r.endpoint for r in reads)
