"""Issue 11 §4: manual order creation is idempotent on (brand, source, order id). The same body again returns the
first order (200, same representation, nothing new); a different body is a 409 naming every field that differs, and
nothing is overwritten."""

import pytest
from rest_framework.test import APIClient

from orders.models import Order, OrderEvent, OrderSource
from orders.services import order_ingest
from tests.conftest import grant
from tests.orders.factories import CanonicalOrderFactory, line, stocked_sku

URL = "/api/v1/orders/"


def body(**overrides):
    order = {
        "brand": "acme",
        "platform_order_id": "PHONE-7",
        "address": {"name": "Ana", "street1": "Calle 1", "postal_code": "46001", "city": "Valencia", "country": "ES"},
        "phone": "+34 600 000 000",
        "lines": [{"sku_code": "TEE-M", "quantity": 2}],
    }
    order.update(overrides)
    return order


@pytest.fixture
def operator(make_user, brand, facility):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=100)
    stocked_sku(brand=brand, facility=facility, code="TEE-L", units=100)
    return grant(make_user("warehouse_manager"), "orders.add_order")


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_the_same_body_again_returns_the_first_order_and_changes_nothing(operator):
    client = client_for(operator)
    first = client.post(URL, body(), format="json")
    assert first.status_code == 201, first.content
    events = OrderEvent.objects.count()
    again = client.post(URL, body(), format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert Order.objects.filter(platform_order_id="PHONE-7").count() == 1
    assert OrderEvent.objects.count() == events  # no second ingestion, not even a "no change" event


@pytest.mark.django_db
def test_key_order_and_trimmed_spaces_do_not_make_a_body_different(operator):
    client = client_for(operator)
    assert client.post(URL, body(), format="json").status_code == 201
    same = dict(reversed(list(body(phone=" +34 600 000 000 ").items())))
    assert client.post(URL, same, format="json").status_code == 200


@pytest.mark.django_db
def test_a_different_body_for_the_same_order_id_is_409_naming_the_fields_and_overwrites_nothing(operator):
    client = client_for(operator)
    first = client.post(URL, body(), format="json").json()
    changed = body(
        address={**body()["address"], "city": "Madrid"},
        lines=[{"sku_code": "TEE-M", "quantity": 5}, {"sku_code": "TEE-L", "quantity": 1}],
    )
    response = client.post(URL, changed, format="json")
    assert response.status_code == 409
    reasons = response.json()["reasons"]
    assert [r["message"] for r in reasons] == ["address.city", "lines[0].quantity", "lines[1]"]
    assert {r["code"] for r in reasons} == {"differs_from_first_request"}
    assert "Madrid" not in response.content.decode()  # names fields, never echoes customer data
    order = Order.objects.get(platform_order_id="PHONE-7")
    assert order.delivery_city == "Valencia"
    assert [(x.sku_code, x.quantity) for x in order.lines.all()] == [("TEE-M", 2)]
    assert client.get(f"{URL}{first['id']}/").json() == first


@pytest.mark.django_db
def test_an_order_created_before_requests_were_recorded_is_never_overwritten(operator, brand):
    canonical = CanonicalOrderFactory(platform_order_id="PHONE-7", lines=(line("TEE-M"),))
    existing = order_ingest(canonical=canonical, brand=brand, source=OrderSource.MANUAL).order
    response = client_for(operator).post(URL, body(), format="json")
    assert response.status_code == 409
    assert [r["code"] for r in response.json()["reasons"]] == ["order_exists"]
    existing.refresh_from_db()
    assert existing.delivery_city == canonical.address.city


@pytest.mark.django_db
def test_another_brand_may_use_the_same_order_id(operator, other_brand, facility):
    stocked_sku(brand=other_brand, facility=facility, code="TEE-M", units=10)
    client = client_for(grant(operator, "orders.add_order"))
    assert client.post(URL, body(), format="json").status_code == 201
    assert client.post(URL, body(brand="borealis"), format="json").status_code == 201
