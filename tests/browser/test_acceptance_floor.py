"""Seed 001's acceptance tests for the floor (issue 16, done-when; issue 17 extends the order flow to shipped with
tracking), in a real browser, clicking what the pages show as the role that does each step. Every order is placed on
the Shopify simulator, which delivers its signed orders/create webhook to the live hub exactly as the platform does;
operations release it, pick it by scanning barcodes and pack it; a manager decides short picks and ships on the
shipping desk, where the DHL simulator sells the label and scans the pickup. Each test ends on the stock ledger and
on what the channel's simulator holds: its fulfilments and the stock levels the publishing cycle wrote to it.

"Inventory sync" and "return flow", the seed's two other acceptance tests, are test_inventory_sync_in_a_browser and
test_returns_in_a_browser."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from integrations.carriers.accounts import carrier_account_set_credentials
from integrations.carriers.models import CarrierAccount
from integrations.carriers.registry import connector_for
from integrations.outbox.services import outbox_drain
from integrations.platforms.shopify.simulator import ShopifySimulator
from integrations.publishing.services import publishing_run_cycle
from integrations.shipping.models import Label, ShippingRule
from inventory.kits import kit_available
from inventory.models import CountTask, KitComponent, Movement, MovementKind, StockLevel
from orders.models import Order, OrderState, Parcel, PickLine, Shipment, ShipmentState
from tests.integrations.conftest import run_queued_tasks
from tests.integrations.factories import ConnectionFactory
from tests.inventory.factories import KitFactory, SkuFactory
from tests.publishing.factories import ListingFactory
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TOKEN = "shpat_acceptance_floor_41d7"
SECRET = "shpss_acceptance_floor_9b2e"
SHOP = "acme-acceptance.myshopify.com"
LOCATION = "905684977"  # the simulator's location

R, A, P, U, S, C = (
    MovementKind.RECEIVE,
    MovementKind.ALLOCATE,
    MovementKind.START_PICK,
    MovementKind.UNPICK,
    MovementKind.SHIP,
    MovementKind.CYCLE_COUNT,
)


# --- the world: a Shopify shop wired to the live hub, a DHL account with a rule, stock on the shelf ----------------


@pytest.fixture(autouse=True)
def _keys_storage_and_fast_http(settings, tmp_path):
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]
    media = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "m")}}
    settings.STORAGES = {**settings.STORAGES, "default": media}
    settings.OUTBOX_HTTP = {"connect_timeout": 0.5, "read_timeout": 2.0, "retry_attempts": 2}


@pytest.fixture
def shop(live_server, brand, facility):
    """The brand's Shopify shop (the simulator), subscribed to send its signed webhooks to the live hub."""
    with ShopifySimulator.running(
        access_token=TOKEN, secret=SECRET, shop_domain=SHOP, bucket_size=400, hang_seconds=0.5
    ) as sim:
        connection = ConnectionFactory(
            brand=brand, platform="shopify", shop=SHOP, api_base_url=sim.url,
            secrets={"signing_secret": SECRET, "credentials": {"access_token": TOKEN}},
        )  # fmt: skip
        sim.hub_url = f"{live_server.url}/webhooks/shopify/{connection.pk}/"
        yield sim, connection


@pytest.fixture
def dhl(facility):
    """The facility's DHL account on the DHL simulator, and the administrators' rule for domestic parcels."""
    connector = connector_for("dhl_parcel_de")
    credentials = connector.demo_credentials(lambda n: f"{n}-acceptance")
    with connector.simulator(credentials=credentials).running() as sim:
        account = CarrierAccount.objects.create(
            carrier="dhl_parcel_de", name="DHL VLC1", facility=facility, api_base_url=sim.url
        )
        carrier_account_set_credentials(account=account, credentials=credentials, actor=None)
        ShippingRule.objects.create(name="Spain standard", zone="domestic", carrier="dhl_parcel_de", service="V01PAK")
        yield sim


@pytest.fixture
def people(make_user):
    return make_user("operations", username="olga"), make_user("warehouse_manager", username="mara")


@pytest.fixture
def sign_in(chromium, live_server):
    """Each person on a device of their own (a browser context), signed in through the login page."""
    from tests.browser.conftest import PASSWORD

    contexts = []

    def sign_in_as(user):
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30_000)  # a label waits on the carrier: room for a loaded machine
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_selector("button:has-text('Sign out')", state="attached")
        return page

    yield sign_in_as
    for context in contexts:
        context.close()


