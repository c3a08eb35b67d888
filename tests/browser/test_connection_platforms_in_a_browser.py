"""Issue 12, in a real browser: the console's connection form offers only the platforms the connector registry has,
and a connection added through it is for one of them."""

import pytest

from integrations.models import Connection

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
