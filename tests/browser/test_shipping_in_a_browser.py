"""Issue 17, done-when: a manager ships a packed order in the browser. The rules choose the service, the label is
bought from the DHL simulator while the manager waits and its PDF opens, the day's manifest closes, and once the
simulator's pickup scan confirms custody the recorded hand-off moves the shipment to handed_to_carrier; the channel
simulator's ledger then holds exactly one fulfilment, with the tracking number."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from integrations.carriers.accounts import carrier_account_set_credentials
from integrations.carriers.models import CarrierAccount
from integrations.carriers.registry import connector_for
from integrations.outbox.tasks import outbox_drain_due
from integrations.platforms.shopify.simulator import ShopifySimulator
from integrations.shipping.models import Label, ShippingRule
from orders.models import Order, OrderState, Parcel, Shipment, ShipmentState
from orders.services import order_confirm_picked, order_ingest, order_pack, order_release_to_pick
from tests.integrations.factories import ConnectionFactory
from tests.orders.factories import CanonicalOrderFactory, line, stocked_sku

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOKEN = "shpat_shipping_browser_3c2d"


@pytest.fixture(autouse=True)
def _keys_and_storage(settings, tmp_path):
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]
    media = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "m")}}
    settings.STORAGES = {**settings.STORAGES, "default": media}


@pytest.fixture
def shopify_sim():
    with ShopifySimulator.running(access_token=TOKEN) as sim:
        yield sim


@pytest.fixture
def dhl_sim():
    connector = connector_for("dhl_parcel_de")
    with connector.simulator(credentials=connector.demo_credentials(lambda n: f"{n}-browser")).running() as sim:
        yield sim


@pytest.fixture
def packed(brand, facility, shopify_sim, dhl_sim):
    account = CarrierAccount.objects.create(
        carrier="dhl_parcel_de", name="DHL VLC1", facility=facility, api_base_url=dhl_sim.url
    )
    carrier_account_set_credentials(
        account=account, credentials=connector_for("dhl_parcel_de").demo_credentials(lambda n: f"{n}-browser"),
        actor=None,
    )  # fmt: skip
    ShippingRule.objects.create(name="Spain standard", zone="domestic", carrier="dhl_parcel_de", service="V01PAK")
    shop = ConnectionFactory(
        brand=brand, platform="shopify", api_base_url=shopify_sim.url, secrets={"credentials": {"access_token": TOKEN}}
    )
    stocked_sku(brand=brand, facility=facility, code="TEE-BLK-M", units=10)
    created = shopify_sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]})
    canonical = CanonicalOrderFactory(platform_order_id=str(created["id"]), lines=(line("TEE-BLK-M", 1),))
    order = order_ingest(canonical=canonical, brand=brand, channel=shop.channel).order
    for step in (order_release_to_pick, order_confirm_picked, order_pack):
        order = step(order=order, actor=None)
    Parcel.objects.create(order=order, number=1, weight_grams=800, length_mm=300, width_mm=200, height_mm=100)
    return order


def test_a_manager_ships_a_packed_order_end_to_end(make_user, packed, page, sign_in, live_server, dhl_sim, shopify_sim):
    page.set_default_timeout(30_000)  # each click waits on a carrier call: room for a loaded machine
    page = sign_in(make_user("warehouse_manager"))
    page.click("nav >> text=Shipping")
    page.click(f"#packed-orders a[href='/shipping/orders/{packed.pk}/']")
    assert page.locator("#chosen-service").get_attribute("data-service") == "V01PAK"  # the rules chose

    page.click("#ship-form summary")  # a zero weight typed at the dock: refused with the reason, nothing bought
    page.fill("input[name='weight:1']", "0")
    page.click("#buy-labels")
    page.wait_for_selector("text=parcel 1: weight must be a positive number of grams")
    assert not Label.objects.exists() and dhl_sim.parcels == {}

    page.click("#buy-labels")  # bought from the carrier while the manager waits
    page.wait_for_selector("text=Labels bought")
    label = Label.objects.get()
    row = page.locator(f"#labels tr[data-tracking='{label.tracking_number}']")
    assert row.is_visible() and label.tracking_number in dhl_sim.parcels

    with page.context.expect_event("response", lambda r: "/file/pdf/" in r.url) as pdf:
        with page.context.expect_page() as tab:
            row.locator("a.label-pdf").click()  # the PDF opens in a tab of its own
    assert pdf.value.status == 200 and pdf.value.headers["content-type"] == "application/pdf"
    assert pdf.value.headers["content-disposition"].startswith("inline")  # shown, not downloaded
    tab.value.close()
    href = row.locator("a.label-pdf").get_attribute("href")
    assert page.request.get(f"{live_server.url}{href}").body().startswith(b"%PDF")  # the carrier's bytes, whole
    assert row.locator("a.label-zpl").get_attribute("download") is not None  # ZPL downloads for the printer

    page.goto(f"{live_server.url}/shipping/")
    page.click("#manifest-waiting button.close-manifest")
    page.wait_for_selector("text=Manifest closed: 1 label(s)")

    page.click("#manifests button.record-handoff")  # before the carrier's scan: refused, nothing moves
    page.wait_for_selector("text=has not confirmed the pickup")
    assert Shipment.objects.get().state == ShipmentState.STAGED

    dhl_sim.scan(label.tracking_number)  # the carrier picks the parcel up
    page.click("#manifests button.record-handoff")
    page.wait_for_selector("text=1 shipment(s) handed over")

    shipment = Shipment.objects.get()
    assert shipment.state == ShipmentState.HANDED_TO_CARRIER
    assert shipment.carrier_receipt.startswith("DHL Parcel DE scan")
    assert Order.objects.get(pk=packed.pk).state == OrderState.DISPATCHED
    outbox_drain_due()
    (fulfilment,) = shopify_sim.ledger()["fulfillments"]
    assert fulfilment["tracking_numbers"] == [label.tracking_number]
    assert fulfilment["tracking_company"] == "DHL"  # as Shopify names DHL Paket, not our code dhl_parcel_de

    page.goto(f"{live_server.url}/shipping/orders/{packed.pk}/")
    assert page.locator(f"#labels tr[data-tracking='{label.tracking_number}'] >> text=With the carrier").is_visible()
    assert page.locator("#labels .void-label").count() == 0  # no void after hand-off


def test_a_packed_order_no_rule_covers_is_held_on_the_desk_and_ships_once_a_service_is_chosen(
    make_user, packed, page, sign_in, live_server, dhl_sim
):
    """Issue 17 §2 at 375 px: buying labels for an order no rule covers holds it (floor hold, reason named, listed as
    held on the desk) and buys nothing; choosing a service with a reason on the same page ends the hold and buys."""
    from tests.browser.test_narrow_screens import OFFENDERS_JS
    from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

    page.set_default_timeout(30_000)
    ShippingRule.objects.all().delete()
    page = sign_in(make_user("warehouse_manager"))
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/shipping/")
    page.click(f"#packed-orders a[href='/shipping/orders/{packed.pk}/']")
    page.click("#buy-labels")
    page.wait_for_selector("text=no shipping rule covers this order")
    held = Order.objects.get(pk=packed.pk)
    assert (held.state, held.held_from) == (OrderState.FLOOR_HOLD, OrderState.PACKED)
    assert not Label.objects.exists() and dhl_sim.parcels == {}
    assert page.locator("#held-for-shipping").is_visible()

    page.goto(f"{live_server.url}/shipping/")
    row = page.locator(f"#packed-orders tr[data-order='{packed.pk}']")
    assert row.locator(".pill.warn").inner_text() == "held" and "no shipping rule covers" in row.inner_text()
    assert page.evaluate(OFFENDERS_JS) == []

    row.locator("a").click()
    page.click("#ship-form summary")
    page.select_option("#id_override", "dhl_parcel_de:V01PAK")
    page.fill("#id_override_reason", "Italy by DHL Paket until a rule is written")
    page.click("#buy-labels")
    page.wait_for_selector("text=Labels bought")
    assert Order.objects.get(pk=packed.pk).state == OrderState.PACKED
    assert Label.objects.get().service == "V01PAK" and len(dhl_sim.parcels) == 1
    item = ExceptionItem.objects.get(kind=ExceptionKind.ORDER_ON_HOLD, object_id=packed.pk)
    assert item.state == ExceptionState.RESOLVED
    assert page.locator("#held-for-shipping").count() == 0 and page.evaluate(OFFENDERS_JS) == []


def test_a_manager_ships_a_split_order_one_leg_per_facility(make_user, page, sign_in, live_server):
    """A split order's shipping page shows each facility's leg with the service its facility's rules choose; each
    leg's own button buys that leg's label on that facility's carrier account."""
    from tests.allocation.test_split_orders import ingest, make_sites, receive
    from tests.factories import BrandFactory
    from tests.inventory.factories import SkuFactory

    brand = BrandFactory(slug="split-browser")
    nj, nv = make_sites()
    receive(SkuFactory(brand=brand, code="SHIRT"), nj, 2)
    receive(SkuFactory(brand=brand, code="CAP"), nv, 2)
    ShippingRule.objects.create(name="NJ ground", facility=nj, carrier="ups", service="03")
    ShippingRule.objects.create(name="NV 2nd day", facility=nv, carrier="ups", service="02")
    ups = connector_for("ups")
    credentials = ups.demo_credentials(lambda n: f"{n}-browser-split")
    with ups.simulator(credentials=credentials).running() as sim:
        for site in (nj, nv):
            account = CarrierAccount.objects.create(carrier="ups", name=f"UPS {site.code}", facility=site,
                                                    api_base_url=sim.url)  # fmt: skip
            carrier_account_set_credentials(account=account, credentials=credentials, actor=None)
        order = ingest(brand, line("SHIRT", 1), line("CAP", 1), pid="SPLIT-B1")
        for step in (order_release_to_pick, order_confirm_picked, order_pack):
            order = step(order=order, actor=None)
        for number, site in ((1, nj), (2, nv)):
            Parcel.objects.create(order=order, number=number, facility=site, weight_grams=500, length_mm=200,
                                  width_mm=150, height_mm=100)  # fmt: skip

        page.set_default_timeout(30_000)
        page = sign_in(make_user("warehouse_manager"))
        page.click("nav >> text=Shipping")
        page.click(f"#packed-orders a[href='/shipping/orders/{order.pk}/']")
        assert page.locator("#split-note").is_visible()
        assert page.locator("#chosen-service-NJ1").get_attribute("data-service") == "03"
        assert page.locator("#chosen-service-NV1").get_attribute("data-service") == "02"
        assert page.locator("#customs-missing-NJ1").count() == 0  # New Jersey to New York: no customs border

        page.click("#buy-labels-NV1")  # Nevada's carton first: each leg on its own
        page.wait_for_selector("text=Labels bought: ups 02")
        assert page.locator("#buy-labels-NV1").count() == 0 and page.locator("#buy-labels-NJ1").is_visible()
        page.click("#buy-labels-NJ1")
        page.wait_for_selector("text=Labels bought: ups 03")

        shipments = {s.facility.code: (s.service, [p.number for p in s.parcels.all()]) for s in Shipment.objects.all()}
        assert shipments == {"NJ1": ("03", [1]), "NV1": ("02", [2])}
        assert {label.account.facility.code for label in Label.objects.all()} == {"NJ1", "NV1"}
        assert page.locator("#labels tbody tr").count() == 2


def test_the_shipping_pages_fit_a_375px_screen(make_user, packed, chromium, live_server):
    """The desk, an order's shipping page with a label, and the dry run: nothing reaches past a phone's screen."""
    from integrations.shipping.services import order_ship
    from tests.browser.test_narrow_screens import OFFENDERS_JS

    manager = make_user("warehouse_manager")
    order_ship(order=packed, actor=manager)
    context = chromium.new_context(viewport={"width": 375, "height": 800})
    context.add_cookies([_session_cookie(manager, live_server.url)])
    phone = context.new_page()
    phone.set_default_timeout(30_000)
    problems = {}
    for path in ("/shipping/", f"/shipping/orders/{packed.pk}/", "/shipping/rules/dry-run/"):
        assert phone.goto(f"{live_server.url}{path}").status == 200, path
        if found := phone.evaluate(OFFENDERS_JS):
            problems[path] = found[:5]
    context.close()
    assert not problems, problems


def _session_cookie(user, url):
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": url}  # fmt: skip
