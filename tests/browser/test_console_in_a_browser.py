"""Issue 4 §8, in a real browser (Debian's chromium through Playwright): roles see what they may do and no more."""

import pytest

from warehouse.errors import Reason
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState
from warehouse.services import exception_open

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_item(brand):
    return exception_open(
        kind=ExceptionKind.ORDER_ON_HOLD,
        summary="Order #1001 on hold",
        brand=brand,
        reasons=[Reason("missing_zip", "Delivery ZIP is missing")],
        dedupe_key="browser:1",
    )


def test_a_finance_user_sees_no_change_buttons(make_user, open_item, sign_in, live_server):
    page = sign_in(make_user("finance"))
    page.goto(f"{live_server.url}/exceptions/")
    assert page.locator("text=Order #1001 on hold").is_visible()
    assert page.locator("input[name=ids]").count() == 0
    assert page.locator("button", has_text="Resolve selected").count() == 0
    page.goto(f"{live_server.url}/admin/warehouse/exceptionitem/{open_item.pk}/change/")
    assert page.locator("text=Order #1001 on hold").first.is_visible()
    assert page.locator(".console-transition button").count() == 0
    assert page.locator(".console-force").count() == 0
    assert page.locator("input[type=submit][name=_save]").count() == 0


def test_a_manager_resolves_from_the_queue_with_a_note(make_user, open_item, sign_in, live_server):
    page = sign_in(make_user("warehouse_manager"))
    page.goto(f"{live_server.url}/exceptions/")
    page.check(f"input[name=ids][value='{open_item.pk}']")
    page.fill("textarea[name=note]", "Customer confirmed ZIP 46001 by phone")
    page.click("button:has-text('Resolve selected')")
    page.wait_for_selector("text=1 exception resolved.")
    assert ExceptionItem.objects.get(pk=open_item.pk).state == ExceptionState.RESOLVED