def _on_shelf(brand, facility, shop, code, units, listing, **fields):
    """A ready SKU with a barcode, `units` received at the facility, listed on the shop as inventory item `listing`."""
    from inventory.services import stock_receive

    sku = SkuFactory(brand=brand, code=code, **fields)
    if units:
        stock_receive(sku=sku, facility=facility, quantity=units, event_id=f"rcv:{code}", actor=None)
    ListingFactory(connection=shop[1], sku=sku, external_id=listing, location=LOCATION)
    return sku


def _publish(sim):
    """One publishing cycle, its writes sent: what the shop now shows, {inventory item id: available}."""
    publishing_run_cycle()
    report = outbox_drain(limit=50)
    assert (report.dead, report.retried) == (0, 0), report
    return {str(level["inventory_item_id"]): level["available"] for level in sim.ledger()["inventory_levels"]}


def _place(shop, *lines):
    """A customer orders on the shop: the simulator delivers orders/create, signed, to the hub's webhook URL; the
    worker's queued task ingests it. Returns the hub's order."""
    sim, connection = shop
    created = sim.upsert_order({"line_items": [{"sku": code, "quantity": n} for code, n in lines]})
    assert sim.ledger()["webhooks"][-1]["status"] == 200  # verified, stored, answered
    assert run_queued_tasks() >= 1
    return Order.objects.get(channel=connection.channel, platform_order_id=str(created["id"]))


def _ledger(sku, facility):
    moves = Movement.objects.filter(sku=sku, facility=facility).order_by("pk")
    return [(m.kind, m.quantity) for m in moves]


def _level(sku, facility):
    level = StockLevel.objects.get(sku=sku, facility=facility)
    return {"on_hand": level.on_hand, "allocated": level.allocated, "in_pick": level.in_pick}


# --- what people do on the pages ----------------------------------------------------------------------------------


def _message(page, text):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(f".messages li:has-text({text!r})", timeout=15_000)
    except PlaywrightTimeout:
        said = page.locator(".messages li").all_inner_texts()
        raise AssertionError(f"expected {text!r} on {page.url}; the page says {said}") from None


def _open_from_the_pick_queue(page, live_server, facility, order):
    page.goto(f"{live_server.url}/")
    page.click("nav >> text=Picking")
    page.select_option("select[name=facility]", facility.code)
    page.click("form.filters button[type=submit]")
    page.click(f"#pick-queue tr[data-order='{order.pk}'] a")
    page.click("#release button[type=submit]")
    _message(page, "released to pick")


def _scan(page, code, quantity=1):
    page.fill("#id_scan", code)
    page.fill("#id_scan_quantity", str(quantity))
    page.click("#scan button[type=submit]")
    page.wait_for_load_state()


def _picked(page, code):
    return page.locator(f"#pick-lines tr[data-sku='{code}'] [data-picked]").inner_text()


def _pack_one_parcel(page, weight=900, length=300, width=200, height=100):
    """On the pack page: one carton weighed and measured, then Packed."""
    for field, value in (("weight_grams", weight), ("length_mm", length), ("width_mm", width), ("height_mm", height)):
        page.fill(f"#id_{field}", str(value))
    page.click("#add-parcel button[type=submit]")
    _message(page, "Parcel 1 added")
    page.click("#packed button[type=submit]")
    _message(page, "Packed: staged for the carrier")
    assert page.locator("#order-state").get_attribute("data-state") == "packed"


def _ship_on_the_desk(page, order, dhl_sim):
    """A manager on the shipping desk: the rules choose the service, the label is bought from DHL while they wait,
    the day's manifest closes, and after the carrier's pickup scan the hand-off is recorded."""
    page.click("nav >> text=Shipping")
    page.click(f"#packed-orders a[href='/shipping/orders/{order.pk}/']")
    assert page.locator("#chosen-service").get_attribute("data-service") == "V01PAK"  # the rules chose
    page.click("#buy-labels")
    page.wait_for_selector("text=Labels bought")
    label = Label.objects.get(shipment__order=order)
    assert label.tracking_number in dhl_sim.parcels  # bought from the carrier
    assert page.locator(f"#labels tr[data-tracking='{label.tracking_number}'] a.label-pdf").is_visible()

    page.click("nav >> text=Shipping")
    page.click("#manifest-waiting button.close-manifest")
    page.wait_for_selector("text=Manifest closed: 1 label(s)")
    dhl_sim.scan(label.tracking_number)  # the carrier picks the parcel up
    page.click("#manifests button.record-handoff")
    page.wait_for_selector("text=1 shipment(s) handed over")

    shipment = Shipment.objects.get(order=order)
    assert shipment.state == ShipmentState.HANDED_TO_CARRIER
    assert shipment.carrier_receipt.startswith("DHL Parcel DE scan")
    assert Order.objects.get(pk=order.pk).state == OrderState.DISPATCHED
    return label


