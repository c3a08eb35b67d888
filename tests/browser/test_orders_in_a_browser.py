"""Issue 4 §8 in a real browser: a manager fixes an on-hold order's address from the exception queue and the order
moves on; a brand user gets 404 on another brand's order URL."""

import pytest

from orders.models import OrderState
from orders.services import order_ingest
from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line, stocked_sku

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def held(brand, facility):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    return order_ingest(
        canonical=CanonicalOrderFactory(
            platform_order_id="#1001", lines=(line("TEE-M"),), address=CanonicalAddressFactory(postal_code="")
        ),
        brand=brand,
    ).order


def test_a_manager_fixes_an_on_hold_orders_address_from_the_queue_and_it_moves_on(
    make_user, held, sign_in, live_server
):
    assert held.state == OrderState.ON_HOLD
    page = sign_in(make_user("warehouse_manager"))
    page.goto(f"{live_server.url}/exceptions/?kind=order_on_hold")
    page.click(f"a[href='/orders/{held.pk}/']")
    assert page.locator("[data-state]").first.get_attribute("data-state") == "on_hold"
    page.fill("#id_delivery_postal_code", "46001")
    page.fill("#id_note", "Customer confirmed the ZIP by phone")
    page.click("#fix-delivery button[type=submit]")
    page.wait_for_selector("text=Order updated.")
    assert page.locator("h1 [data-state]").get_attribute("data-state") == "accepted"
    held.refresh_from_db()
    assert held.state == OrderState.ACCEPTED
    page.goto(f"{live_server.url}/exceptions/?kind=order_on_hold")
    assert page.locator("text=Nothing waiting").is_visible()


def test_a_brand_user_gets_404_on_another_brands_order(make_user, brand, other_brand, facility, sign_in, live_server):
    stocked_sku(brand=other_brand, facility=facility, code="SERUM", units=5)
    theirs = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#B1", lines=(line("SERUM"),)), brand=other_brand
    ).order
    page = sign_in(make_user("brand", brand=brand))
    assert page.url.endswith("/orders/")
    response = page.goto(f"{live_server.url}/orders/{theirs.pk}/")
    assert response.status == 404
    assert "#B1" not in page.content()


def test_a_finance_user_sees_no_change_buttons_on_an_order(make_user, held, sign_in, live_server):
    page = sign_in(make_user("finance"))
    page.goto(f"{live_server.url}/orders/{held.pk}/")
    assert page.locator("text=Where it is now").is_visible()
    assert page.locator("#fix-delivery").count() == 0
    page.goto(f"{live_server.url}/admin/orders/order/{held.pk}/change/")
    assert page.locator(".console-state").is_visible()
    assert page.locator(".console-transition button").count() == 0
    assert page.locator(".console-force").count() == 0
    assert page.locator("input[type=submit]").count() == 0
