"""Seed 001's return-flow acceptance test in a real browser, clicking what the pages show: a warehouse manager
authorises a return on a shipped order's page, receives it by scan into quarantine, triages it sellable with a grade
and restocks it. The ledger, the page and the channel's stock publishing (the outbox write) are asserted at the end.
A brand user authorises a return on its own order; another brand's order is not there for them."""

import pytest
from django.utils import timezone

from integrations.outbox.models import MessageKind, OutboundMessage
from integrations.publishing.models import DirtyStock, PublishedLevel
from integrations.publishing.services import publishing_run_cycle
from inventory.models import Movement, MovementKind, StockLevel
from orders.services import (
    order_confirm_picked,
    order_ingest,
    order_pack,
    order_release_to_pick,
    shipment_create,
    shipment_hand_to_carrier,
)
from returns.models import Return, ReturnState
from tests.browser.test_narrow_screens import OFFENDERS_JS
from tests.integrations.factories import ConnectionFactory
from tests.orders.factories import CanonicalOrderFactory, line, stocked_sku
from tests.publishing.factories import ListingFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BARCODE = "8412345678905"


def _shipped_order(brand, pid, code="TEE-M"):
    order = order_ingest(canonical=CanonicalOrderFactory(platform_order_id=pid, lines=(line(code, 1),)),
                         brand=brand).order  # fmt: skip
    order = order_pack(order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None),
                       actor=None)  # fmt: skip
    shipment = shipment_create(order=order, carrier="DHL", tracking_number=f"JJD-{pid}", actor=None)
    shipment_hand_to_carrier(shipment=shipment, carrier_receipt="R-1", handed_at=timezone.now(), actor=None)
    order.refresh_from_db()
    return order


def _level(sku, facility):
    level = StockLevel.objects.get(sku=sku, facility=facility)
    return {"on_hand": level.on_hand, "quarantine": level.quarantine, "available": level.available}


def _state(page):
    return page.locator("h1 [data-state]").get_attribute("data-state")


