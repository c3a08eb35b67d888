"""Issue 12, in a real browser: the console's connection form offers only the platforms the connector registry has,
and a connection added through it is for one of them."""

import pytest

from integrations.models import Connection
from integrations.services import connection_create

pytestmark = [pytest.mark.browser, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_the_add_form_offers_only_registered_platforms_and_saves_one(make_user, brand, sign_in, live_server):
    page = sign_in(make_user("administrator"))
    page.goto(f"{live_server.url}/admin/integrations/connection/add/")

    offered = page.locator("select[name=platform] option").evaluate_all("options => options.map(o => o.value)")
    assert offered == ["", "bigcommerce", "shopify", "woocommerce"]

    page.select_option("select[name=brand]", str(brand.pk))
    page.select_option("select[name=platform]", "woocommerce")
    page.fill("input[name=name]", "Borealis site")
    page.fill("input[name=shop]", "https://borealis.example")
    page.click("input[name=_save]")
    page.wait_for_selector("text=was added successfully")

    assert Connection.objects.get(channel__name="Borealis site").platform == "woocommerce"


def test_the_connection_page_copies_its_webhook_url(make_user, brand, sign_in, live_server):
    conn = connection_create(brand=brand, platform="shopify", name="Acme shop", shop="acme.myshopify.com", actor=None)
    page = sign_in(make_user("administrator"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(f"{live_server.url}/admin/integrations/connection/{conn.pk}/change/")
    assert page.input_value("#webhook-url") == f"{live_server.url}/webhooks/shopify/{conn.pk}/"
    assert page.locator("#webhook-topics li").count() == 3
    assert page.locator("#connection-health h2").inner_text() == "Status: Active"
    page.click("#copy-webhook-url")
    page.wait_for_selector("#copy-webhook-url:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == f"{live_server.url}/webhooks/shopify/{conn.pk}/"
