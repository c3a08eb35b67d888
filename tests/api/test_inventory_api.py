"""Issue 4 §4 and §6: stock over the API, scoped by brand; a count is proposed by operations and approved by a
manager, with variance, approver and reason in the ledger."""

import pytest
from rest_framework.test import APIClient

from inventory.models import Movement, MovementKind, StockLevel
from inventory.services import stock_allocate, stock_receive
from tests.inventory.factories import SkuFactory
from warehouse.models import ExceptionItem, ExceptionState

pytestmark = pytest.mark.django_db


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def stocked(brand, other_brand, facility):
    mine = SkuFactory(brand=brand, code="TEE-M")
    theirs = SkuFactory(brand=other_brand, code="SERUM")
    stock_receive(sku=mine, facility=facility, quantity=100, event_id="rcv-1", actor=None)
    stock_receive(sku=theirs, facility=facility, quantity=40, event_id="rcv-2", actor=None)
    return StockLevel.objects.get(sku=mine), StockLevel.objects.get(sku=theirs)


def test_a_brand_user_sees_only_their_stock_and_gets_404_for_another_brands_row(
    make_user, brand, stocked, django_assert_max_num_queries
):
    _mine, theirs = stocked
    client = _client(make_user("brand", brand=brand))
    with django_assert_max_num_queries(8):
        body = client.get("/api/v1/stock/").json()
    assert [row["sku"] for row in body["results"]] == ["TEE-M"] and body["count"] == 1
    assert body["results"][0]["available"] == 100
    assert client.get(f"/api/v1/stock/{theirs.pk}/").status_code == 404
    assert client.get("/api/v1/stock/", {"sku": "SERUM"}).json()["count"] == 0
    assert client.get("/api/v1/skus/").json()["count"] == 1


def test_operations_propose_a_count_and_a_manager_approves_it(make_user, stocked):
    mine, _ = stocked
    operator, manager = make_user("operations"), make_user("warehouse_manager")
    proposed = _client(operator).post(
        f"/api/v1/stock/{mine.pk}/propose-count/", {"counted": 80, "reason": "Cycle count aisle 4"}, format="json"
    )
    assert proposed.status_code == 201
    mine.refresh_from_db()
    assert mine.on_hand == 100  # nothing changes before approval
    item_id = proposed.json()["id"]
    approved = _client(manager).post(f"/api/v1/count-proposals/{item_id}/approve/", {"note": "Checked"}, format="json")
    assert approved.status_code == 200 and approved.json()["state"] == "resolved"
    mine.refresh_from_db()
    assert mine.on_hand == 80
    count = Movement.objects.get(kind=MovementKind.CYCLE_COUNT)
    assert count.on_hand_delta == -20 and count.approver == manager and count.actor == operator
    assert "Cycle count aisle 4" in count.reason and count.detail["variance"] == -20


def test_operations_cannot_approve_and_finance_cannot_propose(make_user, stocked):
    mine, _ = stocked
    proposed = _client(make_user("operations")).post(
        f"/api/v1/stock/{mine.pk}/propose-count/", {"counted": 80, "reason": "count"}, format="json"
    )
    item_id = proposed.json()["id"]
    assert (
        _client(make_user("operations", username="op2"))
        .post(f"/api/v1/count-proposals/{item_id}/approve/", {}, format="json")
        .status_code
        == 403
    )
    assert (
        _client(make_user("finance"))
        .post(f"/api/v1/stock/{mine.pk}/propose-count/", {"counted": 1, "reason": "x"}, format="json")
        .status_code
        == 403
    )
    mine.refresh_from_db()
    assert mine.on_hand == 100 and ExceptionItem.objects.get(pk=item_id).state == ExceptionState.OPEN


@pytest.mark.parametrize(
    "body",
    [
        {"counted": -1, "reason": "x"},
        {"counted": 5, "reason": " "},
        {"counted": "1e309", "reason": "x"},
        {"counted": 5, "reason": "x", "on_hand": 9},
    ],
)
def test_bad_count_proposals_are_400_and_change_nothing(make_user, stocked, body):
    mine, _ = stocked
    response = _client(make_user("operations")).post(f"/api/v1/stock/{mine.pk}/propose-count/", body, format="json")
    assert response.status_code == 400
    assert ExceptionItem.objects.count() == 0
    mine.refresh_from_db()
    assert mine.on_hand == 100


def test_a_count_below_the_committed_units_is_409_and_a_decided_proposal_is_404(make_user, stocked, facility):
    """What the schema's descriptions of approve and reject promise, held to it."""
    mine, _ = stocked
    stock_allocate(facility=facility, lines=[(mine.sku, 30)], event_id="alloc-30", actor=None)
    manager = _client(make_user("warehouse_manager"))
    proposed = _client(make_user("operations")).post(
        f"/api/v1/stock/{mine.pk}/propose-count/", {"counted": 20, "reason": "aisle 4"}, format="json"
    )
    item_id = proposed.json()["id"]
    refused = manager.post(f"/api/v1/count-proposals/{item_id}/approve/", {}, format="json")
    assert refused.status_code == 409 and [r["code"] for r in refused.json()["reasons"]] == ["count_below_committed"]
    mine.refresh_from_db()
    assert (mine.on_hand, Movement.objects.filter(kind=MovementKind.CYCLE_COUNT).count()) == (100, 0)
    rejected = manager.post(f"/api/v1/count-proposals/{item_id}/reject/", {"note": "recount"}, format="json")
    assert rejected.status_code == 200 and rejected.json()["state"] == "resolved"
    for action in ("approve", "reject"):
        again = manager.post(f"/api/v1/count-proposals/{item_id}/{action}/", {"note": "again"}, format="json")
        assert again.status_code == 404
    mine.refresh_from_db()
    assert mine.on_hand == 100