def _fulfilled_on_the_shop(sim, order, label):
    """The outbox's fulfilment reached the shop: exactly one, carrying the tracking number."""
    report = outbox_drain(limit=50)
    assert (report.dead, report.retried) == (0, 0), report
    (fulfilment,) = sim.ledger()["fulfillments"]
    assert str(fulfilment["order_id"]) == order.platform_order_id
    assert fulfilment["tracking_numbers"] == [label.tracking_number]
    return fulfilment


# --- the seed's scenarios -----------------------------------------------------------------------------------------


def test_order_flow_from_the_shop_to_shipped_with_tracking(
    brand, facility, shop, dhl, people, sign_in, live_server
):  # fmt: skip
    tee = _on_shelf(brand, facility, shop, "TEE-BLK-M", 10, "7101", barcode="8412345000011")
    cap = _on_shelf(brand, facility, shop, "CAP-1", 5, "7102", barcode="8412345000028")
    order = _place(shop, ("TEE-BLK-M", 2), ("CAP-1", 1))
    assert order.state == OrderState.ACCEPTED and order.facility == facility
    assert (_level(tee, facility)["allocated"], _level(cap, facility)["allocated"]) == (2, 1)
    ops, manager = people

    page = sign_in(ops)
    _open_from_the_pick_queue(page, live_server, facility, order)
    assert (_picked(page, "TEE-BLK-M"), _picked(page, "CAP-1")) == ("0 / 2", "0 / 1")
    _scan(page, "8412345000011", 2)
    _message(page, "Picked.")
    assert _picked(page, "TEE-BLK-M") == "2 / 2"
    _scan(page, "8412345000028")
    _message(page, "on to packing")  # the last line picked: the pack page
    assert Order.objects.get(pk=order.pk).state == OrderState.PICKED
    _pack_one_parcel(page, weight=1100)
    assert list(Parcel.objects.filter(order=order).values_list("weight_grams", "length_mm")) == [(1100, 300)]

    page = sign_in(manager)
    label = _ship_on_the_desk(page, order, dhl)
    page.goto(f"{live_server.url}/orders/{order.pk}/")
    assert label.tracking_number in page.locator("main").inner_text()  # the order page shows its tracking

    assert _ledger(tee, facility) == [(R, 10), (A, 2), (P, 2), (S, 2)]
    assert _ledger(cap, facility) == [(R, 5), (A, 1), (P, 1), (S, 1)]
    assert _level(tee, facility) == {"on_hand": 8, "allocated": 0, "in_pick": 0}
    assert _level(cap, facility) == {"on_hand": 4, "allocated": 0, "in_pick": 0}
    fulfilment = _fulfilled_on_the_shop(shop[0], order, label)
    assert Shipment.objects.get(order=order).carrier == "dhl_parcel_de"
    assert fulfilment["tracking_company"] == "DHL"  # the carrier as Shopify knows it, not our registry code
    assert sorted((li["sku"], li["quantity"]) for li in fulfilment["line_items"]) == [("CAP-1", 1), ("TEE-BLK-M", 2)]
    assert _publish(shop[0]) == {"7101": 8, "7102": 4}
    assert shop[0].ledger()["orders"][0]["fulfillment_status"] == "fulfilled"


