"""Issue 16 §4 and §6 over the API: the brand (or the returns system) authorises a return against its own shipped
order; the warehouse receives it by scan and triages each unit. Another brand's order is a 404; bad input is a clear
error that changes nothing."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.models import Movement, StockLevel
from inventory.services import stock_receive
from orders.services import (
    order_confirm_picked,
    order_ingest,
    order_pack,
    order_release_to_pick,
    shipment_create,
    shipment_hand_to_carrier,
)
from returns.models import Return, ReturnState
from tests.inventory.factories import SkuFactory
from tests.orders.factories import CanonicalOrderFactory, line
from tests.permissions.fixtures import make_role_user
from warehouse.roles import roles_sync

pytestmark = pytest.mark.django_db
URL = "/api/v1/returns/"


@pytest.fixture
def world(brand, other_brand, facility):
    roles_sync()
    tee = SkuFactory(brand=brand, code="TEE-M", barcode="8400000000017")
    SkuFactory(brand=brand, code="CAP")
    stock_receive(sku=tee, facility=facility, quantity=5, event_id="rcv-tee", actor=None)
    order = order_ingest(canonical=CanonicalOrderFactory(platform_order_id="#3001", lines=(line("TEE-M", 2),)),
                         brand=brand, source="manual").order  # fmt: skip
    order = order_pack(order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None),
                       actor=None)  # fmt: skip
    shipment = shipment_create(order=order, carrier="DHL", tracking_number="JJD4", actor=None)
    shipment_hand_to_carrier(shipment=shipment, carrier_receipt="R-4", handed_at=timezone.now(), actor=None)
    users = {
        "brand": make_role_user("brand", brand=brand, username="acme-user"),
        "other": make_role_user("brand", brand=other_brand, username="borealis-user"),
        "mgr": make_role_user("warehouse_manager", username="mgr"),
        "ops": make_role_user("operations", username="ops"),
        "fin": make_role_user("finance", username="fin"),
    }
    return {"order": order, "users": users, "tee": tee, "facility": facility}


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _authorise(world, who="brand", **body):
    body = {"order": world["order"].pk, "lines": [{"sku": "TEE-M", "quantity": 1}], **body}
    return _client(world["users"][who]).post(URL, body, format="json")


def test_a_brand_authorises_a_return_on_its_own_order_and_sees_it(world):
    answer = _authorise(world, rma_number="RMA-77", reason="Too small")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["state"] == "authorized"
    assert answer.json()["order"] == world["order"].pk
    again = _authorise(world, rma_number="RMA-77", reason="Too small")
    assert (again.status_code, again.json()["id"]) == (200, answer.json()["id"])
    listed = _client(world["users"]["brand"]).get(URL).json()
    assert [r["rma_number"] for r in listed["results"]] == ["RMA-77"]


def test_another_brand_gets_404_and_operations_and_finance_are_refused(world):
    assert _authorise(world, who="other").status_code == 404
    assert _authorise(world, who="ops").status_code == 403
    assert _authorise(world, who="fin").status_code == 403
    assert not Return.objects.exists()
    rma = _authorise(world, who="mgr").json()
    assert _client(world["users"]["other"]).get(f"{URL}{rma['id']}/").status_code == 404


@pytest.mark.parametrize(
    ("lines", "status", "code"),
    [
        ([{"sku": "CAP", "quantity": 1}], 422, "not_shipped_on_order"),
        ([{"sku": "TEE-M", "quantity": 3}], 422, "more_than_shipped"),
        ([{"sku": "NOPE", "quantity": 1}], 422, "unknown_sku"),
        ([{"sku": "TEE-M", "quantity": 0}], 400, None),
        ([], 400, None),
    ],
)
def test_a_bad_authorisation_is_refused_clearly_and_records_nothing(world, lines, status, code):
    answer = _authorise(world, lines=lines)
    assert answer.status_code == status, answer.json()
    if code:
        assert code in {r["code"] for r in answer.json()["reasons"]}
    assert not Return.objects.exists()


def test_the_warehouse_receives_by_scan_and_a_manager_triages_each_unit_then_restocks(world):
    rma = _authorise(world, lines=[{"sku": "TEE-M", "quantity": 2}]).json()
    ops, mgr = _client(world["users"]["ops"]), _client(world["users"]["mgr"])
    scan = ops.post(f"{URL}{rma['id']}/receive-scan/", {"code": "8400000000017", "quantity": 2}, format="json")
    assert scan.status_code == 200, scan.json()
    assert (scan.json()["return"]["state"], scan.json()["warnings"]) == ("received", [])
    moves = Movement.objects.count()
    for body, status, code in [
        ({"code": "0000000", "quantity": 1}, 422, "unknown_barcode"),
        ({"code": "TEE-M", "quantity": 1}, 422, "over_authorised"),
        ({"code": "TEE-M", "quantity": -1}, 400, None),
    ]:
        answer = ops.post(f"{URL}{rma['id']}/receive-scan/", body, format="json")
        assert answer.status_code == status, answer.json()
        if code:
            assert [r["code"] for r in answer.json()["reasons"]] == [code]
    assert Movement.objects.count() == moves
    no_grade = mgr.post(f"{URL}{rma['id']}/triage-units/", {"sku": "TEE-M", "disposition": "sellable"}, format="json")
    assert no_grade.status_code == 400 and "grade" in no_grade.json()
    assert ops.post(f"{URL}{rma['id']}/triage-units/", {"sku": "TEE-M", "grade": "A", "disposition": "sellable"},
                    format="json").status_code == 403  # fmt: skip
    body = {"sku": "TEE-M", "quantity": 2, "grade": "A", "disposition": "sellable"}
    triaged = mgr.post(f"{URL}{rma['id']}/triage-units/", body, format="json")
    assert triaged.status_code == 200, triaged.json()
    assert (triaged.json()["state"], triaged.json()["disposition"]) == ("triaged", "sellable")
    assert [d["grade"] for d in triaged.json()["decisions"]] == ["A"]
    done = ops.post(f"{URL}{rma['id']}/restock/", {}, format="json")
    assert done.json()["state"] == ReturnState.RESTOCKED
    level = StockLevel.objects.get(sku=world["tee"], facility=world["facility"])
    assert (level.quarantine, level.available) == (0, 5)  # 5 received, 2 shipped, 2 back


@pytest.mark.parametrize("action", ["triage-units", "triage"])
def test_triage_without_a_grade_is_a_400_naming_the_field_and_records_nothing(world, action):
    rma = _authorise(world, lines=[{"sku": "TEE-M", "quantity": 1}]).json()
    ops, mgr = _client(world["users"]["ops"]), _client(world["users"]["mgr"])
    assert ops.post(f"{URL}{rma['id']}/receive-scan/", {"code": "TEE-M"}, format="json").status_code == 200
    level = StockLevel.objects.get(sku=world["tee"], facility=world["facility"])
    moves = Movement.objects.count()
    for body in ({"sku": "TEE-M", "disposition": "sellable"}, {"sku": "TEE-M", "grade": "", "disposition": "sellable"}):
        body = body if action == "triage-units" else {k: v for k, v in body.items() if k != "sku"}
        answer = mgr.post(f"{URL}{rma['id']}/{action}/", body, format="json")
        assert answer.status_code == 400 and list(answer.json()) == ["grade"], answer.json()
    returned = Return.objects.get(pk=rma["id"])
    assert (returned.state, returned.grade, returned.decisions.count()) == (ReturnState.RECEIVED, "", 0)
    after = StockLevel.objects.get(pk=level.pk)
    assert (after.quarantine, after.available, Movement.objects.count()) == (1, level.available, moves)
