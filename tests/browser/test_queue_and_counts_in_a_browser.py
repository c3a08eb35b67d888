"""Issue 10 §4 in a real browser: the queue's "Resolved" filter lists resolved items with their decisions, and the
operator who proposed a count sees it and what became of it."""

import pytest

from inventory.models import StockLevel
from inventory.services import stock_receive
from tests.inventory.factories import SkuFactory
from warehouse.errors import Reason
from warehouse.models import ExceptionKind, ExceptionState
from warehouse.services import exception_open, exception_resolve

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_resolved_filter_lists_resolved_items_with_their_decisions(make_user, brand, sign_in, live_server):
    manager = make_user("warehouse_manager")
    items = [
        exception_open(kind=ExceptionKind.ORDER_ON_HOLD, summary=f"Order #R{n} on hold", brand=brand,
                       reasons=[Reason("missing_zip", "ZIP missing")], dedupe_key=f"r:{n}")
        for n in range(3)
    ]  # fmt: skip
    exception_resolve(item=items[0], actor=manager, note="ZIP 46001 confirmed by phone")
    exception_resolve(item=items[1], actor=manager, note="Customer cancelled by email")
    page = sign_in(manager)
    page.goto(f"{live_server.url}/exceptions/")
    assert page.locator("text=Order #R2 on hold").is_visible()
    page.select_option("select[name=state]", label="Resolved")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**state=resolved**")
    rows = page.locator("tr[data-exception]")
    assert rows.count() == 2
    text = page.locator("table").first.inner_text()
    assert "ZIP 46001 confirmed by phone" in text and "Customer cancelled by email" in text
    assert "Order #R2" not in text  # still open: not in the resolved list
    assert "The queue is clear" not in text
    assert page.locator("input[name=ids]").count() == 0  # a decided item is not decided again
    assert items[2].__class__.objects.get(pk=items[2].pk).state == ExceptionState.OPEN


def test_operations_see_their_own_count_proposal_and_its_status(make_user, brand, facility, sign_in, live_server):
    sku = SkuFactory(brand=brand, code="TEE-M")
    stock_receive(sku=sku, facility=facility, quantity=100, event_id="rcv-1", actor=None)
    level = StockLevel.objects.get(sku=sku)
    operator, manager = make_user("operations"), make_user("warehouse_manager")
    page = sign_in(operator)
    page.goto(f"{live_server.url}/stock/")
    row = page.locator("tr", has=page.locator(f"form[action='/stock/{level.pk}/propose-count/']"))
    row.locator("input[name=counted]").fill("93")
    row.locator("input[name=reason]").fill("Cycle count aisle 4")
    row.locator("button", has_text="Propose").click()
    page.wait_for_selector("text=sent for approval")
    mine = page.locator("#own-proposals")
    assert "counted 93" in mine.inner_text() and "Waiting for approval" in mine.inner_text()

    page.context.clear_cookies()
    page = sign_in(manager)
    page.goto(f"{live_server.url}/stock/")
    proposal = page.locator("#proposals tr", has_text="counted 93")
    proposal.locator("input[name=note]").fill("Recounted, agreed")
    proposal.locator("button", has_text="Approve").click()
    page.wait_for_selector("text=Count approved")

    page.context.clear_cookies()
    page = sign_in(operator)
    page.goto(f"{live_server.url}/stock/")
    mine = page.locator("#own-proposals").inner_text()
    assert "Approved" in mine and "Recounted, agreed" in mine and manager.username in mine
    level.refresh_from_db()
    assert level.on_hand == 93