def test_a_variant_size_m_blue_is_picked_by_its_own_barcode(brand, facility, shop, dhl, people, sign_in, live_server):
    def tee(code, listing, barcode, size, colour):
        attributes = {"size": size, "colour": colour}
        title = f"Tee, {colour}, {size}"
        return _on_shelf(brand, facility, shop, code, 6, listing, barcode=barcode, parent_code="TEE", title=title,
                         variant_attributes=attributes)  # fmt: skip

    m_blue = tee("TEE-M-BLUE", "7201", "8412345000103", "M", "blue")
    l_blue = tee("TEE-L-BLUE", "7202", "8412345000110", "L", "blue")  # the same tee a size up, in the next bin
    m_red = tee("TEE-M-RED", "7203", "8412345000127", "M", "red")
    order = _place(shop, ("TEE-M-BLUE", 1))
    assert order.state == OrderState.ACCEPTED
    ops, manager = people

    page = sign_in(ops)
    _open_from_the_pick_queue(page, live_server, facility, order)
    row = page.locator("#pick-lines tr[data-sku='TEE-M-BLUE']")
    assert "Tee, blue, M" in row.inner_text() and page.locator("#pick-lines tbody tr").count() == 1
    _scan(page, "8412345000110")  # the size L of the same tee, from the next bin: refused, naming the one expected
    _message(page, "Scanned TEE-L-BLUE, which order")
    _message(page, "the next line expects TEE-M-BLUE")
    _scan(page, "8412345000127")  # the right size in red: refused too
    _message(page, "Scanned TEE-M-RED")
    assert _picked(page, "TEE-M-BLUE") == "0 / 1" and not PickLine.objects.filter(order=order, picked__gt=0).exists()
    _scan(page, "8412345000103")
    _message(page, "on to packing")
    _pack_one_parcel(page, weight=250)

    page = sign_in(manager)
    label = _ship_on_the_desk(page, order, dhl)

    assert _ledger(m_blue, facility) == [(R, 6), (A, 1), (P, 1), (S, 1)]
    assert _ledger(l_blue, facility) == [(R, 6)] and _ledger(m_red, facility) == [(R, 6)]  # the siblings never moved
    fulfilment = _fulfilled_on_the_shop(shop[0], order, label)
    assert [(li["sku"], li["quantity"]) for li in fulfilment["line_items"]] == [("TEE-M-BLUE", 1)]
    assert _publish(shop[0]) == {"7201": 5, "7202": 6, "7203": 6}


def test_a_bundle_is_picked_as_its_components_and_the_kit_is_published_from_them(
    brand, facility, shop, dhl, people, sign_in, live_server
):
    mug = _on_shelf(brand, facility, shop, "MUG", 7, "7301", barcode="8412345000202")
    spoon = _on_shelf(brand, facility, shop, "SPOON", 4, "7302", barcode="8412345000219")
    kit = KitFactory(brand=brand, code="GIFT-SET", title="Gift set: two mugs and a spoon")
    KitComponent.objects.create(kit=kit, component=mug, quantity=2)
    KitComponent.objects.create(kit=kit, component=spoon, quantity=1)
    ListingFactory(connection=shop[1], sku=kit, external_id="7300", location=LOCATION)
    assert _publish(shop[0])["7300"] == 3  # min(7 // 2, 4 // 1)
    order = _place(shop, ("GIFT-SET", 1))
    assert order.state == OrderState.ACCEPTED
    assert _ledger(mug, facility)[1:] == [(A, 2)] and _ledger(spoon, facility)[1:] == [(A, 1)]
    assert not Movement.objects.filter(sku=kit).exists()  # a kit holds no stock: its components move
    ops, manager = people

    page = sign_in(ops)
    _open_from_the_pick_queue(page, live_server, facility, order)
    codes = page.locator("#pick-lines tbody tr").evaluate_all("rows => rows.map(r => r.dataset.sku)")
    assert codes == ["MUG", "SPOON"]  # the floor picks the components, not the kit
    assert (_picked(page, "MUG"), _picked(page, "SPOON")) == ("0 / 2", "0 / 1")
    _scan(page, "8412345000202")
    _message(page, "Picked.")
    assert _picked(page, "MUG") == "1 / 2"
    _scan(page, "8412345000202")
    _message(page, "Picked.")
    _scan(page, "8412345000219")
    _message(page, "on to packing")
    _pack_one_parcel(page, weight=1500)

    page = sign_in(manager)
    label = _ship_on_the_desk(page, order, dhl)

    assert _ledger(mug, facility) == [(R, 7), (A, 2), (P, 2), (S, 2)]
    assert _ledger(spoon, facility) == [(R, 4), (A, 1), (P, 1), (S, 1)]
    assert (_level(mug, facility)["on_hand"], _level(spoon, facility)["on_hand"]) == (5, 3)
    fulfilment = _fulfilled_on_the_shop(shop[0], order, label)
    assert [(li["sku"], li["quantity"]) for li in fulfilment["line_items"]] == [("GIFT-SET", 1)]
    shown = _publish(shop[0])
    assert kit_available(sku=kit) == 2  # min(5 // 2, 3 // 1)
    assert shown == {"7300": 2, "7301": 5, "7302": 3}


