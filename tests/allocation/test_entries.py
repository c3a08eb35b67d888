"""Issue 16 §5: wholesale reservations and scheduled inbound for pre-orders, as people enter them (managers' forms,
brands' and ERPs' API). Bad input is a 400 naming each field and changes nothing; finance and operations are refused;
a brand user reaches only their own brand (another brand's objects are a 404); the schema documents the refusals."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import ExpectedInbound, StockLevel
from inventory.services import stock_receive
from orders.allocation.entries import FieldInvalid, reservation_enter, schedule_enter
from orders.allocation.models import ContractReservation, ScheduledInbound
from tests.inventory.factories import KitFactory, SkuFactory
from warehouse.api.tokens import token_issue
from warehouse.errors import NotPermitted

pytestmark = pytest.mark.django_db

SOON = timezone.localdate() + dt.timedelta(days=7)
PAST = timezone.localdate() - dt.timedelta(days=1)


@pytest.fixture
def tee(brand, facility):
    sku = SkuFactory(brand=brand, code="TEE")
    stock_receive(sku=sku, facility=facility, quantity=10, event_id="rcv-tee", actor=None)
    return sku


@pytest.fixture
def people(make_user, brand, other_brand):
    return {
        "mgr": make_user("warehouse_manager", username="mgr"),
        "ops": make_user("operations", username="ops"),
        "fin": make_user("finance", username="fin"),
        "adm": make_user("administrator", username="adm"),
        "brand": make_user("brand", brand=brand, username="acme-user"),
        "other": make_user("brand", brand=other_brand, username="borealis-user"),
    }


def _client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user=user)}")
    return client


def _nothing_saved():
    return (
        not ContractReservation.objects.exists()
        and not ScheduledInbound.objects.exists()
        and not (ExpectedInbound.objects.exists())
    )


def _reserve(brand, site, actor, **changes):
    values = {"customer": "Big Retail", "sku": "TEE", "facility": site.code, "quantity": 4} | changes
    return reservation_enter(brand=brand, actor=actor, **values)


def _schedule(brand, site, actor, **changes):
    values = {"sku": "TEE", "facility": site.code, "quantity": 20, "preorder_limit": 5, "expected_on": SOON}
    return schedule_enter(brand=brand, actor=actor, **(values | changes))


def test_a_manager_reserves_units_available_now_and_they_are_ring_fenced(brand, facility, tee, people):
    reservation = _reserve(brand, facility, people["mgr"], ship_date=SOON, contract_ref="C-9")
    assert (reservation.customer, reservation.quantity, reservation.contract_ref) == ("Big Retail", 4, "C-9")
    assert StockLevel.objects.get(sku=tee, facility=facility).reserved == 4
    assert reservation.history.first().history_user == people["mgr"]


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"quantity": 0}, "quantity", "quantity_not_positive"),
        ({"quantity": -3}, "quantity", "quantity_not_positive"),
        ({"quantity": "two"}, "quantity", "quantity_invalid"),
        ({"quantity": 11}, "quantity", "quantity_over_available"),
        ({"sku": "NOPE"}, "sku", "unknown_sku"),
        ({"facility": "XXX"}, "facility", "unknown_facility"),
        ({"ship_date": PAST}, "ship_date", "ship_date_in_past"),
        ({"customer": " "}, "customer", "customer_required"),
    ],
)
def test_bad_reservation_input_names_the_field_and_saves_nothing(brand, facility, tee, people, changes, field, code):
    with pytest.raises(FieldInvalid) as refused:
        _reserve(brand, facility, people["mgr"], **changes)
    assert refused.value.http_status == 400
    assert [(r.code, r.message.split(":")[0]) for r in refused.value.reasons] == [(code, field)]
    assert _nothing_saved() and StockLevel.objects.get(sku=tee).reserved == 0


def test_over_available_counts_what_other_contracts_are_still_owed(brand, facility, tee, people):
    _reserve(brand, facility, people["mgr"], quantity=6)
    with pytest.raises(FieldInvalid, match="5 × TEE asked, 4 available"):
        _reserve(brand, facility, people["mgr"], quantity=5, customer="Other Shop")


def test_a_kit_is_neither_reserved_nor_scheduled(brand, facility, tee, people):
    KitFactory(brand=brand, code="BOX")
    for enter in (_reserve, _schedule):
        with pytest.raises(FieldInvalid) as refused:
            enter(brand, facility, people["mgr"], sku="BOX")
        assert refused.value.reasons[0].code == "kit_has_no_stock"
    assert _nothing_saved()


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"quantity": 0}, "quantity", "quantity_not_positive"),
        ({"quantity": -1}, "quantity", "quantity_not_positive"),
        ({"preorder_limit": -1}, "preorder_limit", "preorder_limit_negative"),
        ({"preorder_limit": 21}, "preorder_limit", "preorder_limit_over_quantity"),
        ({"expected_on": PAST}, "expected_on", "expected_on_in_past"),
        ({"expected_on": ""}, "expected_on", "expected_on_required"),
        ({"sku": "NOPE"}, "sku", "unknown_sku"),
    ],
)
def test_bad_schedule_input_names_the_field_and_saves_nothing(brand, facility, tee, people, changes, field, code):
    with pytest.raises(FieldInvalid) as refused:
        _schedule(brand, facility, people["mgr"], **changes)
    assert [(r.code, r.message.split(":")[0]) for r in refused.value.reasons] == [(code, field)]
    assert _nothing_saved()


def test_a_schedule_is_an_expected_inbound_line_opened_to_preorders(brand, facility, tee, people):
    schedule = _schedule(brand, facility, people["brand"], reference="PO-77")
    line = schedule.expected_line
    assert (line.inbound.reference, line.inbound.source, line.sku, line.quantity_expected) == (
        "PO-77", "brand", tee, 20,
    )  # fmt: skip
    assert (schedule.facility, schedule.expected_on, schedule.preorder_limit, schedule.preorder_open) == (
        facility, SOON, 5, 5,
    )  # fmt: skip


@pytest.mark.parametrize("role", ["ops", "fin", "adm", "other"])
def test_finance_operations_administrators_and_other_brands_enter_nothing(brand, facility, tee, people, role):
    for enter in (_reserve, _schedule):
        with pytest.raises(NotPermitted):
            enter(brand, facility, people[role])
    assert _nothing_saved()


def test_a_brand_enters_both_by_api_and_sees_only_its_own(brand, other_brand, facility, tee, people):
    acme = _client(people["brand"])
    made = acme.post("/api/v1/reservations/", {"brand": "acme", "customer": "Big Retail", "sku": "TEE",
                                               "facility": facility.code, "quantity": 3}, format="json")  # fmt: skip
    assert made.status_code == 201, made.json()
    assert made.json()["remaining"] == 3
    sent = {"brand": "acme", "sku": "TEE", "facility": facility.code, "quantity": 8, "preorder_limit": 2,
            "expected_on": SOON.isoformat()}  # fmt: skip
    scheduled = acme.post("/api/v1/scheduled-inbound/", sent, format="json")
    assert scheduled.status_code == 201, scheduled.json()
    body = scheduled.json()
    assert (body["sku"], body["quantity"], body["preorder_limit"], body["expected_on"]) == (
        "TEE",
        8,
        2,
        SOON.isoformat(),
    )
    assert ExpectedInbound.objects.get(pk=body["inbound"]).lines.get().quantity_expected == 8

    borealis = _client(people["other"])
    assert borealis.get(f"/api/v1/reservations/{made.json()['id']}/").status_code == 404
    assert borealis.get(f"/api/v1/scheduled-inbound/{body['id']}/").status_code == 404
    assert borealis.get("/api/v1/reservations/").json()["results"] == []
    sent = {"brand": "acme", "customer": "X", "sku": "TEE", "facility": facility.code, "quantity": 1}
    refused = borealis.post("/api/v1/reservations/", sent, format="json")
    assert refused.status_code == 404 and ContractReservation.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"quantity": 0}, "quantity", "quantity_not_positive"),
        ({"quantity": -2}, "quantity", "quantity_not_positive"),
        ({"quantity": 99}, "quantity", "quantity_over_available"),
        ({"sku": "NOPE"}, "sku", "unknown_sku"),
        ({"ship_date": PAST.isoformat()}, "ship_date", "ship_date_in_past"),
    ],
)
def test_bad_reservation_api_input_is_a_400_naming_the_field(brand, facility, tee, people, body, field, code):
    sent = {"brand": "acme", "customer": "Big Retail", "sku": "TEE", "facility": facility.code, "quantity": 2} | body
    response = _client(people["mgr"]).post("/api/v1/reservations/", sent, format="json")
    assert response.status_code == 400
    reasons = response.json()["reasons"]
    assert [r["code"] for r in reasons] == [code]
    assert reasons[0]["message"].split(":")[0] == field
    assert _nothing_saved()


def test_a_malformed_api_value_is_a_400_naming_the_field(brand, facility, tee, people):
    response = _client(people["mgr"]).post("/api/v1/scheduled-inbound/", {"brand": "acme", "sku": "TEE",
                                           "facility": facility.code, "quantity": "x", "expected_on": "soon"},
                                           format="json")  # fmt: skip
    assert response.status_code == 400
    assert {"quantity", "expected_on"} <= set(response.json())
    assert _nothing_saved()


def test_the_schema_documents_both_resources_and_their_refusals(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for path in ("/api/v1/reservations/", "/api/v1/scheduled-inbound/"):
        assert path in schema
    assert "quantity_over_available" in schema and "expected_on" in schema


def _page_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_pages_read_a_fixed_number_of_queries(brand, facility, tee, people, client):
    client.force_login(people["mgr"])
    _reserve(brand, facility, people["mgr"], quantity=1)
    _schedule(brand, facility, people["mgr"])
    few = {url: _page_queries(client, url) for url in ("/reservations/", "/scheduled-inbound/")}
    for n in range(8):
        sku = SkuFactory(brand=brand, code=f"S{n}")
        stock_receive(sku=sku, facility=facility, quantity=2, event_id=f"rcv-{n}", actor=None)
        _reserve(brand, facility, people["mgr"], sku=sku.code, quantity=1)
        _schedule(brand, facility, people["mgr"], sku=sku.code)
    many = {url: _page_queries(client, url) for url in few}
    assert many == few and max(many.values()) <= 12, many
