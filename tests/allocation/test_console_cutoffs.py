"""Issue 6 §3 in the console: an administrator sets a cutoff per brand, channel and facility (the facility's local
time), the history names who and why; an invalid time, negative handling days or a second cutoff for the same
channel and facility is an error on the form and saves nothing."""

import datetime as dt

import pytest

from orders.allocation.models import Cutoff
from orders.allocation.services import cutoff_set
from tests.factories import FacilityFactory, SalesChannelFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/allocation/cutoff/add/"


@pytest.fixture(autouse=True)
def amazon_channel(brand):
    """A cutoff binds the platform of a brand's channel: the platforms offered are the channels' (data)."""
    return SalesChannelFactory(brand=brand, platform_code="amazon", name="Amazon EU", is_marketplace=True)


@pytest.fixture
def admin_client(client, make_user):
    user = make_user("administrator")
    client.force_login(user)
    client.user = user
    return client


def _form(brand, facility, **overrides):
    data = {
        "brand": brand.pk,
        "platform": "amazon",
        "facility": facility.pk,
        "cutoff_time": "14:00",
        "handling_days": "1",
        "ship_weekdays": ["0", "1", "2", "3", "4", "5"],
        "hard_deadline": "on",
        "change_reason": "Amazon FBM contract signed 2026-11-01",
    }
    data.update(overrides)
    return data


def test_an_administrator_adds_a_cutoff_and_the_history_names_who_and_why(admin_client, brand, facility):
    response = admin_client.post(ADD, _form(brand, facility))

    assert response.status_code == 302
    cutoff = Cutoff.objects.get(brand=brand, facility=facility, platform="amazon")
    assert (cutoff.cutoff_time, cutoff.handling_days, cutoff.hard_deadline) == (dt.time(14, 0), 1, True)
    assert cutoff.weekdays == [0, 1, 2, 3, 4, 5]
    row = cutoff.history.get()
    assert row.history_user == admin_client.user and row.history_change_reason.startswith("Amazon FBM contract")


def test_an_edit_changes_the_time_keeps_the_channel_and_adds_a_history_row(admin_client, brand, facility):
    cutoff = cutoff_set(brand=brand, facility=facility, platform="shopify", cutoff_time=dt.time(15), actor=None)
    other = FacilityFactory(code="MAD1")

    response = admin_client.post(
        f"/admin/allocation/cutoff/{cutoff.pk}/change/",
        _form(brand, other, platform="etsy", cutoff_time="16:30", change_reason="Peak season"),
    )

    assert response.status_code == 302
    cutoff.refresh_from_db()
    assert cutoff.cutoff_time == dt.time(16, 30)
    assert (cutoff.platform, cutoff.facility_id) == ("shopify", facility.pk)  # identity is read-only once set
    assert Cutoff.objects.count() == 1
    latest = cutoff.history.first()
    assert latest.history_user == admin_client.user and latest.history_change_reason == "Peak season"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cutoff_time", "25:00", "Enter a time of day as HH:MM, e.g. 15:00."),
        ("handling_days", "-1", "Handling days cannot be negative."),
        ("platform", "amazn", "Select a valid choice."),
        ("platform", "etsy", "Select a valid choice."),  # no brand sells on it: no cutoff to bind
        ("change_reason", "", "This field is required."),
    ],
)
def test_invalid_input_shows_an_error_and_saves_nothing(admin_client, brand, facility, field, value, message):
    response = admin_client.post(ADD, _form(brand, facility, **{field: value}))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert field in response.context["adminform"].form.errors
    assert not Cutoff.objects.exists() and not Cutoff.history.exists()


def test_a_second_cutoff_for_the_same_brand_channel_and_facility_is_refused(admin_client, brand, facility):
    cutoff_set(brand=brand, facility=facility, platform="amazon", cutoff_time=dt.time(12), actor=None)

    response = admin_client.post(ADD, _form(brand, facility))

    assert response.status_code == 200
    assert "This channel already has a cutoff at this facility." in response.content.decode()
    assert Cutoff.objects.get().cutoff_time == dt.time(12)
    assert Cutoff.history.count() == 1


def test_the_list_shows_the_channel_and_the_facility_time_zone(admin_client, brand, facility):
    cutoff_set(brand=brand, facility=facility, cutoff_time=dt.time(15), actor=None)

    body = admin_client.get("/admin/allocation/cutoff/").content.decode()

    assert "default" in body and "Europe/Madrid" in body


def test_a_manager_reads_cutoffs_but_cannot_add_one(client, make_user, brand, facility):
    cutoff = cutoff_set(brand=brand, facility=facility, cutoff_time=dt.time(15), actor=None)
    client.force_login(make_user("warehouse_manager"))

    assert client.get(f"/admin/allocation/cutoff/{cutoff.pk}/change/").status_code == 200
    assert client.post(ADD, _form(brand, facility)).status_code == 403
    assert Cutoff.objects.count() == 1
