"""The return pages refuse bad input in words and change nothing (the browser tests walk the happy path)."""

import pytest
from django.test import Client
from django.utils import timezone

from inventory.models import Movement
from orders.services import (
    order_confirm_picked,
    order_ingest,
    order_pack,
    order_release_to_pick,
    shipment_create,
    shipment_hand_to_carrier,
)
from returns.models import Return, ReturnState
from returns.services import return_authorize_order
from tests.orders.factories import CanonicalOrderFactory, line, stocked_sku
from tests.permissions.fixtures import make_role_user
from warehouse.roles import roles_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def setting(brand, other_brand, facility):
    roles_sync()
    tee = stocked_sku(brand=brand, facility=facility, code="TEE-M", units=5)
    order = order_ingest(canonical=CanonicalOrderFactory(platform_order_id="#7001", lines=(line("TEE-M", 1),)),
                         brand=brand).order  # fmt: skip
    order = order_pack(order=order_confirm_picked(order=order_release_to_pick(order=order, actor=None), actor=None),
                       actor=None)  # fmt: skip
    shipment = shipment_create(order=order, carrier="DHL", tracking_number="JJD7", actor=None)
    shipment_hand_to_carrier(shipment=shipment, carrier_receipt="R-7", handed_at=timezone.now(), actor=None)
    order.refresh_from_db()
    mgr = make_role_user("warehouse_manager", username="mgr")
    client = Client()
    client.force_login(mgr)
    return {"order": order, "tee": tee, "mgr": mgr, "client": client, "other_brand": other_brand}


def _messages(response):
    return [str(m) for m in response.context["messages"]]


def test_a_negative_or_unreadable_quantity_on_the_authorise_form_is_refused_in_words(setting):
    url = f"/orders/{setting['order'].pk}/return/"
    for typed, words in (("-1", "quantity -1 is not ≥ 1"), ("two", "Quantity 'two' is not a whole number"),
                         ("0", "every quantity is 0")):  # fmt: skip
        answer = setting["client"].post(url, {"sku": [setting["tee"].pk], "quantity": [typed]})
        assert answer.status_code == 200
        assert any(words in m for m in _messages(answer)), _messages(answer)
    assert not Return.objects.exists()


def test_bad_scans_on_the_page_are_refused_in_words_and_move_nothing(setting):
    rma = return_authorize_order(order=setting["order"], lines=[(setting["tee"], 1)], actor=setting["mgr"])
    moves = Movement.objects.count()
    url = f"/returns/{rma.pk}/scan/"
    for body, words in [
        ({"code": "TEE-M", "quantity": "0"}, "quantity 0 is not ≥ 1"),
        ({"code": "TEE-M", "quantity": "lots"}, "Quantity 'lots' is not a whole number."),
        ({"code": "NOPE\x00", "quantity": "1"}, "NUL character"),
        ({"code": "NOPE", "quantity": "1"}, "'NOPE' is neither a barcode nor a SKU code"),
        ({"code": "TEE-M", "quantity": "2"}, "authorises 1 × TEE-M and 0 are received: 2 more is over"),
    ]:
        answer = setting["client"].post(url, body, follow=True)
        assert answer.status_code == 200
        assert any(words in m for m in _messages(answer)), (body, _messages(answer))
    rma.refresh_from_db()
    assert (rma.state, Movement.objects.count()) == (ReturnState.AUTHORIZED, moves)


def test_another_brands_user_finds_no_return_and_no_order_to_return(setting):
    rma = return_authorize_order(order=setting["order"], lines=[(setting["tee"], 1)], actor=setting["mgr"])
    client = Client()
    client.force_login(make_role_user("brand", brand=setting["other_brand"], username="borealis-user"))
    assert client.get(f"/returns/{rma.pk}/").status_code == 404
    assert client.get(f"/orders/{setting['order'].pk}/return/").status_code == 404
    assert client.post(f"/returns/{rma.pk}/steps/restock/").status_code == 404
    assert list(client.get("/returns/").context["page"].object_list) == []
