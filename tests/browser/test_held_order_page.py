"""Issue 10 §2 in a real browser, clicking what the order page shows: a warehouse manager fixes a held order's unknown
SKU code through an alias created on the page, and its zero quantity, and sees it accepted; a forced validation from
the page is not held again, and the page offers the order's next step."""

import datetime as dt

import pytest

from inventory.models import SkuAlias
from orders.canonical import CanonicalAddress
from orders.models import Order, OrderState
from orders.services import order_ingest
from tests.orders.factories import T0, CanonicalOrderFactory, line, stocked_sku
from warehouse.models import ExceptionItem, ExceptionState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def state_on_page(page):
    return page.locator("h1 [data-state]").get_attribute("data-state")


def test_a_manager_fixes_an_unknown_sku_through_a_new_alias_and_a_zero_quantity_and_sees_the_order_accepted(
    brand, facility, make_user, sign_in, live_server
):
    tee = stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    held = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#2001", lines=(line("tee-med", 0),)), brand=brand
    ).order
    assert held.state == OrderState.ON_HOLD
    page = sign_in(make_user("warehouse_manager"))
    page.goto(f"{live_server.url}/orders/{held.pk}/")
    assert state_on_page(page) == "on_hold"
    fix = page.locator("#fix-line-1")
    assert fix.locator("#candidates-1 li[data-sku='TEE-M']").is_visible()  # offered: it looks like tee-med

    fix.locator("select[name=sku]").select_option("TEE-M")
    fix.locator("form.alias-create button[type=submit]").click()
    page.wait_for_selector("text=Alias created: tee-med means TEE-M")
    alias = SkuAlias.objects.get(brand=brand, code="tee-med")
    assert alias.sku == tee and (alias.valid_until - alias.valid_from).days == 31  # today and 30 more days
    assert state_on_page(page) == "on_hold"  # the quantity is still 0

    page.fill("#id_line1_quantity", "2")
    page.locator("#fix-line-1 form.line-edit button[type=submit]").click()
    page.wait_for_selector("text=Line 1 saved and the order re-checked.")
    assert state_on_page(page) == "accepted"
    assert page.locator("#line-1 [data-line-state='ok']").is_visible()
    held.refresh_from_db()
    assert held.state == OrderState.ACCEPTED
    assert held.allocated_stock() == [[tee.pk, 2]]
    assert list(ExceptionItem.objects.filter(object_id=held.pk).values_list("state", flat=True)) == [
        ExceptionState.RESOLVED
    ]


def test_a_manager_forces_a_validation_from_the_order_page_and_it_is_not_held_again(
    brand, facility, make_user, sign_in, live_server
):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    held = order_ingest(
        canonical=CanonicalOrderFactory(
            platform_order_id="#2002",
            lines=(line("TEE-M", 1),),
            address=CanonicalAddress(street1="Finca El Olivar", city="Xàtiva", country="ES"),
        ),
        brand=brand,
    ).order
    assert [r["code"] for r in held.hold_reasons] == ["postal_code_missing"]
    page = sign_in(make_user("warehouse_manager"))
    page.goto(f"{live_server.url}/orders/{held.pk}/")
    page.fill("#force input[name=reason]", "Rural address: the carrier delivers without a ZIP")
    page.click("#force button[type=submit]")
    page.wait_for_selector("text=Forced validate, reason recorded.")
    assert state_on_page(page) == "accepted"
    held.refresh_from_db()
    assert held.state == OrderState.ACCEPTED
    items = ExceptionItem.objects.filter(object_id=held.pk)
    assert [(x.state, x.decision_note) for x in items] == [
        (ExceptionState.RESOLVED, "Forced: Rural address: the carrier delivers without a ZIP")
    ]

    # The page offers the next step the manager may take now, as the console does.
    page.click(".order-action[data-action='release_to_pick'] button[type=submit]")
    page.wait_for_selector("text=Release to pick: done.")
    assert state_on_page(page) == "picking"
    assert Order.objects.get(pk=held.pk).state == OrderState.PICKING


def test_a_finance_user_sees_the_order_but_no_fix_or_action(brand, facility, make_user, sign_in, live_server):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    held = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#2003", lines=(line("TEE-MED", 0),)), brand=brand
    ).order
    page = sign_in(make_user("finance"))
    page.goto(f"{live_server.url}/orders/{held.pk}/")
    assert page.locator("#line-1").is_visible()
    for selector in (".line-fix", ".alias-create", ".order-action", "#force", "#recheck"):
        assert page.locator(selector).count() == 0, selector


def test_a_platform_update_to_a_field_a_person_fixed_waits_on_the_order_page_for_their_decision(
    brand, facility, make_user, sign_in, live_server
):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    canonical = CanonicalOrderFactory(platform_order_id="#2004", lines=(line("TEE-M", 1),), phone="600")
    order = order_ingest(canonical=canonical, brand=brand).order
    assert order.state == OrderState.ON_HOLD  # the phone is not a phone
    page = sign_in(make_user("warehouse_manager"))
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.fill("#id_contact_phone", "+34 600 123 456")
    page.click("#fix-delivery button[type=submit]")
    page.wait_for_selector("text=Order updated.")
    assert state_on_page(page) == "accepted"

    later = CanonicalOrderFactory(
        platform_order_id="#2004", lines=(line("TEE-M", 1),), phone="+34 611 000 000", updated_at=T0 + dt.timedelta(1)
    )
    order_ingest(canonical=later, brand=brand)
    assert Order.objects.get(pk=order.pk).contact_phone == "+34 600 123 456"  # ours is kept

    page.goto(f"{live_server.url}/orders/{order.pk}/")
    row = page.locator("#conflicts + .table-scroll tr[data-field='contact_phone']")
    assert "+34 611 000 000" in row.inner_text()
    assert ExceptionItem.objects.filter(object_id=order.pk, kind="order_update_conflict", state="open").count() == 1
    row.locator("button[value=platform]").click()
    page.wait_for_selector("text=Decision recorded.")
    assert page.locator("#conflicts").count() == 0
    order.refresh_from_db()
    assert order.contact_phone == "+34 611 000 000" and order.platform_conflicts == {}
    assert order.state == OrderState.ACCEPTED
    assert "+34 611 000 000" in page.locator("dl.facts").inner_text()
