"""Issue 6 §3: orders at risk (ship-by approaching or passed, not packed) are listed for managers, soonest first, with
the ship-by in the facility's time zone and the time left; a brand user sees only their own brand's orders."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from orders.allocation.views import time_left_words
from orders.services import order_confirm_picked, order_ingest, order_pack, order_release_to_pick
from tests.orders.factories import CanonicalOrderFactory, line, stocked_sku

pytestmark = pytest.mark.django_db

URL = "/orders/at-risk/"


def _order(brand, code, pid, due_in):
    now = timezone.now()
    canonical = CanonicalOrderFactory(
        platform_order_id=pid, lines=(line(code),), paid_at=now - dt.timedelta(hours=3), ship_by=now + due_in
    )
    return order_ingest(canonical=canonical, brand=brand).order


@pytest.fixture
def orders(brand, other_brand, facility):
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    stocked_sku(brand=other_brand, facility=facility, code="SERUM", units=10)
    packed = _order(brand, "TEE-M", "#PACKED", dt.timedelta(minutes=30))
    for step in (order_release_to_pick, order_confirm_picked, order_pack):
        packed = step(order=packed, actor=None)
    return {
        "soon": _order(brand, "TEE-M", "#SOON", dt.timedelta(minutes=45)),
        "late": _order(brand, "TEE-M", "#LATE", -dt.timedelta(minutes=20)),
        "later": _order(brand, "TEE-M", "#LATER", dt.timedelta(hours=10)),
        "packed": packed,
        "theirs": _order(other_brand, "SERUM", "#THEIRS", dt.timedelta(minutes=50)),
    }


def _listed(response):
    return [row["order"].platform_order_id for row in response.context["rows"]]


def test_a_manager_sees_unpacked_orders_due_soon_or_late_soonest_first(client, make_user, orders):
    client.force_login(make_user("warehouse_manager"))

    response = client.get(URL)

    assert response.status_code == 200
    assert _listed(response) == ["#LATE", "#SOON", "#THEIRS"]
    body = response.content.decode()
    assert "overdue by 20 min" in body
    assert "#PACKED" not in body and "#LATER" not in body


def test_the_ship_by_is_shown_in_the_facilitys_time_zone(client, make_user, orders):
    client.force_login(make_user("warehouse_manager"))
    local = orders["soon"].ship_by.astimezone(ZoneInfo("Europe/Madrid"))

    body = client.get(URL).content.decode()

    assert f"{local:%a %Y-%m-%d %H:%M} <small>Europe/Madrid</small>" in body
    assert local.utcoffset() != dt.timedelta(0)  # the test would not tell the zones apart in UTC


def test_a_wider_window_and_the_brand_filter(client, make_user, orders, other_brand):
    client.force_login(make_user("warehouse_manager"))

    assert "#LATER" in _listed(client.get(URL, {"within": "24"}))
    assert "#LATER" not in _listed(client.get(URL, {"within": "999"}))  # unknown window: the default
    assert _listed(client.get(URL, {"brand": other_brand.pk})) == ["#THEIRS"]


def test_a_brand_user_sees_only_their_brand_even_when_asking_for_another(client, make_user, brand, other_brand, orders):
    client.force_login(make_user("brand", brand=brand))

    assert _listed(client.get(URL)) == ["#LATE", "#SOON"]
    theirs = client.get(URL, {"brand": other_brand.pk})
    assert _listed(theirs) == [] and "#THEIRS" not in theirs.content.decode()


def test_an_administrator_without_order_access_is_refused(client, make_user, orders):
    client.force_login(make_user("administrator"))

    assert client.get(URL).status_code == 403


@pytest.mark.parametrize(
    ("left", "words"),
    [
        (dt.timedelta(minutes=5, seconds=30), "5 min left"),
        (dt.timedelta(hours=1, minutes=5), "1 h 05 min left"),
        (-dt.timedelta(minutes=35), "overdue by 35 min"),
        (-dt.timedelta(hours=2, minutes=1), "overdue by 2 h 01 min"),
    ],
)
def test_time_left_in_words(left, words):
    assert time_left_words(left) == words


@pytest.mark.parametrize("role", ["warehouse_manager", "finance", "brand"])
def test_the_menu_links_the_page_for_those_who_may_open_it(client, make_user, brand, role):
    client.force_login(make_user(role, brand=brand if role == "brand" else None))

    body = client.get("/orders/").content.decode()

    assert f'href="{URL}"' in body
