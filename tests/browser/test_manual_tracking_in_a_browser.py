"""Issue 17 §6 in a real browser: during a DHL outage (its tracking API answers 503) a warehouse manager enters the
carrier, tracking number and hand-off time on the order's tracking page; the order is dispatched and the channel's
fulfilment queued, and the entry waits in the exception queue. The re-check while the carrier is still down changes
nothing; once the API answers, the re-check closes the review and the carrier's events move the shipment on."""

from __future__ import annotations

import datetime as dt

import pytest

from integrations.outbox.services import outbox_drain
from integrations.tracking.models import ManualTracking, RecheckOutcome
from orders.models import Order, OrderState, Shipment, ShipmentState
from tests.integrations.tracking import conftest as tracking
from tests.integrations.tracking.conftest import account_on, credentials_of, label_on
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The tracking tests' fixtures: a packed Shopify order on its simulator, the carriers' simulators.
shopify_sim, shop, packed = tracking.shopify_sim, tracking.shop, tracking.packed
carrier_sims, fast_outbox = tracking.carrier_sims, tracking.fast_outbox


def first_scan(sim, number):
    from integrations.carriers.registry import connector_for

    dhl = connector_for("dhl_parcel_de")
    events = dhl.track(dhl.client(base_url=sim.url, credentials=credentials_of("dhl_parcel_de")), number)
    return min(e.occurred_at for e in events if e.is_carrier_scan)


def test_manual_tracking_during_a_carrier_outage_and_its_recheck_afterwards(
    packed,
    carrier_sims,
    facility,
    shop,
    shopify_sim,
    fast_outbox,
    make_user,
    sign_in,
    live_server,
):
    sim = carrier_sims["dhl_parcel_de"]
    account_on(sim, "dhl_parcel_de", facility)
    number = label_on(sim, "dhl_parcel_de")  # the label was bought before the outage
    sim.scan(number)  # and the driver took the parcel
    handed_at = first_scan(sim, number) - dt.timedelta(minutes=20)
    sim.add_fault("503", path="/track/", times=1000)  # DHL's tracking is down
    order = packed()

    page = sign_in(make_user("warehouse_manager"))
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    page.click("#tracking-link a")
    form = page.locator("#manual-tracking")
    form.locator("select[name=carrier]").select_option("dhl_parcel_de")
    form.locator("input[name=tracking_number]").fill(number)
    form.locator("input[name=handed_at]").fill(handed_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M"))
    form.locator("input[name=note]").fill("DHL portal down; driver's handheld receipt")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(f"text=Handed to the carrier with tracking {number} (entered manually)")

    order.refresh_from_db()
    assert order.state == OrderState.DISPATCHED
    shipment = Shipment.objects.get(order=order)
    assert shipment.state == ShipmentState.HANDED_TO_CARRIER and shipment.tracking_number == number
    assert shipment.handed_at == handed_at.replace(second=0, microsecond=0)
    card = page.locator(f"#shipment-{shipment.pk}")
    assert card.get_attribute("data-shipment-state") == "handed_to_carrier"
    assert card.locator("[data-recheck='pending']").is_visible()
    review = ExceptionItem.objects.get(kind=ExceptionKind.MANUAL_TRACKING)
    assert review.state == ExceptionState.OPEN and number in review.summary
    outbox_drain(connection_id=shop.pk)  # the customer is told as for any dispatch
    (fulfilment,) = shopify_sim.fulfilments_of(int(order.platform_order_id))
    assert fulfilment["tracking_number"] == number and fulfilment["notify_customer"] is True

    page.click("#recheck button[type=submit]")  # still down
    page.wait_for_selector("text=the carrier's API did not answer")
    assert ManualTracking.objects.get().outcome == RecheckOutcome.PENDING
    review.refresh_from_db()
    assert review.state == ExceptionState.OPEN

    sim.faults.clear()  # DHL answers again
    page.click("#recheck button[type=submit]")
    page.wait_for_selector("text=the carrier's tracking agrees; the review is closed")
    assert page.locator(f"#shipment-{shipment.pk} [data-recheck='matched']").is_visible()
    review.refresh_from_db()
    assert review.state == ExceptionState.RESOLVED
    shipment.refresh_from_db()
    assert shipment.state == ShipmentState.DELIVERED and shipment.acknowledged_at is not None
    assert Order.objects.get(pk=order.pk).state == OrderState.DELIVERED
    assert page.locator(f"#shipment-{shipment.pk} tr[data-kind='delivered']").is_visible()

    page.set_viewport_size({"width": 375, "height": 800})  # a phone on the dock
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
