"""Issue 4 §4 on the stock page: operations propose a count, a manager approves it; variance, approver and reason
land in the ledger; nothing changes before approval."""

import pytest

from inventory.models import Movement, MovementKind, StockLevel
from inventory.services import stock_receive
from tests.inventory.factories import SkuFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def level(brand, facility):
    sku = SkuFactory(brand=brand, code="TEE-M")
    stock_receive(sku=sku, facility=facility, quantity=100, event_id="rcv-1", actor=None)
    return StockLevel.objects.get(sku=sku)


def test_operations_propose_and_a_manager_approves_on_the_stock_page(client, make_user, level):
    operator, manager = make_user("operations"), make_user("warehouse_manager")
    client.force_login(operator)
    assert client.get("/stock/").context["may_propose"] is True
    client.post(f"/stock/{level.pk}/propose-count/", {"counted": "93", "reason": "Cycle count aisle 4"})
    level.refresh_from_db()
    assert level.on_hand == 100
    client.force_login(manager)
    proposals = client.get("/stock/").context["proposals"]
    assert len(proposals) == 1
    client.post(f"/stock/counts/{proposals[0].pk}/decide/", {"decision": "approve", "note": "Recounted"})
    level.refresh_from_db()
    assert level.on_hand == 93
    movement = Movement.objects.get(kind=MovementKind.CYCLE_COUNT)
    assert movement.approver == manager and movement.actor == operator and movement.on_hand_delta == -7


def test_a_rejected_count_changes_no_stock(client, make_user, level):
    client.force_login(make_user("operations"))
    client.post(f"/stock/{level.pk}/propose-count/", {"counted": "1", "reason": "typo?"})
    client.force_login(make_user("warehouse_manager"))
    proposal = client.get("/stock/").context["proposals"][0]
    client.post(f"/stock/counts/{proposal.pk}/decide/", {"decision": "reject", "note": "Recount first"})
    level.refresh_from_db()
    assert level.on_hand == 100 and client.get("/stock/").context["proposals"] == []


def test_finance_and_brands_cannot_propose(client, make_user, brand, level):
    for user in (make_user("finance"), make_user("brand", brand=brand)):
        client.force_login(user)
        assert client.get("/stock/").context["may_propose"] is False
        assert client.post(f"/stock/{level.pk}/propose-count/", {"counted": "1", "reason": "x"}).status_code == 403
    level.refresh_from_db()
    assert level.on_hand == 100
