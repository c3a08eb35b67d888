"""Issue 16 §5 in a real browser at 375 px, as the warehouse manager who does it: a wholesale reservation entered in
the form (a quantity of 0 refused first, naming the field, nothing saved), a scheduled inbound for a pre-order SKU,
both listed; a pre-order claims that inbound, and receiving its expected inbound line on the inbound's page allocates
the pre-order in the same step (the database and the pages say so)."""

import datetime as dt

import pytest

from inventory.models import StockLevel
from inventory.services import stock_receive
from orders.allocation.models import ContractReservation, PreorderClaim, ScheduledInbound
from orders.models import Order, OrderState
from orders.services import order_ingest
from tests.browser.test_narrow_screens import OFFENDERS_JS
from tests.inventory.factories import SkuFactory
from tests.orders.factories import CanonicalOrderFactory, line

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _message(page, text):
    page.wait_for_selector(f".messages li:has-text({text!r})")


def test_a_manager_enters_a_reservation_and_a_preorder_inbound_whose_receipt_allocates_the_preorder(
    brand, facility, make_user, sign_in, live_server, page
):
    tee, cap = SkuFactory(brand=brand, code="TEE"), SkuFactory(brand=brand, code="CAP")
    stock_receive(sku=tee, facility=facility, quantity=20, event_id="rcv-tee", actor=None)
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(make_user("warehouse_manager", username="mara"))

    page.goto(f"{live_server.url}/reservations/")
    page.select_option("#id_brand", str(brand.pk))
    page.fill("#id_customer", "Big Retail")
    page.fill("#id_sku", "TEE")
    page.select_option("#id_facility", facility.code)
    page.fill("#id_quantity", "0")
    page.click("#reservation-new button[type=submit]")
    _message(page, "quantity: must be at least 1")
    assert not ContractReservation.objects.exists()
    page.fill("#id_quantity", "5")
    page.click("#reservation-new button[type=submit]")
    _message(page, f"Reserved 5 × TEE at {facility.code} for Big Retail")
    assert "Big Retail" in page.locator("#reservations tr[data-customer='Big Retail']").inner_text()
    assert StockLevel.objects.get(sku=tee, facility=facility).reserved == 5
    assert page.evaluate(OFFENDERS_JS) == []

    expected_on = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    page.goto(f"{live_server.url}/scheduled-inbound/")
    page.select_option("#id_brand", str(brand.pk))
    page.fill("#id_sku", "CAP")
    page.select_option("#id_facility", facility.code)
    page.fill("#id_quantity", "10")
    page.fill("#id_preorder_limit", "4")
    page.fill("#id_expected_on", expected_on)
    page.fill("#id_reference", "PO-CAP-1")
    page.click("#schedule-new button[type=submit]")
    _message(page, f"PO-CAP-1: 10 × CAP expected at {facility.code} on {expected_on}, 4 open to pre-orders")
    schedule = ScheduledInbound.objects.get()
    assert (schedule.sku, schedule.quantity, schedule.preorder_limit) == (cap, 10, 4)
    assert page.evaluate(OFFENDERS_JS) == []

    canonical = CanonicalOrderFactory(platform_order_id="PRE-1", priority_class="preorder", lines=(line("CAP", 3),))
    order = order_ingest(canonical=canonical, brand=brand, channel=None, source="manual").order
    order.refresh_from_db()
    assert order.state == OrderState.ON_HOLD and order.hold_reasons[0]["code"] == "awaiting_inbound"
    page.reload()
    row = page.locator("#schedules tr[data-reference='PO-CAP-1']")
    assert "3 of 4" in row.inner_text() and "Expected" in row.inner_text()

    row.locator("a").click()
    page.wait_for_load_state()
    page.fill("#line-1 input[name=quantity]", "10")
    page.click("#line-1 button[type=submit]")
    _message(page, "10 × CAP received into stock")
    order = Order.objects.get(pk=order.pk)
    assert order.state == OrderState.ACCEPTED
    assert ScheduledInbound.objects.get(pk=schedule.pk).received
    assert PreorderClaim.objects.get(order=order).released_at is None
    level = StockLevel.objects.get(sku=cap, facility=facility)
    assert (level.on_hand, level.allocated) == (10, 3)
    assert page.evaluate(OFFENDERS_JS) == []

    page.goto(f"{live_server.url}/scheduled-inbound/")
    assert "Received" in page.locator("#schedules tr[data-reference='PO-CAP-1']").inner_text()
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    assert "accepted" in page.locator("body").inner_text().lower()
