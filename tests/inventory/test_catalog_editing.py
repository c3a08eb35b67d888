"""Issue 16 §2 and the bad-input list, through the API (the pages call the same rules): a SKU code already used by
the brand, a kit with itself as a component, a brand user's edit of anything but drift fields, an ERP-owned catalog
in the console, a scan past an alias window and a zero receipt; each answers a clear error and changes nothing."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.catalog import catalog_ownership_set, sku_update
from inventory.models import KitComponent, Sku, SkuAlias, StockLevel
from inventory.receiving import expected_inbound_create
from tests.inventory.factories import DefinedSkuFactory, KitFactory, SkuFactory
from tests.permissions.fixtures import make_role_user
from warehouse.api.tokens import token_issue
from warehouse.errors import Conflict, NotPermitted
from warehouse.roles import roles_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(brand):
    roles_sync()

    def client_for(role, username):
        user = make_role_user(role, brand=brand if role == "brand" else None, username=username)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user)}")
        return client, user

    return client_for


def _codes(response):
    return {r["code"] for r in response.json().get("reasons", [])}


def test_a_sku_code_already_used_by_the_brand_is_refused_but_another_brand_may_use_it(api, brand, other_brand):
    SkuFactory(brand=brand, code="MUG")
    SkuFactory(brand=other_brand, code="CUP")
    SkuAlias.objects.create(brand=brand, sku=Sku.objects.get(code="MUG"), code="MUG-OLD")
    client, _ = api("warehouse_manager", "mgr")
    for code in ("MUG", "MUG-OLD"):
        response = client.post("/api/v1/skus/", {"brand": "acme", "code": code, "reason": "new"}, format="json")
        assert response.status_code == 409 and "code_in_use" in _codes(response), response.json()
    assert Sku.objects.filter(brand=brand).count() == 1
    response = client.post("/api/v1/skus/", {"brand": "acme", "code": "CUP", "reason": "new"}, format="json")
    assert response.status_code == 201 and response.json()["state"] == "defined"


def test_a_kit_with_itself_as_a_component_is_refused_and_nothing_changes(api, brand):
    kit = KitFactory(brand=brand, code="GIFT")
    mug = SkuFactory(brand=brand, code="MUG")
    KitComponent.objects.create(kit=kit, component=mug, quantity=1)
    client, _ = api("warehouse_manager", "mgr")
    body = {"components": [{"sku": "GIFT", "quantity": 1}, {"sku": "MUG", "quantity": 3}], "reason": "bundle"}
    response = client.put(f"/api/v1/skus/{kit.pk}/components/", body, format="json")
    assert response.status_code == 422 and "kit_contains_itself" in _codes(response)
    assert "GIFT cannot be a component of itself" in response.json()["detail"]
    assert list(KitComponent.objects.filter(kit=kit).values_list("component__code", "quantity")) == [("MUG", 1)]


def test_a_brand_user_fixes_drift_fields_only_and_never_the_code(api, brand, other_brand):
    soap = DefinedSkuFactory(brand=brand, code="SOAP")
    serum = DefinedSkuFactory(brand=other_brand, code="SERUM")
    client, _user = api("brand", "acme-user")
    listed = client.get("/api/v1/skus/?drift=1").json()["results"]
    assert [row["code"] for row in listed] == ["SOAP"] and listed[0]["missing"] == ["weight", "dimensions", "HS code"]
    response = client.patch(f"/api/v1/skus/{soap.pk}/", {"weight_grams": 120, "reason": "weighed"}, format="json")
    assert response.status_code == 200 and response.json()["weight_grams"] == 120
    response = client.patch(f"/api/v1/skus/{soap.pk}/", {"title": "Better soap", "reason": "x"}, format="json")
    assert response.status_code == 403 and "field_not_editable" in _codes(response)
    response = client.patch(f"/api/v1/skus/{soap.pk}/", {"code": "SOAP-2", "reason": "x"}, format="json")
    assert response.status_code == 422 and "code_not_editable" in _codes(response)
    response = client.patch(f"/api/v1/skus/{soap.pk}/", {"weight_grams": 1}, format="json")
    assert response.status_code == 400  # the reason is required
    assert client.patch(f"/api/v1/skus/{serum.pk}/", {"hs_code": "1", "reason": "x"}, format="json").status_code == 404
    title = soap.title
    soap.refresh_from_db()
    assert (soap.code, soap.title, soap.weight_grams) == ("SOAP", title, 120)
    assert soap.history.latest().history_change_reason == "weighed"


def test_an_erp_owned_catalog_is_read_only_in_the_console(brand):
    roles_sync()
    soap = DefinedSkuFactory(brand=brand, code="SOAP")
    admin = make_role_user("administrator", username="adm")
    catalog_ownership_set(brand=brand, owned_by_erp=True, erp_name="Odoo", actor=admin, reason="ERP go-live")
    with pytest.raises(Conflict) as excinfo:
        sku_update(sku=soap, changes={"hs_code": "340111"}, actor=admin, reason="fix")
    assert "owned by Odoo" in excinfo.value.message
    assert sku_update(sku=soap, changes={"hs_code": "340111"}, actor=None, reason="from Odoo", via="api").hs_code
    with pytest.raises(NotPermitted):
        catalog_ownership_set(brand=brand, owned_by_erp=False, erp_name="", actor=make_role_user("warehouse_manager"),
                              reason="x")  # fmt: skip


def test_receipts_through_the_api_refuse_a_retired_alias_naming_the_new_code_and_a_zero_quantity(api, brand, facility):
    tee = SkuFactory(brand=brand, code="TEE-M")
    now = timezone.now()
    SkuAlias.objects.create(brand=brand, sku=tee, code="TEE-OLD", valid_from=now - dt.timedelta(days=40),
                            valid_until=now - dt.timedelta(days=10))  # fmt: skip
    inbound = expected_inbound_create(brand=brand, facility=facility, reference="ASN-1", expected_on=now.date(),
                                      lines=[(tee, 4)], actor=None)  # fmt: skip
    client, _ = api("operations", "ops")
    url = f"/api/v1/expected-inbound/{inbound.pk}/receive/"
    response = client.post(url, {"code": "TEE-OLD"}, format="json")
    assert response.status_code == 422 and "alias_expired" in _codes(response)
    assert "use TEE-M" in response.json()["detail"]
    response = client.post(url, {"code": "NOPE"}, format="json")
    assert response.status_code == 422 and "unknown_barcode" in _codes(response)
    for quantity in (0, -2):
        response = client.post(url, {"line": 1, "quantity": quantity}, format="json")
        assert response.status_code == 422 and "quantity_not_positive" in _codes(response)
    assert not StockLevel.objects.filter(sku=tee).exists()
    response = client.post(url, {"line": 1, "quantity": 4, "event_id": "dock-1"}, format="json")
    assert response.status_code == 200 and response.json()["into_stock"] == 4
    again = client.post(url, {"line": 1, "quantity": 4, "event_id": "dock-1"}, format="json")  # a retry
    assert again.status_code == 200 and again.json()["into_stock"] == 0
    assert [w["code"] for w in again.json()["warnings"]] == ["already_received"]
    assert StockLevel.objects.get(sku=tee).on_hand == 4 and again.json()["line"]["quantity_received"] == 4


def test_a_scan_of_no_units_through_the_api_is_refused_and_receives_nothing(api, brand, facility):
    tee = SkuFactory(brand=brand, code="TEE-M", barcode="8412345000031")
    inbound = expected_inbound_create(brand=brand, facility=facility, reference="ASN-2",
                                      expected_on=timezone.localdate(), lines=[(tee, 4)], actor=None)  # fmt: skip
    client, _ = api("operations", "ops")
    for quantity in (0, -3):
        body = {"code": "8412345000031", "quantity": quantity}
        response = client.post(f"/api/v1/expected-inbound/{inbound.pk}/receive/", body, format="json")
        assert response.status_code == 422 and _codes(response) == {"quantity_not_positive"}, response.json()
    assert list(inbound.lines.values_list("quantity_received", "quantity_held")) == [(0, 0)]
    assert not StockLevel.objects.filter(sku=tee).exists()


def test_renaming_a_sku_to_a_code_the_brand_uses_through_the_api_is_a_409_and_changes_nothing(api, brand):
    SkuFactory(brand=brand, code="TEE-M")
    mug = SkuFactory(brand=brand, code="MUG")
    client, _ = api("warehouse_manager", "mgr")
    response = client.post(f"/api/v1/skus/{mug.pk}/change-code/", {"new_code": "TEE-M", "reason": "merge"},
                           format="json")  # fmt: skip
    assert response.status_code == 409 and _codes(response) == {"code_in_use"}
    mug.refresh_from_db()
    assert mug.code == "MUG" and not SkuAlias.objects.filter(sku=mug).exists()


def test_the_schema_documents_the_new_actions_with_their_error_codes(api):
    client, _ = api("warehouse_manager", "mgr")
    schema = client.get("/api/schema/?format=json").json()
    for path, method in [
        ("/api/v1/skus/", "post"),
        ("/api/v1/skus/{id}/", "patch"),
        ("/api/v1/skus/{id}/steps/{name}/", "post"),
        ("/api/v1/skus/{id}/components/", "put"),
        ("/api/v1/expected-inbound/", "post"),
        ("/api/v1/expected-inbound/{id}/receive/", "post"),
        ("/api/v1/expected-inbound/{id}/decide/", "post"),
    ]:
        operation = schema["paths"][path][method]
        assert {"403", "404", "409", "422"} <= set(operation["responses"]), path
    assert "alias_expired" in schema["paths"]["/api/v1/expected-inbound/{id}/receive/"]["post"]["description"]
