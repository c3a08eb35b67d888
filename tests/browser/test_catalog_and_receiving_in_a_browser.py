"""Issue 16 §1, §2 and §6 in a real browser, clicking what the pages show: a manager creates a variant SKU (size M,
blue) and walks it to ready for receiving, step by step, seeing what a blocked step needs; a manager defines a kit
and cannot make it its own component; a brand user fixes their SKU's catalog drift and cannot change its code; a
manager announces an inbound and receives it by scan, a short line included, and decides the variance."""

import datetime as dt

import pytest

from inventory.models import ExpectedInbound, InboundState, KitComponent, Sku, SkuState, StockLevel
from tests.browser.test_narrow_screens import OFFENDERS_JS
from tests.inventory.factories import DefinedSkuFactory, SkuFactory
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _message(page, text):
    page.wait_for_selector(f".messages li:has-text({text!r})")


def _step(page, name, reason, **fields):
    form = page.locator(f"#steps li[data-step='{name}'] form")
    for field, value in fields.items():
        form.locator(f"input[name={field}]").fill(value)
    form.locator("input[name=reason]").fill(reason)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_a_manager_creates_a_variant_sku_and_walks_it_to_ready_for_receiving(brand, make_user, sign_in, live_server):
    page = sign_in(make_user("warehouse_manager", username="mara"))
    page.goto(f"{live_server.url}/catalog/")
    page.click("#new-sku")
    page.select_option("#id_brand", str(brand.pk))
    page.fill("#id_code", "TEE-M-BLUE")
    page.fill("#id_title", "Tee, blue, M")
    page.fill("#id_parent_code", "TEE")
    page.fill("#id_variant_attributes", "size=M, colour=blue")
    page.fill("#id_reason", "New colour for spring")
    page.click("#sku-new button[type=submit]")
    _message(page, "SKU TEE-M-BLUE created")
    sku = Sku.objects.get(brand=brand, code="TEE-M-BLUE")
    assert sku.variant_attributes == {"size": "M", "colour": "blue"} and sku.state == SkuState.DEFINED

    _step(page, "assign_variants", "Size and colour agreed")
    _message(page, "is now variants assigned")
    # The next step is blocked and says what it needs, in words.
    blocked = page.locator("#steps li[data-step='lock_pack_configuration'] .reasons").inner_text()
    assert "weight in grams" in blocked and "length, width and height" in blocked
    page.fill("#id_weight_grams", "180")
    page.fill("#id_length_mm", "300")
    page.fill("#id_width_mm", "250")
    page.fill("#id_height_mm", "20")
    page.fill("#id_hs_code", "610910")
    page.fill("#sku-edit #id_reason", "Measured at the dock")
    page.click("#sku-edit button[type=submit]")
    _message(page, "SKU TEE-M-BLUE saved")
    _step(page, "lock_pack_configuration", "Carton agreed")
    _message(page, "is now pack configuration locked")
    _step(page, "assign_barcode", "Supplier label", barcode="8412345678905")
    _message(page, "is now barcode assigned")
    _step(page, "mark_ready_for_receiving", "First PO coming")
    _message(page, "is now ready for receiving")
    assert page.locator("h1 [data-state]").get_attribute("data-state") == "ready_for_receiving"

    sku.refresh_from_db()
    assert sku.state == SkuState.READY_FOR_RECEIVING and sku.weight_grams == 180
    assert sku.barcodes.filter(value="8412345678905", is_legacy=False).exists()
    reasons = list(sku.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert reasons[0] == "New colour for spring" and "Measured at the dock" in reasons
    assert "Size and colour agreed" in page.locator("#history").inner_text()
    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    assert page.evaluate(OFFENDERS_JS) == []


def test_a_manager_defines_a_kit_and_it_cannot_be_its_own_component(brand, make_user, sign_in, live_server):
    SkuFactory(brand=brand, code="MUG")
    SkuFactory(brand=brand, code="SPOON")
    page = sign_in(make_user("warehouse_manager", username="mara"))
    page.goto(f"{live_server.url}/catalog/new/")
    page.fill("#id_code", "GIFT-SET")
    page.fill("#id_title", "Gift set")
    page.check("#id_is_kit")
    page.fill("#id_reason", "Christmas bundle")
    page.click("#sku-new button[type=submit]")
    _message(page, "SKU GIFT-SET created")
    kit = Sku.objects.get(code="GIFT-SET")
    assert kit.is_kit

    page.fill("#id_components", "GIFT-SET, 1\nMUG, 2")
    page.fill("#id_components_reason", "First try")
    page.click("#components-form button[type=submit]")
    _message(page, "GIFT-SET cannot be a component of itself")
    assert not KitComponent.objects.filter(kit=kit).exists()

    page.fill("#id_components", "MUG, 2\nSPOON, 1")
    page.fill("#id_components_reason", "Two mugs and a spoon")
    page.click("#components-form button[type=submit]")
    _message(page, "Kit GIFT-SET has 2 components")
    assert page.locator("#components li[data-component='MUG']").inner_text().startswith("2 × MUG")
    assert dict(KitComponent.objects.filter(kit=kit).values_list("component__code", "quantity")) == {
        "MUG": 2,
        "SPOON": 1,
    }


def test_a_brand_user_fixes_catalog_drift_on_their_sku_and_cannot_change_its_code(
    brand, other_brand, make_user, sign_in, live_server
):
    drifting = DefinedSkuFactory(brand=brand, code="SOAP", title="Soap")
    DefinedSkuFactory(brand=other_brand, code="SERUM", title="Serum")
    page = sign_in(make_user("brand", brand=brand, username="acme-user"))
    page.goto(f"{live_server.url}/catalog/")
    page.check("#drift-filter")
    page.click("form.filters button[type=submit]")
    rows = page.locator("#skus tbody tr[data-sku]")
    assert rows.count() == 1 and "weight, dimensions, HS code" in rows.first.inner_text()
    rows.first.locator("a").click()
    assert page.locator("#drift").is_visible()
    assert page.locator("#sku-edit input[name=code]").count() == 0
    assert page.locator("#sku-edit input[name=title]").count() == 0, "brand users fix drift fields only"
    page.fill("#id_weight_grams", "120")
    page.fill("#id_length_mm", "90")
    page.fill("#id_width_mm", "60")
    page.fill("#id_height_mm", "30")
    page.fill("#id_hs_code", "340111")
    page.fill("#id_reason", "Weighed our stock")
    page.click("#sku-edit button[type=submit]")
    _message(page, "SKU SOAP saved")
    assert page.locator("#drift").count() == 0
    drifting.refresh_from_db()
    assert (drifting.weight_grams, drifting.hs_code) == (120, "340111")
    assert drifting.history.latest().history_change_reason == "Weighed our stock"

    # The same form, hand-posted with a new code through the user's own session: refused, nothing changed.
    status = page.evaluate(
        """async () => {
            const form = document.querySelector('#sku-edit');
            const body = new FormData(form);
            body.set('code', 'HACKED'); body.set('reason', 'mine');
            const r = await fetch(form.action || location.href, {method: 'POST', body});
            return r.status;
        }"""
    )
    assert status == 200
    drifting.refresh_from_db()
    assert drifting.code == "SOAP"
    other = Sku.objects.get(code="SERUM")
    assert page.goto(f"{live_server.url}/catalog/{other.pk}/").status == 404


def test_a_manager_announces_an_inbound_and_receives_it_by_scan_deciding_a_short_line(
    brand, facility, make_user, sign_in, live_server
):
    tee = SkuFactory(brand=brand, code="TEE-M", barcode="8400000000017")
    mug = SkuFactory(brand=brand, code="MUG", barcode="8400000000024")
    page = sign_in(make_user("warehouse_manager", username="mara"))
    page.goto(f"{live_server.url}/inbound/")
    page.click("#new-inbound")
    page.select_option("#id_brand", str(brand.pk))
    page.select_option("#id_facility", str(facility.pk))
    page.fill("#id_reference", "ASN-2026-001")
    page.fill("#id_expected_on", "2026-12-10")
    page.fill("#id_lines", "TEE-M, 3\nMUG, 2")
    page.click("#inbound-new button[type=submit]")
    _message(page, "ASN-2026-001 announced with 2 lines")
    inbound = ExpectedInbound.objects.get(reference="ASN-2026-001")
    assert inbound.expected_on == dt.date(2026, 12, 10) and inbound.source == "manager"

    page.fill("#id_scan", "9999999999999")
    page.click("#scan button[type=submit]")
    _message(page, "'9999999999999' is neither a barcode nor a SKU code of Acme Apparel")
    page.fill("#id_scan", "8400000000017")
    page.fill("#id_scan_quantity", "3")
    page.click("#scan button[type=submit]")
    _message(page, "3 × TEE-M received into stock")
    page.fill("#id_scan", "8400000000024")
    page.fill("#id_scan_quantity", "1")
    page.click("#scan button[type=submit]")
    _message(page, "1 × MUG received into stock")
    assert page.locator("#line-2 [data-received]").inner_text() == "1"

    page.click("#finish button[type=submit]")
    _message(page, "wait for a manager's decision")
    row = page.locator("#variance-list tr[data-line='2']")
    assert "Short: expected 2, received 1" in row.inner_text()
    item = ExceptionItem.objects.get(kind=ExceptionKind.RECEIVING_VARIANCE)
    assert item.summary == "ASN-2026-001 line 2, MUG: short: expected 2, received 1 (-1)"
    row.locator("input[name=note]").fill("Supplier confirmed the second mug is not coming")
    row.locator("button[value=accept]").click()
    _message(page, "Line 2 (MUG)")
    assert page.locator("h1 [data-state]").get_attribute("data-state") == "closed"

    inbound.refresh_from_db()
    item.refresh_from_db()
    assert inbound.state == InboundState.CLOSED and item.state == ExceptionState.RESOLVED
    assert StockLevel.objects.get(sku=tee, facility=facility).on_hand == 3
    assert StockLevel.objects.get(sku=mug, facility=facility).on_hand == 1
