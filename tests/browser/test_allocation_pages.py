"""Issue 6 §1 and §3 in a real browser: a manager follows the "At risk" link and sees an order about to miss its
cutoff; an administrator's invalid policy edit is refused with the reason, the corrected one is kept in history."""

import datetime as dt

import pytest
from django.utils import timezone

from orders.allocation.services import allocation_policy_update
from orders.services import order_ingest
from tests.orders.factories import CanonicalOrderFactory, line, stocked_sku

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_opens_the_at_risk_page_and_sees_the_order_about_to_miss_its_cutoff(
    make_user, brand, facility, sign_in, live_server
):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=5)
    now = timezone.now()
    due = order_ingest(
        canonical=CanonicalOrderFactory(
            platform_order_id="#RISK1", lines=(line("TEE-M"),), paid_at=now, ship_by=now + dt.timedelta(minutes=40)
        ),
        brand=brand,
    ).order
    page = sign_in(make_user("warehouse_manager"))

    page.click("nav >> text=At risk")
    page.wait_for_selector("h1:has-text('Orders at risk')")

    row = page.locator(f"tr[data-order='{due.pk}']")
    assert row.is_visible()
    assert "#RISK1" in row.inner_text() and "VLC1" in row.inner_text()
    assert row.locator("[data-time-left]").inner_text().endswith("min left")
    row.locator("a").click()
    page.wait_for_url(f"**/orders/{due.pk}/")


def test_an_administrator_fixes_an_invalid_policy_edit_and_the_history_keeps_why(
    make_user, brand, sign_in, live_server
):
    policy = allocation_policy_update(brand=brand, actor=None, reason="initial")
    admin = make_user("administrator")
    page = sign_in(admin)
    page.goto(f"{live_server.url}/admin/allocation/allocationpolicy/{policy.pk}/change/")

    page.fill("#id_class_order", "standard, wholesale")
    page.fill("#id_change_reason", "SLA first for Black Friday")
    page.click("input[name=_save]")
    error = page.wait_for_selector(".errorlist >> text=Missing:")
    assert error.inner_text() == "Missing: preorder, marketplace_sla."

    page.fill("#id_class_order", "marketplace_sla, wholesale, preorder, standard")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    page.goto(f"{live_server.url}/admin/allocation/allocationpolicy/{policy.pk}/history/")
    assert page.wait_for_selector("text=SLA first for Black Friday").is_visible()
    policy.refresh_from_db()
    assert policy.class_order[0] == "marketplace_sla"
