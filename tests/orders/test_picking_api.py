"""Picking and packing through the API (`/api/v1/picking/orders/`), as the roles that use it: operations scan and
pack, a manager decides a short pick; bad input answers a clear error naming the field or rule and changes nothing;
another brand's order is a 404."""

import pytest
from rest_framework.test import APIClient

from orders.models import OrderState, Parcel, PickLine
from tests.permissions.fixtures import make_role_user
from warehouse.api.tokens import token_issue
from warehouse.roles import roles_sync

pytestmark = pytest.mark.django_db
BOX = {"weight_grams": 900, "length_mm": 300, "width_mm": 200, "height_mm": 100}


@pytest.fixture
def api(brand):
    roles_sync()

    def client_for(role, username, of_brand=None):
        user = make_role_user(role, brand=of_brand or (brand if role == "brand" else None), username=username)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user)}")
        return client

    return client_for


def _codes(response):
    return {r["code"] for r in response.json().get("reasons", [])}


def _url(order, action=""):
    return f"/api/v1/picking/orders/{order.pk}/" + (f"{action}/" if action else "")


def test_operations_release_pick_and_pack_an_order_over_the_api(api, accepted_order, stock):
    ops = api("operations", "ops")
    queue = ops.get("/api/v1/picking/orders/", {"facility": "VLC1"}).json()
    assert [o["id"] for o in queue["results"]] == [accepted_order.pk]
    body = ops.post(_url(accepted_order, "release")).json()
    assert body["state"] == "picking" and {p["sku"] for p in body["pick_lines"]} == {"TEE-M", "CAP-1"}
    tee = next(p for p in body["pick_lines"] if p["sku"] == "TEE-M")
    barcode = stock["TEE-M"].barcodes.get().value
    assert (
        ops.post(
            _url(accepted_order, "pick"), {"code": barcode, "quantity": 2, "pick_line": tee["id"]}, format="json"
        ).status_code
        == 200
    )
    body = ops.post(_url(accepted_order, "pick"), {"code": "CAP-1"}, format="json").json()
    assert body["state"] == "picked"
    body = ops.post(
        _url(accepted_order, "pack"), {"parcels": [BOX, {**BOX, "weight_grams": 300}]}, format="json"
    ).json()
    assert body["state"] == "packed" and [p["weight_grams"] for p in body["parcels"]] == [900, 300]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"code": "CAP-1", "quantity": 1, "pick_line": "TEE"}, 422, "wrong_sku"),
        ({"code": "TEE-M", "quantity": 3}, 422, "over_pick"),
        ({"code": "TEE-M", "quantity": 0}, 422, "quantity_not_positive"),
        ({"code": "TEE-M", "quantity": -2}, 422, "quantity_not_positive"),
        ({"code": "0000000000000", "quantity": 1}, 422, "unknown_barcode"),
    ],
)
def test_bad_scans_answer_the_rule_and_change_nothing(api, accepted_order, body, status, code):
    ops = api("operations", "ops")
    ops.post(_url(accepted_order, "release"))
    if body.get("pick_line") == "TEE":
        body = {**body, "pick_line": PickLine.objects.get(order=accepted_order, sku__code="TEE-M").pk}
    response = ops.post(_url(accepted_order, "pick"), body, format="json")
    assert response.status_code == status, response.json()
    assert code in _codes(response)
    if code == "wrong_sku" and "pick_line" in body:
        assert "expects TEE-M" in response.json()["detail"]
    assert sum(PickLine.objects.filter(order=accepted_order).values_list("picked", flat=True)) == 0


def test_bad_parcels_are_named_and_nothing_is_packed(api, accepted_order):
    ops = api("operations", "ops")
    ops.post(_url(accepted_order, "release"))
    ops.post(_url(accepted_order, "pick"), {"code": "TEE-M", "quantity": 2}, format="json")
    ops.post(_url(accepted_order, "pick"), {"code": "CAP-1"}, format="json")
    response = ops.post(
        _url(accepted_order, "pack"), {"parcels": [BOX, {**BOX, "height_mm": 0, "weight_grams": -1}]}, format="json"
    )
    assert response.status_code == 422 and {"height_mm", "weight_grams"} <= _codes(response)
    response = ops.post(_url(accepted_order, "pack"), {}, format="json")
    assert response.status_code == 409 and "no_parcels" in _codes(response)
    assert not Parcel.objects.filter(order=accepted_order).exists()
    accepted_order.refresh_from_db()
    assert accepted_order.state == OrderState.PICKED


def test_a_short_pick_is_decided_by_a_manager_only(api, accepted_order):
    ops, mgr, fin = api("operations", "ops"), api("warehouse_manager", "mgr"), api("finance", "fin")
    ops.post(_url(accepted_order, "release"))
    cap = PickLine.objects.get(order=accepted_order, sku__code="CAP-1")
    assert fin.post(_url(accepted_order, "short"), {"pick_line": cap.pk}, format="json").status_code == 403
    body = ops.post(_url(accepted_order, "short"), {"pick_line": cap.pk, "note": "empty bin"}, format="json").json()
    assert body["state"] == "floor_hold" and body["held_from"] == "picking"
    assert body["hold_reasons"][0]["code"] == "short_pick"
    refused = ops.post(_url(accepted_order, "cancel-short-line"), {"line": 2, "reason": "gone"}, format="json")
    assert refused.status_code == 403
    blank = mgr.post(_url(accepted_order, "cancel-short-line"), {"line": 2, "reason": ""}, format="json")
    assert blank.status_code == 400 and "reason" in blank.json().get("fields", blank.json())
    body = mgr.post(
        _url(accepted_order, "cancel-short-line"), {"line": 2, "reason": "out of stock"}, format="json"
    ).json()
    assert body["state"] == "picking" and {p["sku"] for p in body["pick_lines"]} == {"TEE-M"}


def test_another_brands_order_is_a_404_and_finance_may_not_pick(api, accepted_order, other_brand):
    other = api("brand", "other", of_brand=other_brand)
    assert other.get(_url(accepted_order)).status_code == 404
    assert other.post(_url(accepted_order, "release")).status_code == 404
    assert api("brand", "acme-user").get(_url(accepted_order)).status_code == 200
    assert api("finance", "fin").post(_url(accepted_order, "release")).status_code == 403
    accepted_order.refresh_from_db()
    assert accepted_order.state == OrderState.ACCEPTED
