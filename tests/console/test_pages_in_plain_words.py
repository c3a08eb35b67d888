"""Issue 10 §4, what a person reads: friendly error pages in the product's look (never Django's debug pages), a
brand's timeline in plain words without a manager's internal reasons or raw state and field names, and durations as
people write them."""

import datetime as dt

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from integrations.models import AuditRecord
from orders.services import order_edit, order_force, order_ingest
from tests.integrations.factories import ConnectionFactory
from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line, stocked_sku
from warehouse.durations import duration_words

pytestmark = pytest.mark.django_db

FORCED_REASON = "Internal: VIP account, skip the phone check (ticket 4411)"


# --- error pages ----------------------------------------------------------------------------------------------------


def _friendly(response, status: int, heading: str) -> str:
    body = response.content.decode()
    assert response.status_code == status
    assert heading in body
    assert "/static/css/app.css" in body  # the product's look
    for machinery in ("Traceback", "DEBUG = True", "URLconf", "Django"):
        assert machinery not in body
    return body


def test_an_unknown_address_gets_the_friendly_404(client, settings):
    assert settings.DEBUG is False
    _friendly(client.get("/no-such-page/"), 404, "We can't find that page")


def test_a_page_of_another_role_gets_the_friendly_403_with_the_menu(client, make_user, brand):
    client.force_login(make_user("brand", brand=brand))
    body = _friendly(client.get("/exceptions/"), 403, "Your account can't do that")
    assert "Sign out" in body  # the signed-in person keeps their menu


def test_an_expired_form_gets_the_friendly_csrf_page():
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x", "password": "y"})
    _friendly(response, 403, "That form has expired")


def test_a_malformed_request_gets_the_friendly_400(client):
    _friendly(client.get("/", HTTP_HOST="not-an-allowed-host.example"), 400, "We couldn't read that request")


def test_the_500_page_renders_without_a_request_context():
    _friendly(server_error(RequestFactory().get("/")), 500, "Something went wrong on our side")


# --- the brand's timeline -------------------------------------------------------------------------------------------


@pytest.fixture
def fixed_and_forced(brand, facility, make_user):
    """Two held orders of the brand: one a manager fixed (its ZIP), one a manager forced past its missing phone."""
    manager = make_user("warehouse_manager")
    stocked_sku(brand=brand, facility=facility, code="TEE-M", units=10)
    no_zip = order_ingest(
        canonical=CanonicalOrderFactory(
            platform_order_id="#Z1", lines=(line("TEE-M"),), address=CanonicalAddressFactory(postal_code="")
        ),
        brand=brand,
    ).order
    order_edit(order=no_zip, actor=manager, address={"postal_code": "46001"})
    no_phone = order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#P1", lines=(line("TEE-M"),), phone=""), brand=brand
    ).order
    assert no_phone.state == "on_hold", no_phone.hold_reasons
    order_force(order=no_phone, name="validate", actor=manager, reason=FORCED_REASON)
    return no_zip, no_phone


def test_a_brand_reads_its_timeline_in_plain_words_without_internal_reasons(client, make_user, brand, fixed_and_forced):
    no_zip, no_phone = fixed_and_forced
    client.force_login(make_user("brand", brand=brand))
    fixed = client.get(f"/orders/{no_zip.pk}/").content.decode()
    forced = client.get(f"/orders/{no_phone.pk}/").content.decode()
    assert "The warehouse team corrected the ZIP / postal code." in fixed
    assert "postal_code" not in fixed
    assert "The warehouse team moved the order on" in forced
    assert "the order has no contact phone for delivery" in forced  # why it was held, in the words written for people
    for internal in (FORCED_REASON, "VIP", "→", "on_hold", "Forced validate"):
        assert internal not in forced, internal


def test_staff_still_read_the_detail(client, make_user, fixed_and_forced):
    _, no_phone = fixed_and_forced
    client.force_login(make_user("warehouse_manager"))
    body = client.get(f"/orders/{no_phone.pk}/").content.decode()
    assert FORCED_REASON in body


# --- durations ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (3.669499000011456, "4 ms"),
        (420, "420 ms"),
        (3669.5, "3.7 s"),
        (42_000, "42 s"),
        (125_000, "2 min"),
        (dt.timedelta(hours=1, minutes=5), "1 h 05 min"),
        (dt.timedelta(hours=4), "4 h"),
        (-dt.timedelta(minutes=35), "35 min"),
        (dt.timedelta(days=3, hours=2), "3 days"),
        (None, "—"),
    ],
)
def test_durations_read_as_people_write_them(value, words):
    assert duration_words(value) == words


def test_the_consoles_audit_log_shows_latency_in_words(client, make_user, brand):
    record = AuditRecord.objects.create(
        connection=ConnectionFactory(brand=brand),
        direction="outbound",
        method="POST",
        endpoint="/admin/api/fulfillments.json",
        status_code=201,
        latency_ms=3669.499000011456,
        outcome="ok",
    )
    client.force_login(make_user("superuser"))
    for url in ("/admin/integrations/auditrecord/", f"/admin/integrations/auditrecord/{record.pk}/change/"):
        body = client.get(url).content.decode()
        assert "3.7 s" in body, url
        assert "3669.49" not in body and "3.669" not in body, url
