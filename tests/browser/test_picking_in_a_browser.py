"""Issue 16 §3 in a real browser, clicking what the pages show: an operations user opens the pick queue, releases an
order, scans its lines (a barcode and a typed code, a wrong SKU refused naming the expected one), packs it into two
parcels and the order shows packed; and a short pick holds the order until a manager cancels the short line with a
reason, after which it goes on to pack; and a bundle is picked as its components. Each ends with the ledger and
the page (the first two at 375 px)."""

import pytest

from inventory.models import CountTask, StockLevel
from inventory.services import kit_set_components
from orders.models import Order, OrderEvent, OrderEventKind, OrderState, Parcel
from orders.services import order_ingest
from tests.browser.test_narrow_screens import OFFENDERS_JS
from tests.inventory.factories import KitFactory
from tests.orders.factories import CanonicalOrderFactory, line, stocked_sku
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def accepted(brand, facility):
    tee = stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    cap = stocked_sku(brand=brand, facility=facility, code="CAP-1", units=3)
    result = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#5001", lines=(line("TEE-M", 2), line("CAP-1", 1))),
        brand=brand,
        source="manual",
    )
    order = Order.objects.get(pk=result.order.pk)
    assert order.state == OrderState.ACCEPTED
    return order, tee, cap


def _message(page, text):
    page.wait_for_selector(f".messages li:has-text({text!r})")


def _scan(page, code, quantity=1):
    page.fill("#id_scan", code)
    page.fill("#id_scan_quantity", str(quantity))
    page.click("#scan button[type=submit]")
    page.wait_for_load_state()


def _parcel(page, weight, length, width, height):
    for field, value in (("weight_grams", weight), ("length_mm", length), ("width_mm", width), ("height_mm", height)):
        page.fill(f"#id_{field}", str(value))
    page.click("#add-parcel button[type=submit]")
    page.wait_for_load_state()


def test_operations_pick_by_scan_and_pack_into_two_parcels(accepted, facility, make_user, sign_in, live_server):
    order, tee, cap = accepted
    page = sign_in(make_user("operations", username="olga"))
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/")
    page.click("label.menu-button")  # 375 px: the menu is folded behind "Menu"
    page.click("nav >> text=Picking")
    page.select_option("select[name=facility]", facility.code)
    page.click("form.filters button[type=submit]")
    page.click(f"#pick-queue tr[data-order='{order.pk}'] a")
    page.click("#release button[type=submit]")
    _message(page, "released to pick")
    assert page.evaluate(OFFENDERS_JS) == []
    assert page.locator("#pick-lines tr[data-sku='TEE-M'] [data-picked]").inner_text() == "0 / 2"

    _scan(page, "NOT-A-CODE")
    _message(page, "'NOT-A-CODE' is neither a barcode nor a SKU code of")
    _scan(page, tee.barcodes.get().value, 2)
    _message(page, "Picked.")
    assert page.locator("#pick-lines tr[data-sku='TEE-M'] [data-picked]").inner_text() == "2 / 2"
    _scan(page, "TEE-M")  # nothing more of it is needed
    _message(page, "the next line expects CAP-1")
    _scan(page, "CAP-1")
    _message(page, "on to packing")
    assert page.locator("#order-state").get_attribute("data-state") == "picked"  # the pack page

    _parcel(page, 0, 300, 200, 100)  # the form itself refuses it (whole numbers from 1); the API names it too
    assert page.locator("#id_weight_grams:invalid").count() == 1 and not Parcel.objects.filter(order=order).exists()
    _parcel(page, 900, 300, 200, 100)
    _message(page, "Parcel 1 added")
    _parcel(page, 400, 200, 150, 100)
    _message(page, "Parcel 2 added")
    assert page.evaluate(OFFENDERS_JS) == []
    page.click("#packed button[type=submit]")
    _message(page, "Packed: staged for the carrier")
    assert page.locator("#order-state").get_attribute("data-state") == "packed"

    order.refresh_from_db()
    assert order.state == OrderState.PACKED
    assert list(Parcel.objects.filter(order=order).values_list("weight_grams", flat=True)) == [900, 400]
    assert StockLevel.objects.get(sku=tee, facility=facility).in_pick == 2
    assert StockLevel.objects.get(sku=cap, facility=facility).in_pick == 1
    assert OrderEvent.objects.filter(order=order, kind=OrderEventKind.PICK_ACTIVITY).count() >= 4


