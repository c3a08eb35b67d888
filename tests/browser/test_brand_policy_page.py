"""Seed 000 "the brand sees the allocation policy in their console and can adjust it", in a real browser: a brand
user follows the menu link, puts marketplace SLA orders first with a reason, and sees the new order and the change."""

import pytest

from orders.allocation.models import AllocationPolicy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_brand_user_changes_the_class_order_and_sees_it_on_the_page(make_user, brand, sign_in):
    user = make_user("brand", brand=brand)
    page = sign_in(user)

    page.click("nav >> text=Allocation policy")
    page.wait_for_selector("h1:has-text('Allocation policy · Acme Apparel')")
    assert page.locator("[data-default]").is_visible()
    assert page.locator("[data-class-order] li").first.inner_text().startswith("Wholesale")

    page.fill("#id_class_order", "marketplace_sla, wholesale, preorder, standard")
    page.fill("#id_change_reason", "Amazon Prime orders first")
    page.click("#adjust-policy button[type=submit]")
    page.wait_for_selector("text=is saved")

    served = page.locator("[data-class-order] li").all_inner_texts()
    assert served[0].startswith("Marketplace SLA") and served[-1].startswith("Standard")
    assert page.locator("[data-default]").count() == 0
    history = page.locator("#history tbody tr").first.inner_text()
    assert user.username in history and "Amazon Prime orders first" in history
    assert AllocationPolicy.objects.get(brand=brand).class_order[0] == "marketplace_sla"
