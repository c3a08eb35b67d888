"""Field and status mappings as data: validation, history, and the dry run over the last stored payloads."""

import json

import pytest

from integrations.mappings import (
    MappingError,
    mapping_dry_run,
    mapping_validate,
    mappings_for,
    normalise,
    parse_datetime,
)
from integrations.models import InboundDelivery
from integrations.platforms.fixtures import fixture
from integrations.services import connection_set_mappings
from tests.integrations.conftest import shopify_order

pytestmark = pytest.mark.django_db


def test_shopify_official_order_fixture_normalises_to_a_canonical_order(shopify_connection):
    payload = fixture("integrations.platforms.shopify", "order.json")["order"]
    canonical = normalise(payload=payload, mappings=mappings_for(shopify_connection))
    assert canonical.platform_order_id == str(payload["id"])
    assert canonical.address.postal_code == "40202" and canonical.address.country == "US"
    assert canonical.updated_at is not None and canonical.updated_at.tzinfo is not None
    assert [line.sku_code for line in canonical.lines] == ["IPOD2008GREEN", "IPOD2008RED", "IPOD2008BLACK"]
    assert canonical.status == "paid"  # financial_status "authorized": payment secured
    assert canonical.updated_at.isoformat() == "2008-01-10T11:00:00-05:00"


def test_woocommerce_official_order_fixture_normalises_to_a_canonical_order(woo_connection):
    payload = fixture("integrations.platforms.woocommerce", "order_retrieve_response.json")
    canonical = normalise(payload=payload, mappings=mappings_for(woo_connection))
    assert canonical.platform_order_id == str(payload["id"])
    assert canonical.address.name == "John Doe" and canonical.address.postal_code == "94103"
    assert canonical.updated_at.isoformat().startswith(payload["date_modified_gmt"])
    assert canonical.status == "paid"  # processing → paid
    assert canonical.email == "john.doe@example.com"


def test_a_cancelled_shopify_order_is_cancelled_whatever_its_financial_status(shopify_connection):
    payload = shopify_order(cancelled_at="2026-11-24T10:00:00+00:00")
    assert normalise(payload=payload, mappings=mappings_for(shopify_connection)).status == "cancelled"


@pytest.mark.parametrize(
    ("field_mapping", "status_mapping", "code"),
    [
        ({"colour": "a.b"}, {}, "unknown_canonical_field"),
        ({"email": "a..b"}, {}, "malformed_path"),
        ({"email": "a b"}, {}, "malformed_path"),
        ({"email": 5}, {}, "malformed_path"),
        ({"email": ["ok", "bad path!"]}, {}, "malformed_path"),
        ({}, {"processing": "shipped"}, "unknown_canonical_status"),
    ],
)
def test_an_invalid_mapping_is_refused_with_a_clear_reason(shopify_connection, field_mapping, status_mapping, code):
    with pytest.raises(MappingError) as caught:
        connection_set_mappings(
            connection=shopify_connection, field_mapping=field_mapping, status_mapping=status_mapping, actor=None
        )
    assert code in [r.code for r in caught.value.reasons]
    shopify_connection.refresh_from_db()
    assert shopify_connection.field_mapping == {} and shopify_connection.status_mapping == {}


def test_mapping_changes_are_kept_in_history(shopify_connection, manager):
    connection_set_mappings(
        connection=shopify_connection, field_mapping={"email": "customer.email"}, status_mapping={}, actor=manager
    )
    connection_set_mappings(
        connection=shopify_connection, field_mapping={"email": "contact_email"}, status_mapping={}, actor=manager
    )
    mappings = [h.field_mapping for h in shopify_connection.history.order_by("history_id")]
    assert {"email": "customer.email"} in mappings and mappings[-1] == {"email": "contact_email"}
    assert shopify_connection.history.first().history_user == manager


def test_mapping_dry_run_shows_what_the_last_20_payloads_would_become(shopify_connection):
    for n in range(25):
        InboundDelivery.objects.create(
            connection=shopify_connection,
            delivery_id=f"wh-{n}",
            topic="orders/create",
            body=json.dumps(shopify_order(2000 + n, note=f"gift {n}")).encode(),
        )
    rows = mapping_dry_run(shopify_connection, {"field_mapping": {"special_handling": "name"}})
    assert len(rows) == 20
    assert rows[0]["delivery_id"] == "wh-24"
    assert rows[0]["current"]["special_handling"] == "gift 24"
    assert rows[0]["proposed"]["special_handling"] == "#2024"
    assert rows[0]["changed"] == ["special_handling"]
    shopify_connection.refresh_from_db()
    assert shopify_connection.field_mapping == {}  # nothing saved


def test_mapping_dry_run_refuses_an_invalid_proposal(shopify_connection):
    with pytest.raises(MappingError):
        mapping_dry_run(shopify_connection, {"field_mapping": {"nope": "x"}})


def test_validate_accepts_the_platform_defaults():
    from integrations.platforms.shopify import events as shopify
    from integrations.platforms.woocommerce import events as woo

    for module in (shopify, woo):
        mapping_validate(field_mapping=module.DEFAULT_FIELD_MAPPING, status_mapping=module.DEFAULT_STATUS_MAPPING)


def test_dates_are_read_in_iso_8601_and_rfc_2822_and_anything_else_is_none():
    import datetime as dt

    expected = dt.datetime(2019, 3, 5, 21, 40, 11, tzinfo=dt.UTC)
    assert parse_datetime("2019-03-05T21:40:11Z") == expected
    assert parse_datetime("2019-03-05T21:40:11") == expected  # no offset: UTC
    assert parse_datetime("Tue, 05 Mar 2019 21:40:11 +0000") == expected
    assert parse_datetime("Tue, 05 Mar 2019 22:40:11 +0100") == expected
    assert parse_datetime("yesterday") is None and parse_datetime("") is None and parse_datetime(5) is None
