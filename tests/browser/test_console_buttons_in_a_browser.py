"""Issue 10 "Done when": a warehouse manager clicks the console's own controls (the forms the rendered page carries,
never a URL a test wrote) and the change lands in the database and on the page. Every one of these buttons used to
answer 500 while hand-posting tests were green."""

import pytest
from django.utils import timezone

from orders.models import OrderState, ShipmentState
from orders.services import (
    order_confirm_picked,
    order_ingest,
    order_pack,
    order_release_to_pick,
    shipment_create,
    shipment_hand_to_carrier,
)
from returns.models import Disposition, ReturnState
from returns.services import return_authorize, return_initiate, return_mark_shipped_back, return_receive
from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line, stocked_sku
from warehouse.models import TransitionRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tee(brand, facility):
    return stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)


def _order(brand, pid, **kwargs):
    return order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id=pid, lines=(line("TEE-M"),), **kwargs), brand=brand
    ).order


def _no_server_error(response):
    assert response is not None and response.status < 500, f"{response.status} {response.url}"


def _state_shown(page):
    return page.locator(".console-state [data-state]").get_attribute("data-state")


def test_a_manager_releases_an_order_to_pick_from_the_console(make_user, brand, tee, sign_in, live_server):
    order = _order(brand, "#C1")
    assert order.state == OrderState.ACCEPTED
    manager = make_user("warehouse_manager")
    page = sign_in(manager)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    form = page.locator("form.console-transition", has=page.locator("button", has_text="Release to pick"))
    form.locator("input[name=reason]").fill("wave 3")
    with page.expect_navigation() as nav:
        form.locator("button", has_text="Release to pick").click()
    _no_server_error(nav.value)
    assert "Release to pick: done. The order is now picking" in page.locator(".messagelist").inner_text()
    assert _state_shown(page) == "picking"
    order.refresh_from_db()
    assert order.state == OrderState.PICKING
    record = TransitionRecord.objects.get(object_id=order.pk, name="release_to_pick")
    assert (record.actor, record.reason) == (manager, "wave 3")


def test_a_manager_forces_a_validate_with_a_reason_from_the_console(make_user, brand, tee, sign_in, live_server):
    held = _order(brand, "#C2", address=CanonicalAddressFactory(postal_code=""))
    assert held.state == OrderState.ON_HOLD
    manager = make_user("warehouse_manager")
    page = sign_in(manager)
    page.goto(f"{live_server.url}/admin/orders/order/{held.pk}/change/")
    page.click(".console-force summary")
    page.select_option(".console-force select[name=name]", label="Validate")
    page.fill(".console-force input[name=reason]", "ZIP confirmed by phone: none exists for this island")
    with page.expect_navigation() as nav:
        page.click(".console-force button[type=submit]")
    _no_server_error(nav.value)
    assert "reason recorded" in page.locator(".messagelist").inner_text()
    held.refresh_from_db()
    assert held.state == OrderState.ACCEPTED
    assert _state_shown(page) == "accepted"
    record = TransitionRecord.objects.get(object_id=held.pk, name="validate")
    assert record.forced and record.actor == manager
    assert "ZIP confirmed by phone" in page.locator("[aria-label=History]").inner_text()


def test_a_manager_closes_a_shipment_manually_from_the_console(make_user, brand, tee, sign_in, live_server):
    operator = make_user("operations")
    order = order_pack(
        order=order_confirm_picked(order=order_release_to_pick(order=_order(brand, "#C3"), actor=operator),
                                   actor=operator),
        actor=operator,
    )  # fmt: skip
    shipment = shipment_create(order=order, carrier="SEUR", service="24h", tracking_number="TRK-9", actor=operator)
    shipment = shipment_hand_to_carrier(
        shipment=shipment, carrier_receipt="MAN-9", handed_at=timezone.now(), actor=operator
    )
    page = sign_in(make_user("warehouse_manager"))
    page.goto(f"{live_server.url}/admin/orders/shipment/{shipment.pk}/change/")
    page.click(".console-force summary")
    page.select_option(".console-force select[name=name]", label="Mark delivered")
    page.fill(".console-force input[name=reason]", "Proof of delivery arrived by email")
    with page.expect_navigation() as nav:
        page.click(".console-force button[type=submit]")
    _no_server_error(nav.value)
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert shipment.state == ShipmentState.DELIVERED
    assert shipment.closed_manually_reason == "Proof of delivery arrived by email"
    assert order.state == OrderState.DELIVERED
    assert _state_shown(page) == "delivered"


def test_a_manager_records_a_returns_triage_from_the_console(make_user, brand, facility, tee, sign_in, live_server):
    rma = return_initiate(brand=brand, rma_number="RMA-77", lines=[(tee, 1)], facility=facility, actor=None,
                          reason="Wrong size")  # fmt: skip
    rma = return_receive(rma=return_mark_shipped_back(rma=return_authorize(rma=rma, actor=None), actor=None),
                         actor=None)  # fmt: skip
    manager = make_user("warehouse_manager")
    page = sign_in(manager)
    page.goto(f"{live_server.url}/admin/returns/return/{rma.pk}/change/")
    triage = page.locator("section[aria-label=Triage]")
    triage.locator("select[name=grade]").select_option("A")
    triage.locator("select[name=disposition]").select_option(Disposition.SELLABLE)
    triage.locator("input[name=reason]").fill("Tags on, unworn")
    with page.expect_navigation() as nav:
        triage.locator("button", has_text="Record triage").click()
    _no_server_error(nav.value)
    assert "RMA-77 triaged" in page.locator(".messagelist").inner_text()
    rma.refresh_from_db()
    assert (rma.state, rma.grade, rma.disposition) == (ReturnState.TRIAGED, "A", Disposition.SELLABLE)
    assert rma.triaged_by == manager
    assert _state_shown(page) == "triaged"