def test_a_partial_order_short_picked_then_one_line_cancelled_by_a_manager(
    brand, facility, shop, dhl, people, sign_in, live_server
):
    tee = _on_shelf(brand, facility, shop, "TEE-M", 10, "7401", barcode="8412345000301")
    cap = _on_shelf(brand, facility, shop, "CAP-1", 3, "7402", barcode="8412345000318")  # the shelf holds only 1
    order = _place(shop, ("TEE-M", 2), ("CAP-1", 2))
    assert order.state == OrderState.ACCEPTED
    ops, manager = people

    page = sign_in(ops)
    _open_from_the_pick_queue(page, live_server, facility, order)
    _scan(page, "8412345000301", 2)
    _message(page, "Picked.")
    _scan(page, "8412345000318")  # the one cap the shelf has
    _message(page, "Picked.")
    assert _picked(page, "CAP-1") == "1 / 2"
    page.fill("#pick-lines tr[data-sku='CAP-1'] input[name=note]", "found 1, the bin is empty")
    page.click("#pick-lines tr[data-sku='CAP-1'] button[type=submit]")
    _message(page, "Short pick recorded")
    assert page.locator("#order-state").get_attribute("data-state") == "floor_hold"
    assert "not on the shelf" in page.locator("#hold").inner_text()
    assert page.locator("#scan").count() == 0 and page.locator("#hold form").count() == 0  # a manager decides
    held = Order.objects.get(pk=order.pk)
    assert (held.state, held.held_from) == (OrderState.FLOOR_HOLD, OrderState.PICKING)
    assert [r["code"] for r in held.hold_reasons] == ["short_pick"]
    exception = ExceptionItem.objects.get(kind=ExceptionKind.SHORT_PICK)
    assert exception.state == ExceptionState.OPEN
    task = CountTask.objects.get(sku=cap, facility=facility)
    assert task.state == "open"

    page = sign_in(manager)  # the exception queue leads to the order, the order to its pick list
    page.click("nav >> text=Exception queue")
    page.click(f"tr[data-exception='{exception.pk}'] a")
    page.click("#pick-link >> text=Pick list")
    page.fill(".cancel-line[data-line='2'] input[name=reason]", "customer takes the tees without the cap")
    page.click(".cancel-line[data-line='2'] button[type=submit]")
    _message(page, "Line cancelled")
    assert page.locator("#order-state").get_attribute("data-state") == "picked"  # on to the pack page
    exception.refresh_from_db()
    assert exception.state == ExceptionState.RESOLVED
    line = Order.objects.get(pk=order.pk).lines.get(line_number=2)
    assert line.cancelled_at is not None and line.cancel_reason == "customer takes the tees without the cap"
    assert _level(cap, facility) == {"on_hand": 3, "allocated": 0, "in_pick": 0}  # the picked cap went back

    page = sign_in(ops)
    page.click("nav >> text=Picking")
    page.click(f"#pick-queue tr[data-order='{order.pk}'][data-state='picked'] a")  # a picked order opens to packing
    _pack_one_parcel(page, weight=600)

    page = sign_in(manager)  # the shelf is counted: the physical count wins
    page.click("nav >> text=Stock")
    page.click("#count-tasks-link")
    page.fill("#count-tasks tr[data-sku='CAP-1'] input[name=counted]", "1")
    page.click("#count-tasks tr[data-sku='CAP-1'] button[type=submit]")
    _message(page, "counted 1 (the system had 3)")
    label = _ship_on_the_desk(page, order, dhl)

    assert _ledger(tee, facility) == [(R, 10), (A, 2), (P, 2), (S, 2)]
    assert _ledger(cap, facility) == [(R, 3), (A, 2), (P, 2), (U, 1), (U, 1), (C, -2)]
    assert _level(cap, facility) == {"on_hand": 1, "allocated": 0, "in_pick": 0}
    fulfilment = _fulfilled_on_the_shop(shop[0], order, label)
    shipped = [(li["sku"], li["quantity"]) for li in fulfilment["line_items"]]
    # The fulfilment names the lines that shipped: the cancelled line's caps stay unfulfilled on the shop.
    assert shipped == [("TEE-M", 2)]
    assert _publish(shop[0]) == {"7401": 8, "7402": 1}  # the count reaches the shop as the truth
