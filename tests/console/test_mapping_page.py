"""The mapping editor page (issue 13, item 3): the offered sources and transforms, one outcome per request, the dry
run before saving, and crafted posts that save nothing."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from integrations.mappings import TRANSFORMS, Mappings, mapping_source_fields, normalise
from integrations.models import Connection, InboundDelivery
from integrations.platforms.registry import connector_for
from tests.integrations.factories import ConnectionFactory

pytestmark = pytest.mark.django_db


def _defaults(connection: Connection) -> dict[str, str]:
    connector = connector_for(connection.platform)
    body = {f"source:{t}": "" for t in connector.default_field_mapping}
    body.update({f"transform:{t}": "none" for t in connector.default_field_mapping})
    body.update({f"status:{s}": c for s, c in connector.default_status_mapping.items()})
    return body


@pytest.fixture
def shop() -> Connection:
    connection = ConnectionFactory()
    example = connector_for("shopify").example_orders()[0]
    InboundDelivery.objects.create(
        connection=connection, delivery_id="d-1", body=json.dumps(example).encode(), topic="orders/create"
    )
    return connection


def test_sources_come_from_the_payloads_and_the_default_mapping():
    offered = mapping_source_fields("shopify")
    assert "shipping_address.zip" in offered["order"]
    assert "note_attributes[0].value" in offered["order"]
    assert "customer.phone" in offered["order"]  # from the default mapping even when the example lacks it
    assert "sku" in offered["line"] and "quantity" in offered["line"]


def test_a_transform_applies_to_the_value_read():
    payload = {"id": 1, "shipping_address": {"zip": " ab-12 3 "}, "line_items": []}
    fields = {
        **connector_for("shopify").default_field_mapping,
        "address.postal_code": {"from": "shipping_address.zip", "transform": "digits"},
        "address.city": {"from": "shipping_address.zip", "transform": "upper"},
    }
    order = normalise(payload=payload, mappings=Mappings(fields=fields, statuses={}))
    assert order.address.postal_code == "123"
    assert order.address.city == " AB-12 3 "
    assert set(TRANSFORMS) == {"none", "trim", "upper", "lower", "digits"}


def test_a_mistake_keeps_what_was_typed_shows_one_error_and_saves_nothing(client, make_user, shop):
    client.force_login(make_user("administrator"))
    url = reverse("connection-mappings", args=[shop.pk])
    versions = shop.history.count()
    body = {**_defaults(shop), "source:address.postal_code": "shipping_address.nope", "action": "preview"}
    response = client.post(url, body)
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not a field this platform" in page
    assert page.count('id="mapping-errors"') == 1 and 'id="dry-run"' not in page and "are saved" not in page
    assert 'value="shipping_address.nope" selected' in page
    shop.refresh_from_db()
    assert shop.field_mapping == {} and shop.history.count() == versions


@pytest.mark.parametrize(
    "crafted",
    [
        {"transform:address.city": "eval"},
        {"source:address.nowhere": "id"},
        {"status:paid": "shipped"},
        {"status:invented": "paid"},
        {"source:lines.sku_code": "shipping_address.zip"},  # an order path is not a line item's field
    ],
)
def test_crafted_posts_save_nothing(client, make_user, shop, crafted):
    client.force_login(make_user("administrator"))
    versions = shop.history.count()
    body = {**_defaults(shop), **crafted, "action": "save", "reason": "probe"}
    response = client.post(reverse("connection-mappings", args=[shop.pk]), body)
    assert response.status_code == 400
    shop.refresh_from_db()
    assert shop.field_mapping == {} and shop.status_mapping == {} and shop.history.count() == versions


def test_preview_then_save_records_who_and_why(client, make_user, shop):
    admin = make_user("administrator")
    client.force_login(admin)
    url = reverse("connection-mappings", args=[shop.pk])
    body = {**_defaults(shop), "source:address.postal_code": "shipping_address.zip", "transform:address.city": "upper"}
    preview = client.post(url, {**body, "action": "preview"}).content.decode()
    assert 'id="dry-run"' in preview and 'data-delivery="d-1"' in preview and 'data-field="address.city"' in preview
    shop.refresh_from_db()
    assert shop.field_mapping == {}
    missing_reason = client.post(url, {**body, "action": "save"})
    assert missing_reason.status_code == 400 and "Say why" in missing_reason.content.decode()
    saved = client.post(url, {**body, "action": "save", "reason": "City in capitals for the carrier"}, follow=True)
    assert "are saved" in saved.content.decode()
    shop.refresh_from_db()
    assert shop.field_mapping == {
        "address.postal_code": "shipping_address.zip",
        "address.city": {"from": "shipping_address.city", "transform": "upper"},
    }
    last = shop.history.order_by("-history_date").first()
    assert last.history_user == admin and last.history_change_reason == "City in capitals for the carrier"


@pytest.mark.parametrize("role", ["operations", "warehouse_manager", "finance"])
def test_only_administrators_reach_the_page(client, make_user, shop, role):
    client.force_login(make_user(role))
    url = reverse("connection-mappings", args=[shop.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {**_defaults(shop), "action": "save", "reason": "x"}).status_code == 403


def test_an_override_the_form_cannot_show_is_kept_and_can_take_a_transform(client, make_user, shop):
    from integrations.services import connection_set_mappings

    joined = {"join": ["shipping_address.first_name", "shipping_address.last_name"], "sep": " "}
    connection_set_mappings(connection=shop, field_mapping={"address.name": joined}, status_mapping={}, actor=None)
    client.force_login(make_user("administrator"))
    url = reverse("connection-mappings", args=[shop.pk])
    page = client.get(url).content.decode()
    assert 'value="__current__" selected' in page
    body = {**_defaults(shop), "source:address.name": "__current__", "transform:address.name": "upper"}
    response = client.post(url, {**body, "action": "save", "reason": "Names in capitals"})
    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.field_mapping == {"address.name": {"from": joined, "transform": "upper"}}
    order = normalise(
        payload={"shipping_address": {"first_name": "Ana", "last_name": "Gil"}},
        mappings=Mappings(fields=shop.field_mapping, statuses={}),
    )
    assert order.address.name == "ANA GIL"


@pytest.mark.parametrize(
    "spec",
    [
        {"from": "shipping_address.city", "transform": "eval"},
        {"from": "shipping_address.city", "transform": ["upper"]},
        {"from": {"from": "shipping_address.city"}, "transform": "upper"},
    ],
)
def test_the_service_refuses_a_transform_not_in_the_list(shop, spec):
    from integrations.mappings import MappingError
    from integrations.services import connection_set_mappings

    with pytest.raises(MappingError):
        connection_set_mappings(connection=shop, field_mapping={"address.city": spec}, status_mapping={}, actor=None)
    shop.refresh_from_db()
    assert shop.field_mapping == {}
