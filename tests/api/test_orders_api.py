"""Issue 4 §6: orders over the API expose id, brand, state, platform, platform_order_id and lines, filter by
platform_order_id, brand, state, channel and platform, are scoped by brand, cap the page size, and refuse bad writes."""

import pytest
from rest_framework.test import APIClient

from orders.models import Order
from orders.services import order_ingest
from tests.factories import SalesChannelFactory
from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line, stocked_sku

pytestmark = pytest.mark.django_db


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def orders(brand, other_brand, facility):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=100)
    stocked_sku(brand=other_brand, facility=facility, code="SERUM", units=100)
    mine = [
        order_ingest(
            canonical=CanonicalOrderFactory(platform_order_id=f"#A{i}", lines=(line("TEE-M"),)), brand=brand
        ).order
        for i in range(3)
    ]
    held = order_ingest(
        canonical=CanonicalOrderFactory(
            platform_order_id="#A-HOLD", lines=(line("TEE-M"),), address=CanonicalAddressFactory(postal_code="")
        ),
        brand=brand,
    ).order
    theirs = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#B1", lines=(line("SERUM"),)), brand=other_brand
    ).order
    return {"mine": mine, "held": held, "theirs": theirs}


def test_orders_expose_the_contract_fields_and_filter(make_user, orders, brand, django_assert_max_num_queries):
    client = _client(make_user("operations"))
    with django_assert_max_num_queries(8):
        body = client.get("/api/v1/orders/").json()
    assert body["count"] == 5
    assert {"id", "brand", "state", "platform", "platform_order_id", "lines"} <= set(body["results"][0])
    assert body["results"][0]["lines"][0]["sku_code"] in {"TEE-M", "SERUM"}
    by_id = client.get("/api/v1/orders/", {"platform_order_id": "#A-HOLD"}).json()["results"]
    assert [o["state"] for o in by_id] == ["on_hold"]
    assert client.get("/api/v1/orders/", {"state": "on_hold"}).json()["count"] == 1
    assert client.get("/api/v1/orders/", {"brand": brand.pk}).json()["count"] == 4
    assert client.get("/api/v1/orders/", {"channel": 999999}).json()["count"] == 0


def test_a_brand_user_sees_only_their_orders_and_gets_404_for_another_brands(make_user, orders, brand, other_brand):
    client = _client(make_user("brand", brand=brand))
    body = client.get("/api/v1/orders/").json()
    assert body["count"] == 4 and {o["brand"] for o in body["results"]} == {"acme"}
    assert client.get(f"/api/v1/orders/{orders['theirs'].pk}/").status_code == 404
    assert client.get("/api/v1/orders/", {"platform_order_id": "#B1"}).json()["count"] == 0
    assert client.get("/api/v1/orders/", {"brand": other_brand.pk}).status_code == 400  # not a choice for them


def test_page_size_is_capped(make_user, orders):
    body = _client(make_user("operations")).get("/api/v1/orders/", {"page_size": 10**9}).json()
    assert len(body["results"]) == 5  # under the cap of 200; a huge value is clamped, never a 500


def _manual(**overrides):
    body = {
        "brand": "acme",
        "platform_order_id": "PHONE-1",
        "address": {"name": "Ana", "street1": "Calle 1", "postal_code": "46001", "city": "Valencia", "country": "ES"},
        "phone": "+34 600 000 000",
        "lines": [{"sku_code": "TEE-M", "quantity": 2}],
    }
    body.update(overrides)
    return body


def test_a_manager_creates_a_manual_order(make_user, orders):
    manager = make_user("warehouse_manager")
    manager.user_permissions.add(
        *__import__("django.contrib.auth.models", fromlist=["Permission"]).Permission.objects.filter(
            codename="add_order"
        )
    )
    response = _client(manager).post("/api/v1/orders/", _manual(), format="json")
    assert response.status_code == 201, response.content
    order = Order.objects.get(platform_order_id="PHONE-1")
    assert order.source == "manual" and response.json()["state"] == order.state


@pytest.mark.parametrize("extra", [{"state": "delivered"}, {"id": 1}, {"allocated_lines": []}])
def test_extra_fields_in_a_write_are_400_and_change_nothing(make_user, orders, extra):
    before = Order.objects.count()
    response = _client(make_user("superuser")).post("/api/v1/orders/", _manual(**extra), format="json")
    assert response.status_code == 400 and set(extra) <= set(response.json())
    assert Order.objects.count() == before


def test_an_order_for_another_brand_cannot_be_created_by_a_brand_user(make_user, orders, brand):
    user = make_user("brand", brand=brand)
    response = _client(user).post("/api/v1/orders/", _manual(brand="borealis"), format="json")
    assert response.status_code == 403
    assert not Order.objects.filter(platform_order_id="PHONE-1").exists()


def test_a_transition_from_the_wrong_state_is_409_and_forcing_without_a_reason_is_refused(make_user, orders):
    client = _client(make_user("warehouse_manager"))
    held = orders["held"]
    wrong = client.post(f"/api/v1/orders/{held.pk}/transitions/pack/", {}, format="json")
    assert wrong.status_code == 409 and wrong.json()["reasons"]
    blank = client.post(
        f"/api/v1/orders/{held.pk}/transitions/validate/", {"force": True, "reason": " "}, format="json"
    )
    assert blank.status_code in (400, 422)
    held.refresh_from_db()
    assert held.state == "on_hold"


def test_operations_cannot_force(make_user, orders):
    held = orders["held"]
    response = _client(make_user("operations")).post(
        f"/api/v1/orders/{held.pk}/transitions/validate/",
        {"force": True, "reason": "I think it is fine"},
        format="json",
    )
    assert response.status_code == 403
    held.refresh_from_db()
    assert held.state == "on_hold"


def test_a_manager_forces_a_held_order_with_a_reason(make_user, orders):
    held = orders["held"]
    response = _client(make_user("warehouse_manager")).post(
        f"/api/v1/orders/{held.pk}/transitions/validate/",
        {"force": True, "reason": "Customer confirmed by phone"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] != "on_hold"


def test_search_by_order_id_finds_channel_and_manual_orders_of_visible_brands_only(make_user, orders, brand):
    shop = SalesChannelFactory(brand=brand, platform_code="shopify", name="Acme")
    channel = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#B1", lines=(line("TEE-M"),)), brand=brand, channel=shop
    ).order
    staff = _client(make_user("operations"))
    found = staff.get("/api/v1/orders/", {"platform_order_id": "#B1"}).json()["results"]
    assert sorted(o["id"] for o in found) == sorted([channel.pk, orders["theirs"].pk])
    mine = _client(make_user("brand", brand=brand)).get("/api/v1/orders/", {"platform_order_id": "#B1"}).json()
    assert [o["id"] for o in mine["results"]] == [channel.pk]
    assert staff.get("/api/v1/orders/", {"platform_order_id": "#B1", "channel": shop.pk}).json()["count"] == 1
    by_platform = staff.get("/api/v1/orders/", {"platform": "shopify"}).json()["results"]
    assert [(o["id"], o["channel"], o["platform"]) for o in by_platform] == [(channel.pk, shop.pk, "shopify")]
