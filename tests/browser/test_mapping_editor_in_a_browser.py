"""Issue 13 §3 in a real browser: from the connection's console page an administrator opens the mapping editor,
picks a source and a transform, tries to save without a reason (one error, their choices stay), then previews the
dry run (old and new side by side) and saves; the mapping and the history's who and why are in the database. The
page fits a 375 px phone screen."""

from __future__ import annotations

import json

import pytest

from integrations.models import InboundDelivery
from integrations.platforms.registry import connector_for
from tests.browser.test_narrow_screens import OFFENDERS_JS
from tests.integrations.factories import ConnectionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_administrator_fixes_a_mapping_mistake_previews_and_saves(make_user, sign_in, live_server):
    shop = ConnectionFactory(name="Acme Shopify")
    example = connector_for("shopify").example_orders()[0]
    InboundDelivery.objects.create(
        connection=shop, delivery_id="web-1", body=json.dumps(example).encode(), topic="orders/create"
    )
    admin = make_user("administrator")
    page = sign_in(admin)
    page.goto(f"{live_server.url}/admin/integrations/connection/{shop.pk}/change/")
    page.click("#edit-mappings")
    page.wait_for_selector("h1:has-text('Mappings · Acme Shopify')")

    city = "select[name='transform:address.city']"
    phone = "select[name='source:phone']"
    page.select_option(city, "upper")
    page.select_option(phone, "billing_address.phone")
    page.click("#preview")
    page.wait_for_selector("#dry-run [data-delivery='web-1']")
    page.click("#save")  # the mistake: no reason

    errors = page.wait_for_selector("#mapping-errors")
    assert page.locator("#mapping-errors li").count() == 1
    assert "Say why" in errors.inner_text() and "Nothing was saved" in errors.inner_text()
    assert page.locator(".messages").count() == 0 and page.locator("#dry-run").count() == 0
    assert page.input_value(city) == "upper" and page.input_value(phone) == "billing_address.phone"
    shop.refresh_from_db()
    assert shop.field_mapping == {}

    page.fill("#reason", "City in capitals for the carrier labels")
    page.click("#preview")
    changed = page.wait_for_selector("#dry-run [data-delivery='web-1'] tr.changed[data-field='address.city']")
    old, new = (cell.inner_text() for cell in changed.query_selector_all("td")[1:])
    assert (old, new) == ('"Louisville"', '"LOUISVILLE"') and changed.query_selector("mark") is not None
    assert page.locator("#mapping-errors").count() == 0

    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate(OFFENDERS_JS) == []
    page.set_viewport_size({"width": 1280, "height": 900})

    page.click("#save")
    page.wait_for_selector(".messages >> text=are saved")
    assert page.locator("#mapping-errors").count() == 0
    assert "City in capitals for the carrier labels" in page.inner_text("#history")
    assert page.input_value(city) == "upper"
    shop.refresh_from_db()
    assert shop.field_mapping == {
        "address.city": {"from": "shipping_address.city", "transform": "upper"},
        "phone": "billing_address.phone",
    }
    last = shop.history.order_by("-history_date").first()
    assert last.history_user == admin and last.history_change_reason == "City in capitals for the carrier labels"