def test_a_short_pick_waits_until_a_manager_cancels_the_short_line(accepted, facility, make_user, sign_in, live_server):
    order, _tee, cap = accepted
    page = sign_in(make_user("operations", username="olga"))
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/picking/{order.pk}/")
    page.click("#release button[type=submit]")
    _message(page, "released to pick")
    _scan(page, "TEE-M", 2)
    page.fill("#pick-lines tr[data-sku='CAP-1'] input[name=note]", "bin empty")
    page.click("#pick-lines tr[data-sku='CAP-1'] button[type=submit]")
    _message(page, "Short pick recorded")
    assert page.locator("#order-state").get_attribute("data-state") == "floor_hold"
    assert "not on the shelf" in page.locator("#hold").inner_text()
    assert page.locator("#scan").count() == 0 and page.locator("#hold form").count() == 0  # a manager decides
    assert ExceptionItem.objects.filter(kind=ExceptionKind.SHORT_PICK, state=ExceptionState.OPEN).count() == 1
    assert CountTask.objects.filter(sku=cap, facility=facility, state="open").exists()

    page.context.clear_cookies()
    page = sign_in(make_user("warehouse_manager", username="mara"))
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/picking/{order.pk}/")
    assert page.evaluate(OFFENDERS_JS) == []
    page.fill(".cancel-line[data-line='2'] input[name=reason]", "customer accepts the rest")
    page.click(".cancel-line[data-line='2'] button[type=submit]")
    _message(page, "Line cancelled")
    assert page.locator("#order-state").get_attribute("data-state") == "picked"  # on to the pack page
    _parcel(page, 700, 300, 200, 100)
    page.click("#packed button[type=submit]")
    _message(page, "Packed")

    order.refresh_from_db()
    assert order.state == OrderState.PACKED
    assert order.lines.get(line_number=2).cancel_reason == "customer accepts the rest"
    cap_level = StockLevel.objects.get(sku=cap, facility=facility)
    assert (cap_level.in_pick, cap_level.allocated) == (0, 0)
    assert not ExceptionItem.objects.filter(kind=ExceptionKind.SHORT_PICK, state=ExceptionState.OPEN).exists()
    page.goto(f"{live_server.url}/count-tasks/")
    page.fill("#count-tasks tr[data-sku='CAP-1'] input[name=counted]", "0")
    page.click("#count-tasks tr[data-sku='CAP-1'] button[type=submit]")
    _message(page, "counted 0 (the system had 3)")
    assert StockLevel.objects.get(sku=cap, facility=facility).on_hand == 0


def test_a_bundle_is_picked_as_its_components(brand, facility, make_user, sign_in, live_server):
    kit = KitFactory(brand=brand, code="SPA-KIT")
    soap, towel = (stocked_sku(brand=brand, facility=facility, code=c, units=10) for c in ("SOAP", "TOWEL"))
    kit_set_components(kit=kit, components=[(soap, 2), (towel, 1)], actor=None)
    result = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#5002", lines=(line("SPA-KIT", 2),)),
        brand=brand,
        source="manual",
    )
    order = Order.objects.get(pk=result.order.pk)
    page = sign_in(make_user("operations", username="olga"))
    page.goto(f"{live_server.url}/picking/{order.pk}/")
    page.click("#release button[type=submit]")
    _message(page, "released to pick")
    assert page.locator("#pick-lines tr[data-sku='SOAP'] [data-picked]").inner_text() == "0 / 4"
    assert page.locator("#pick-lines tr[data-sku='TOWEL'] [data-picked]").inner_text() == "0 / 2"
    _scan(page, "SPA-KIT")
    _message(page, "does not need")  # the kit has no shelf of its own: its components are picked
    _scan(page, soap.barcodes.get().value, 4)
    _scan(page, "TOWEL", 2)
    _message(page, "on to packing")
    _parcel(page, 1200, 400, 300, 200)
    page.click("#packed button[type=submit]")
    _message(page, "Packed")
    order.refresh_from_db()
    assert order.state == OrderState.PACKED
    for sku, units in ((soap, 4), (towel, 2)):
        assert StockLevel.objects.get(sku=sku, facility=facility).in_pick == units