def test_a_manager_authorises_receives_by_scan_triages_and_restocks_a_return(
    brand, facility, make_user, sign_in, live_server
):
    tee = stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    tee.barcodes.update(value=BARCODE)
    shop = ConnectionFactory(brand=brand)
    ListingFactory(connection=shop, sku=tee)
    order = _shipped_order(brand, "#5001")
    publishing_run_cycle()  # the channel shows the stock after the sale
    shipped = _level(tee, facility)
    assert shipped["quarantine"] == 0

    page = sign_in(make_user("warehouse_manager"))
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.click("#authorise-return-link")
    page.fill("#authorise-return tr[data-sku='TEE-M'] input[name=quantity]", "1")
    page.fill("#authorise-return input[name=reason]", "Too small")
    page.click("#authorise-return button[type=submit]")
    page.wait_for_selector("text=Return RMA-#5001-1 authorised for order #5001.")
    rma = Return.objects.get(order=order)
    assert (rma.state, rma.facility, rma.reason) == (ReturnState.AUTHORIZED, facility, "Too small")
    assert _state(page) == "authorized"

    page.fill("#scan input[name=code]", "0000000000000")  # a code the catalog does not know: refused, nothing moves
    page.click("#scan button[type=submit]")
    page.wait_for_selector("text='0000000000000' is neither a barcode nor a SKU code of Acme Apparel")
    assert _level(tee, facility) == shipped

    page.fill("#scan input[name=code]", BARCODE)
    page.click("#scan button[type=submit]")
    page.wait_for_selector(f"text=Received 1 × {BARCODE} into quarantine.")
    assert _state(page) == "received"
    assert page.locator("tr[data-sku='TEE-M'] [data-received]").inner_text() == "1"
    assert _level(tee, facility) == {**shipped, "on_hand": shipped["on_hand"] + 1, "quarantine": 1}

    page.select_option("#triage select[name=disposition]", "sellable")  # no grade yet: refused
    page.click("#triage button[type=submit]")
    page.wait_for_selector("text=The triage is invalid: triage needs a grade")
    assert not rma.decisions.exists()

    page.select_option("#triage select[name=grade]", "A")
    page.select_option("#triage select[name=disposition]", "sellable")
    page.fill("#triage input[name=reason]", "Unworn, tags on")
    page.click("#triage button[type=submit]")
    page.wait_for_selector("text=Triaged 1 × TEE-M: grade A, sellable.")
    assert _state(page) == "triaged"
    assert page.locator("#complete button").inner_text() == "Restock"
    assert _level(tee, facility)["available"] == shipped["available"]  # nothing restocks before the step

    page.click("#complete button[type=submit]")
    page.wait_for_selector("text=is now restocked")
    assert _state(page) == "restocked"
    assert page.locator("table.decisions tr[data-decision] td").nth(3).inner_text().startswith("Sellable")

    rma.refresh_from_db()
    assert (rma.state, rma.grade, rma.disposition) == (ReturnState.RESTOCKED, "A", "sellable")
    moves = Movement.objects.filter(reference=rma.rma_number).order_by("pk")
    assert [(m.kind, m.on_hand_delta, m.quarantine_delta) for m in moves] == [
        (MovementKind.RETURN_RECEIVE, 1, 1),
        (MovementKind.RETURN_RESTOCK, 0, -1),
    ]
    back = {**shipped, "on_hand": shipped["on_hand"] + 1, "available": shipped["available"] + 1}
    assert _level(tee, facility) == back

    # the stock change reaches the channel: the SKU is marked for publishing and the next cycle queues its number
    assert DirtyStock.objects.filter(sku=tee).exists()
    assert publishing_run_cycle().written == 1
    write = OutboundMessage.objects.filter(connection=shop, kind=MessageKind.INVENTORY).latest("pk")
    assert (write.payload["sku"], write.payload["quantity"]) == ("TEE-M", back["available"])
    assert PublishedLevel.objects.get(connection=shop, sku=tee).quantity == back["available"]

    page.set_viewport_size({"width": 375, "height": 800})  # the return's page works on a phone
    page.reload()
    assert page.evaluate(OFFENDERS_JS) == []


def test_a_brand_user_authorises_a_return_on_its_own_order_and_never_sees_another_brands(
    brand, other_brand, facility, make_user, sign_in, live_server
):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=5)
    stocked_sku(brand=other_brand, facility=facility, code="SERUM", units=5)
    own, theirs = _shipped_order(brand, "#6001"), _shipped_order(other_brand, "#6002", "SERUM")

    page = sign_in(make_user("brand", brand=brand))
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/orders/{own.pk}/")
    page.click("#authorise-return-link")
    assert page.evaluate(OFFENDERS_JS) == []
    page.fill("#authorise-return input[type=number]", "2")  # more than shipped: refused with the reason
    page.click("#authorise-return button[type=submit]")
    page.wait_for_selector("text=order #6001 shipped 1 × TEE-M: 2 cannot come back")
    assert not Return.objects.exists()

    page.fill("#authorise-return input[type=number]", "1")
    page.fill("#authorise-return input[name=rma_number]", "SHOP-RMA-9")
    page.click("#authorise-return button[type=submit]")
    page.wait_for_selector("text=Return SHOP-RMA-9 authorised for order #6001.")
    rma = Return.objects.get()
    assert (rma.brand, rma.order, rma.state) == (brand, own, ReturnState.AUTHORIZED)
    assert page.locator("#scan").count() == 0 and page.locator("#triage").count() == 0  # the warehouse's steps

    page.goto(f"{live_server.url}/returns/")
    assert page.locator("table.returns tr[data-return]").count() == 1
    assert page.locator(f"tr[data-return='{rma.pk}'] a").first.inner_text() == "SHOP-RMA-9"
    assert page.goto(f"{live_server.url}/orders/{theirs.pk}/return/").status == 404
