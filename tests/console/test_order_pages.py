"""Issue 4 §5: a brand user lands on their orders; the order page tells support where the order is in plain words;
another brand's order does not exist for them; a manager fixes a held order's address and it moves on."""

import pytest

from orders.models import OrderState
from orders.services import order_ingest
from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line, stocked_sku
from warehouse.models import ExceptionItem, ExceptionKind, ExceptionState

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(brand, facility):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    return order_ingest(
        canonical=CanonicalOrderFactory(
            platform_order_id="#1001", lines=(line("TEE-M"),), address=CanonicalAddressFactory(postal_code="")
        ),
        brand=brand,
    ).order


@pytest.fixture
def theirs(other_brand, facility):
    stocked_sku(brand=other_brand, facility=facility, code="SERUM", units=10)
    return order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#B1", lines=(line("SERUM"),)), brand=other_brand
    ).order


def test_a_brand_users_login_lands_on_their_orders(client, make_user, brand, held, theirs):
    client.force_login(make_user("brand", brand=brand))
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/orders/"
    assert [o.platform_order_id for o in response.context["page"].object_list] == ["#1001"]


def test_another_brands_order_is_404_for_a_brand_user(client, make_user, brand, theirs):
    client.force_login(make_user("brand", brand=brand))
    assert client.get(f"/orders/{theirs.pk}/").status_code == 404
    assert list(client.get("/orders/", {"platform_order_id": "#B1"}).context["page"].object_list) == []


def test_the_order_page_says_where_the_order_is_in_plain_words(client, make_user, brand, held):
    client.force_login(make_user("brand", brand=brand))
    page = client.get(f"/orders/{held.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "On hold: something is missing or wrong" in body
    assert "Received" in body  # the first line of the timeline
    assert page.context["can_fix"] is False and 'id="fix-delivery"' not in body


def test_a_manager_fixes_the_zip_and_the_order_moves_on(client, make_user, held):
    assert held.state == OrderState.ON_HOLD
    item = ExceptionItem.objects.get(kind=ExceptionKind.ORDER_ON_HOLD, object_id=held.pk)
    client.force_login(make_user("warehouse_manager"))
    queue = client.get("/exceptions/").content.decode()
    assert f'href="/orders/{held.pk}/"' in queue  # the row links to the order
    form = client.get(f"/orders/{held.pk}/").context["form"]
    data = {k: v or "" for k, v in form.initial.items()} | {"delivery_postal_code": "46001", "note": "by phone"}
    response = client.post(f"/orders/{held.pk}/", data)
    assert response.status_code == 302
    held.refresh_from_db()
    item.refresh_from_db()
    assert held.state == OrderState.ACCEPTED and held.delivery_postal_code == "46001"
    assert item.state == ExceptionState.RESOLVED


def test_finance_cannot_fix_an_order(client, make_user, held):
    client.force_login(make_user("finance"))
    assert client.get(f"/orders/{held.pk}/").context["can_fix"] is False
    assert client.post(f"/orders/{held.pk}/", {"delivery_postal_code": "46001"}).status_code == 403
    held.refresh_from_db()
    assert held.state == OrderState.ON_HOLD and held.delivery_postal_code == ""


def test_the_order_list_runs_a_constant_number_of_queries(
    client, make_user, brand, facility, django_assert_max_num_queries
):
    stocked_sku(brand=brand, facility=facility, code="CAP", units=500)
    for i in range(60):
        order_ingest(canonical=CanonicalOrderFactory(platform_order_id=f"#{i}", lines=(line("CAP"),)), brand=brand)
    client.force_login(make_user("operations"))
    with django_assert_max_num_queries(12):
        response = client.get("/orders/")
    assert len(response.context["page"].object_list) == 50


def test_the_timeline_shows_a_return_in_plain_words(client, make_user, brand, facility):
    from django.utils import timezone

    from orders import services as o
    from returns.services import return_initiate

    sku = stocked_sku(brand=brand, facility=facility, code="CAP", units=5)
    order = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#R1", lines=(line("CAP"),)), brand=brand
    ).order
    for step in (o.order_release_to_pick, o.order_confirm_picked, o.order_pack):
        order = step(order=order, actor=None)
    shipment = o.shipment_create(order=order, carrier="DHL", actor=None, tracking_number="TRK9")
    o.shipment_hand_to_carrier(shipment=shipment, carrier_receipt="m1", handed_at=timezone.now(), actor=None)
    order.refresh_from_db()
    return_initiate(brand=brand, rma_number="RMA-9", lines=[(sku, 1)], actor=None, order=order, facility=facility)
    client.force_login(make_user("brand", brand=brand))
    body = client.get(f"/orders/{order.pk}/").content.decode()
    assert "Return RMA-9" in body
