"""Shipping over the REST API and in the console: a floor system ships a packed order (201 with its labels), a
carrier's refusal is a 422 whose detail is the carrier's own message and keeps nothing, the OpenAPI schema documents
the endpoints with their error codes, and an administrator's rule edit records who and why."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from integrations.shipping.models import Label, ShippingRule
from orders.models import Shipment
from tests.integrations.shipping.conftest import packed_order
from warehouse.api.tokens import token_issue

pytestmark = pytest.mark.django_db


def _api(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user)}")
    return client


def test_a_floor_system_ships_a_packed_order_and_voids_its_label(make_user, packed, dhl_account, eu_rule, dhl_sim):
    api = _api(make_user("operations"))

    answer = api.post(f"/api/v1/shipping/orders/{packed.pk}/ship/", {}, format="json")

    assert answer.status_code == 201, answer.content
    body = answer.json()
    (label,) = body["labels"]
    assert (body["carrier"], body["service"]) == ("dhl_parcel_de", "V01PAK")
    assert label["tracking_number"] == body["tracking_number"] and label["documents"] == ["PDF", "ZPL"]
    again = api.post(f"/api/v1/shipping/orders/{packed.pk}/ship/", {}, format="json")
    assert again.status_code == 422 and again.json()["reasons"][0]["code"] == "no_parcels"

    voided = api.post(f"/api/v1/labels/{label['id']}/void/", {"reason": "crushed box"}, format="json")
    assert voided.status_code == 200 and voided.json()["voided_at"]


def test_a_carrier_refusal_is_a_422_with_the_carriers_message_and_nothing_kept(
    make_user, brand, facility, dhl_account, eu_rule, dhl_sim
):
    order = packed_order(brand, facility, postal_code="00000")
    answer = _api(make_user("warehouse_manager")).post(f"/api/v1/shipping/orders/{order.pk}/ship/", {}, format="json")

    assert answer.status_code == 422
    body = answer.json()
    assert body["detail"].startswith("DHL Parcel DE refused the label:")
    assert body["reasons"][0]["code"] == "carrier_rejected"
    assert not Shipment.objects.exists() and not Label.objects.exists()


def test_bad_input_over_the_api_is_refused_and_changes_nothing(make_user, brand, facility, dhl_account, eu_rule):
    order = packed_order(brand, facility)
    api = _api(make_user("operations"))
    url = f"/api/v1/shipping/orders/{order.pk}/ship/"
    for body, status, code in [
        ({"weights": {"1": 0}}, 422, "bad_weight"),
        ({"weights": {"1": -1}}, 422, "bad_weight"),
        ({"carrier": "dhl_parcel_de", "service": "NOPE", "override_reason": "x"}, 422, "unknown_service"),
        ({"carrier": "pigeons", "service": "1", "override_reason": "x"}, 422, "unknown_carrier"),
    ]:
        answer = api.post(url, body, format="json")
        assert answer.status_code == status, (body, answer.content)
        assert code in [r["code"] for r in answer.json()["reasons"]]
    assert not Shipment.objects.exists() and not Label.objects.exists()


def test_the_openapi_schema_documents_the_shipping_endpoints_and_their_errors(make_user):
    schema = _api(make_user("operations")).get("/api/schema/?format=json").json()
    ship = schema["paths"]["/api/v1/shipping/orders/{id}/ship/"]["post"]
    assert {"201", "403", "409", "422", "503"} <= set(ship["responses"])
    assert "carrier_rejected" in ship["responses"]["422"]["description"]
    for path in ("/api/v1/labels/{id}/void/", "/api/v1/labels/{id}/hand-off/", "/api/v1/manifests/",
                 "/api/v1/manifests/{id}/hand-off/"):  # fmt: skip
        assert path in schema["paths"]


def test_an_administrator_edits_a_rule_in_the_console_and_history_records_who_and_why(make_user, client):
    admin = make_user("administrator")
    client.force_login(admin)
    form = {"name": "Heavy by UPS", "priority": "20", "requirement": "any", "zone": "any", "countries": "",
            "min_weight_grams": "20000", "carrier": "ups", "service": "11", "active": "on", "proposed": "on",
            "change_reason": "Parcels over 20 kg go cheaper with UPS"}  # fmt: skip

    refused = client.post("/admin/shipping/shippingrule/add/", {**form, "service": "V01PAK"})
    assert refused.status_code == 200 and "is not a UPS service" in refused.content.decode()
    assert not ShippingRule.objects.exists()

    saved = client.post("/admin/shipping/shippingrule/add/", form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    (version,) = ShippingRule.objects.get().history.all()
    assert version.history_user == admin and version.history_change_reason == form["change_reason"]
    ops = make_user("operations")
    client.force_login(ops)
    assert client.post("/admin/shipping/shippingrule/add/", form).status_code == 403
