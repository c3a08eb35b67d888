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


def _state(order):
    from integrations.shipping.models import Manifest
    from orders.models import Order, Parcel

    parcels = list(Parcel.objects.values_list("shipment_id", "weight_grams").order_by("pk"))
    return (
        Order.objects.get(pk=order.pk).state,
        Shipment.objects.count(),
        Label.objects.count(),
        Manifest.objects.count(),
        parcels,
    )


def test_the_issues_bad_input_list_over_the_api_each_named_and_nothing_changed(
    make_user, brand, facility, dhl_account, eu_rule, dhl_sim
):
    """No parcels, zero or negative weight, an unknown service, customs data missing outside the customs union, a
    label for an order that is not packed: each a clear error naming the field or reason, nothing bought or kept."""
    from orders.models import Order, OrderState

    api = _api(make_user("operations"))
    ShippingRule.objects.create(name="World", zone="outside", carrier="dhl_parcel_de", service="V53WPAK")
    order = packed_order(brand, facility)
    no_parcels = packed_order(brand, facility, parcels=())
    to_switzerland = packed_order(brand, facility, code="MUG", country="CH", postal_code="8001")
    picked = packed_order(brand, facility)
    Order.objects.filter(pk=picked.pk).update(state=OrderState.PICKED)
    cases = [
        (no_parcels, {}, 422, "no_parcels", "no parcel waiting for a label"),
        (order, {"weights": {"1": 0}}, 422, "bad_weight", "parcel 1: weight must be a positive number of grams"),
        (order, {"weights": {"1": -250}}, 422, "bad_weight", "parcel 1: weight must be a positive number of grams"),
        (order, {"weights": {"7": 500}}, 422, "unknown_parcel", "parcel 7 is not a parcel of this order"),
        (order, {"carrier": "dhl_parcel_de", "service": "V99", "override_reason": "x"}, 422, "unknown_service",
         "'V99' is not a DHL Parcel DE service; on offer: V01PAK (DHL Paket)"),
        (to_switzerland, {}, 409, "customs_data_missing", "SKU MUG: customs value, country of origin missing"),
        (picked, {}, 409, "order_not_packed", "labels are bought once it is packed"),
    ]  # fmt: skip
    for subject, body, status, code, words in cases:
        before, calls = _state(subject), len(dhl_sim.requests)
        answer = api.post(f"/api/v1/shipping/orders/{subject.pk}/ship/", body, format="json")
        assert answer.status_code == status, (body, answer.content)
        assert code in [r["code"] for r in answer.json()["reasons"]], answer.json()
        assert words in answer.json()["detail"], answer.json()["detail"]
        held = subject is to_switzerland  # missing customs data holds the order (§2), on the floor: only that
        after = ("floor_hold", *before[1:]) if held else before
        assert _state(subject) == after and len(dhl_sim.requests) == calls, body  # nothing bought, nothing kept

    typo = api.post(f"/api/v1/shipping/orders/{order.pk}/ship/", {"weights": {"1": "heavy"}}, format="json")
    assert typo.status_code == 400 and "weights" in typo.content.decode()  # the field is named
    assert _state(order)[1:3] == (0, 0)
