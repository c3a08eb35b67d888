"""Issue 16's bad-input list through the catalogue and receiving pages: an unknown barcode, a scan past an alias window
(the new code is named), a receipt of 0 or fewer units, a SKU code already used by the brand, a kit with itself as a
component. Each is refused on the page in words and changes nothing: no ledger movement, no stock, no line, no SKU,
no history. The API's side is in test_catalog_editing.py; triage without a grade in tests/returns/test_returns_api.py
(API) and tests/browser/test_returns_in_a_browser.py (page)."""

import datetime as dt
import html

import pytest
from django.test import Client
from django.utils import timezone

from inventory.models import ExpectedInboundLine, KitComponent, Movement, Sku, SkuAlias, StockLevel
from inventory.receiving import expected_inbound_create
from tests.inventory.factories import KitFactory, SkuFactory
from tests.permissions.fixtures import make_role_user
from warehouse.models import ExceptionItem
from warehouse.roles import roles_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def floor(brand, facility):
    roles_sync()
    tee = SkuFactory(brand=brand, code="TEE-M", barcode="8412345000024")
    now = timezone.now()
    SkuAlias.objects.create(brand=brand, sku=tee, code="TEE-OLD", valid_from=now - dt.timedelta(days=40),
                            valid_until=now - dt.timedelta(days=10))  # fmt: skip
    inbound = expected_inbound_create(brand=brand, facility=facility, reference="ASN-77", expected_on=now.date(),
                                      lines=[(tee, 4)], actor=None)  # fmt: skip
    client = Client()
    client.force_login(make_role_user("warehouse_manager", username="mgr"))
    return {"tee": tee, "inbound": inbound, "client": client}


def _errors(response):
    return [str(m) for m in response.context["messages"] if m.level_tag == "error"]


def _nothing_received(floor):
    line = ExpectedInboundLine.objects.get(inbound=floor["inbound"])
    assert (line.quantity_received, line.quantity_held) == (0, 0)
    assert ExpectedInboundLine.objects.filter(inbound=floor["inbound"]).count() == 1  # no unexpected line either
    assert not Movement.objects.exists() and not StockLevel.objects.exists()
    assert not ExceptionItem.objects.exists()


@pytest.mark.parametrize(
    ("code", "quantity", "words"),
    [
        ("9999999999999", "1", "'9999999999999' is neither a barcode nor a SKU code of Acme Apparel"),
        ("TEE-OLD", "1", "use TEE-M"),  # the alias's window is over: the new code is named
        ("8412345000024", "0", "quantity 0 is not a whole number of at least 1"),
        ("8412345000024", "-3", "quantity -3 is not a whole number of at least 1"),
        ("8412345000024", "two", "is not a whole number of at least 1"),
    ],
)
def test_a_bad_scan_on_the_receiving_page_is_refused_in_words_and_receives_nothing(floor, code, quantity, words):
    inbound = floor["inbound"]
    answer = floor["client"].post(f"/inbound/{inbound.pk}/scan/", {"code": code, "quantity": quantity}, follow=True)
    assert answer.status_code == 200
    assert any(words in m for m in _errors(answer)), _errors(answer)
    assert words in html.unescape(answer.content.decode())  # shown on the inbound's page
    _nothing_received(floor)


@pytest.mark.parametrize("quantity", ["0", "-1", ""])
def test_a_line_receipt_of_no_units_is_refused_in_words_and_receives_nothing(floor, quantity):
    inbound = floor["inbound"]
    answer = floor["client"].post(f"/inbound/{inbound.pk}/lines/1/receive/", {"quantity": quantity}, follow=True)
    assert answer.status_code == 200
    assert any("is not a whole number of at least 1" in m for m in _errors(answer)), _errors(answer)
    _nothing_received(floor)


@pytest.mark.parametrize("code", ["TEE-M", "TEE-OLD"])
def test_a_new_sku_with_a_code_the_brand_already_uses_is_refused_and_the_form_keeps_what_was_typed(floor, brand, code):
    before = Sku.history.count()
    body = {"brand": brand.pk, "code": code, "title": "Tee again", "hs_code": "610910", "reason": "new line"}
    answer = floor["client"].post("/catalog/new/", body)
    assert answer.status_code == 200  # the form again, not a redirect to a new SKU
    assert any("TEE-M" in m and code in m for m in _errors(answer)), _errors(answer)
    page = html.unescape(answer.content.decode())
    assert 'value="Tee again"' in page and f'value="{code}"' in page
    assert Sku.objects.filter(brand=brand).count() == 1 and Sku.history.count() == before


def test_renaming_a_sku_to_a_code_the_brand_already_uses_is_refused_and_nothing_changes(floor, brand):
    mug = SkuFactory(brand=brand, code="MUG")
    answer = floor["client"].post(f"/catalog/{mug.pk}/code/", {"new_code": "TEE-M", "reason": "merge"}, follow=True)
    assert any("SKU code TEE-M is in use" in m for m in _errors(answer)), _errors(answer)
    mug.refresh_from_db()
    assert mug.code == "MUG" and not SkuAlias.objects.filter(sku=mug).exists()


def test_a_kit_with_itself_as_a_component_is_refused_on_its_page_and_keeps_its_components(floor, brand):
    kit = KitFactory(brand=brand, code="GIFT")
    KitComponent.objects.create(kit=kit, component=floor["tee"], quantity=1)
    body = {"components": "GIFT, 1\nTEE-M, 2", "reason": "bundle"}
    answer = floor["client"].post(f"/catalog/{kit.pk}/components/", body, follow=True)
    assert any("GIFT cannot be a component of itself" in m for m in _errors(answer)), _errors(answer)
    assert list(KitComponent.objects.filter(kit=kit).values_list("component__code", "quantity")) == [("TEE-M", 1)]
