"""Issue 19 in a real browser: a brand user opens "Service levels" from the menu, reads attainment, target and
error budget beside the daily SVG chart, clicks the red day and reads the orders that missed with their timelines;
another brand's page is a 404. The same page fits a 375 px phone screen."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from reports.slo.rollup import slo_rollup
from tests.browser.test_narrow_screens import OFFENDERS_JS
from tests.integrations.factories import ConnectionFactory
from tests.reports.slo_history import order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def history(brand, other_brand):
    shop = ConnectionFactory(brand=brand, name="Acme Shopify")
    ConnectionFactory(brand=other_brand, name="Borealis Woo", platform="woocommerce", shop="https://b.example")
    bad_day = timezone.now().astimezone(dt.UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    bad_day -= dt.timedelta(days=2)
    for m in range(9):  # nine good minutes …
        order(shop, bad_day + dt.timedelta(minutes=m), 1)
    slow = order(shop, bad_day + dt.timedelta(minutes=9), 42)  # … and one 42 s order: 90 % of minutes, missed
    slo_rollup(days=30)
    return {"shop": shop, "slow": slow, "day": bad_day.date()}


def test_a_brand_user_reads_the_slo_page_opens_the_bad_day_and_cannot_see_another_brand(
    make_user, brand, other_brand, history, sign_in, live_server
):
    user = make_user("brand", brand=brand)
    page = sign_in(user)
    page.click("nav >> text=Service levels")
    page.wait_for_selector("h1:has-text('Service levels · Acme Apparel')")
    card = page.locator(f"section[data-slo=ingest][data-connection='{history['shop'].pk}']")
    assert "90 %" in card.locator("[data-attainment]").inner_text()
    assert card.locator("[data-target]").inner_text().startswith("99 %")
    assert card.locator("[data-budget]").inner_text() == "-900 %"  # 1 bad of 10 minutes, 0.1 minute allowed
    assert card.locator("svg.slo-chart rect").count() == 30
    bad = card.locator(f"svg.slo-chart rect.bad[data-day='{history['day'].isoformat()}']")
    assert bad.count() == 1

    bad.click()
    page.wait_for_selector("h1:has-text('Order ingest · missed on')")
    missed = page.locator("#missed section")
    assert missed.count() == 1
    slow = history["slow"]
    assert slow.platform_order_id in missed.inner_text()
    assert "42 s" in missed.locator("[data-took]").inner_text()
    assert missed.locator("ol.timeline li").count() >= 1  # the order's timeline, in the brand's words

    response = page.goto(f"{live_server.url}/slo/{other_brand.pk}/")
    assert response.status == 404
    assert "Borealis" not in page.content()


def test_the_slo_page_fits_a_phone_screen(make_user, brand, history, chromium, live_server):
    context = chromium.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    try:
        user = make_user("brand", brand=brand)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", "pw-for-tests-only")
        page.click("button[type=submit]")
        page.goto(f"{live_server.url}/slo/{brand.pk}/")
        page.wait_for_selector("svg.slo-chart")
        assert page.evaluate(OFFENDERS_JS) == []
        box = page.locator("svg.slo-chart").first.bounding_box()
        assert box is not None and box["width"] > 200  # the chart is drawn at the screen's width, not squashed
    finally:
        context.close()
