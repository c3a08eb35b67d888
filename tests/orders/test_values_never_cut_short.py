"""Values are never silently cut short (issue 10 §3): a person's text over its limit is refused with a 400 naming the
field and nothing is written (the channel's side is in tests/integrations/test_values_that_do_not_fit.py); and a
caller who may not cancel leaves no trace of a refused cancellation."""

import json

import pytest
from rest_framework.test import APIClient

from orders.models import Order, OrderState
from orders.services import order_cancel, order_edit, order_ingest
from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line
from tests.permissions.database import database_fingerprint, fingerprint_changes
from tests.permissions.fixtures import make_user, roles  # noqa: F401
from warehouse.errors import InvalidInput, TooLong
from warehouse.models import ExceptionItem, ExceptionKind

pytestmark = pytest.mark.django_db

MANUAL = {
    "brand": "acme",
    "platform_order_id": "PHONE-9",
    "address": {"name": "Ana", "street1": "Calle 1", "postal_code": "46001", "city": "Valencia", "country": "ES"},
    "phone": "+34 600 000 000",
    "lines": [{"sku_code": "TEE-M", "quantity": 1}],
}


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _too_long(body):
    return [r for r in body.get("reasons", []) if r["code"] == "too_long"]


@pytest.fixture
def acme(brand):
    brand.slug = "acme"
    brand.save()
    return brand


@pytest.fixture
def ops(make_user):  # noqa: F811
    return make_user("operations")


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("address.postal_code", lambda b: b["address"].update(postal_code="4" * 500)),
        ("address.name", lambda b: b["address"].update(name="N" * 5000)),
        ("phone", lambda b: b.update(phone="6" * 41)),
        ("lines.sku_code", lambda b: b["lines"][0].update(sku_code="S" * 101)),
    ],
    ids=["zip", "name", "phone", "sku"],
)
def test_an_over_long_value_over_the_api_is_a_400_naming_the_field_and_writes_nothing(acme, ops, field, change):
    body = json.loads(json.dumps(MANUAL))
    change(body)
    before = database_fingerprint()
    response = _api(ops).post("/api/v1/orders/", body, format="json")
    assert response.status_code == 400, response.content
    assert field.split(".")[-1] in json.dumps(response.json())
    assert fingerprint_changes(before, database_fingerprint()) == []


def test_an_over_long_cancellation_reason_is_a_400_naming_it_and_writes_nothing(acme, ops, facility):
    from tests.orders.factories import stocked_sku

    stocked_sku(brand=acme, facility=facility, code="TEE-M", units=5)
    order = order_ingest(canonical=CanonicalOrderFactory(lines=(line("TEE-M"),)), brand=acme).order
    before = database_fingerprint()
    response = _api(ops).post(f"/api/v1/orders/{order.pk}/transitions/cancel/", {"reason": "r" * 301}, format="json")
    assert response.status_code == 400
    assert _too_long(response.json())[0]["message"] == "reason: 301 characters, at most 300"
    assert fingerprint_changes(before, database_fingerprint()) == []
    order.refresh_from_db()
    assert order.state == OrderState.ACCEPTED


def test_a_person_editing_a_held_order_with_an_over_long_zip_is_refused_and_nothing_changes(acme, make_user):  # noqa: F811
    order = order_ingest(
        canonical=CanonicalOrderFactory(lines=(line("NOPE"),), address=CanonicalAddressFactory(postal_code="")),
        brand=acme,
    ).order
    with pytest.raises(TooLong) as refused:
        order_edit(order=order, actor=make_user("warehouse_manager"), address={"postal_code": "4" * 21})
    assert refused.value.reasons[0].message == "postal_code: 21 characters, at most 20"
    assert refused.value.http_status == 400 and isinstance(refused.value, InvalidInput)
    order.refresh_from_db()
    assert order.delivery_postal_code == ""


def test_an_order_id_that_cannot_be_a_key_is_refused_even_from_a_channel(acme):
    with pytest.raises(InvalidInput) as refused:
        order_ingest(canonical=CanonicalOrderFactory(platform_order_id="9" * 101), brand=acme)
    assert refused.value.reasons[0].message == "platform_order_id: 101 characters, at most 100"
    assert not Order.objects.exists()


@pytest.mark.parametrize("role", ["finance", "brand"])
def test_a_refused_cancellation_after_packing_writes_nothing(acme, facility, make_user, role):  # noqa: F811
    """The cancellation after packing escalates (exception and timeline row) only for a caller who may cancel."""
    from orders.services import order_confirm_picked, order_pack, order_release_to_pick
    from tests.orders.factories import stocked_sku

    stocked_sku(brand=acme, facility=facility, code="TEE-M", units=5)
    order = order_ingest(canonical=CanonicalOrderFactory(lines=(line("TEE-M"),)), brand=acme).order
    for step in (order_release_to_pick, order_confirm_picked, order_pack):
        order = step(order=order, actor=None)
    caller = make_user(role, brand=acme) if role == "brand" else make_user(role)
    before = database_fingerprint()
    response = _api(caller).post(
        f"/api/v1/orders/{order.pk}/transitions/cancel/", {"reason": "Customer asked"}, format="json"
    )
    assert response.status_code == 403
    assert fingerprint_changes(before, database_fingerprint()) == []
    with pytest.raises(Exception) as refused:
        order_cancel(order=order, actor=caller, reason="again")
    assert type(refused.value).__name__ == "NotPermitted"
    assert not ExceptionItem.objects.filter(kind=ExceptionKind.CANCEL_AFTER_PACK).exists()
