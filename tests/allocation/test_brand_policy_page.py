"""Seed 000 "the brand sees the allocation policy in their console and can adjust it": a brand user reads their
policy in plain words (the default when never edited), adjusts it with a reason that the history keeps with their
name; invalid input saves nothing; another brand's policy is a 404; staff read without a form."""

from decimal import Decimal

import pytest

from orders.allocation.models import AllocationPolicy
from orders.allocation.services import allocation_policy_update
from tests.factories import SalesChannelFactory
from warehouse.roles import brand_member_add

pytestmark = pytest.mark.django_db

URL = "/allocation-policy/"
VALID = {
    "class_order": "marketplace_sla, wholesale, preorder, standard",
    "split_allowed": "on",
    "split_fee": "3.25",
    "change_reason": "Our TikTok orders miss the window (ticket 7)",
}


@pytest.fixture
def brand_user(client, make_user, brand):
    user = make_user("brand", brand=brand)
    client.force_login(user)
    client.user = user
    return client


def test_a_brand_that_never_edited_sees_the_default_in_plain_words(brand_user, brand):
    page = brand_user.get(URL).content.decode()
    main = page[page.index("<main>") :]  # the menu names "Pre-order inbound" too

    assert "this is the default policy" in page
    assert main.index("Wholesale / retail") < main.index("Pre-order") < main.index("Standard (first in")
    assert "No change yet." in page
    assert not AllocationPolicy.objects.filter(brand=brand).exists()  # reading creates nothing


def test_which_orders_are_marketplace_sla_is_read_from_the_brands_channels(brand_user, brand, other_brand):
    SalesChannelFactory(brand=brand, platform_code="amazon", name="Amazon EU", is_marketplace=True)
    SalesChannelFactory(brand=brand, platform_code="tiktok", name="TikTok ES", is_marketplace=True, sla_window_hours=72)
    SalesChannelFactory(brand=brand, platform_code="shopify", name="Acme store")
    SalesChannelFactory(brand=other_brand, platform_code="ebay", name="Their eBay", is_marketplace=True)

    page = brand_user.get(URL).content.decode()

    assert "Amazon EU, TikTok ES</strong>" in page and "TikTok ES (72 h)</strong>" in page
    assert "Acme store" not in page and "Their eBay" not in page


def test_a_brand_users_adjustment_is_saved_with_history_naming_them_and_why(brand_user, brand):
    response = brand_user.post(URL, VALID)

    assert response.status_code == 302
    policy = AllocationPolicy.objects.get(brand=brand)
    assert policy.class_order == ["marketplace_sla", "wholesale", "preorder", "standard"]
    assert policy.split_fee == Decimal("3.25")
    latest = policy.history.latest("history_date")
    assert latest.history_user == brand_user.user
    assert latest.history_change_reason == VALID["change_reason"]
    page = brand_user.get(response["Location"]).content.decode()
    assert brand_user.user.username in page and "ticket 7" in page
    assert page.index("Marketplace SLA") < page.index("Wholesale / retail")


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("class_order", "standard, wholesale", "Missing: preorder, marketplace_sla."),
        ("split_fee", "-1", "The split fee cannot be negative."),
        ("change_reason", "", "This field is required."),
    ],
)
def test_invalid_input_shows_the_error_and_saves_nothing(brand_user, brand, field, value, error):
    allocation_policy_update(brand=brand, actor=None, reason="initial")
    before = AllocationPolicy.history.count()

    response = brand_user.post(URL, {**VALID, field: value})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert AllocationPolicy.history.count() == before
    assert AllocationPolicy.objects.get(brand=brand).class_order[0] == "wholesale"


def test_another_brands_id_is_a_404_and_changes_nothing(brand_user, other_brand):
    allocation_policy_update(brand=other_brand, actor=None, reason="initial")
    before = AllocationPolicy.history.count()

    assert brand_user.get(URL, {"brand": other_brand.pk}).status_code == 404
    assert brand_user.post(URL, {**VALID, "brand": other_brand.pk}).status_code == 404
    assert AllocationPolicy.history.count() == before


def test_a_user_of_several_brands_picks_among_their_own(brand_user, brand, other_brand, make_user):
    brand_member_add(user=brand_user.user, brand=other_brand)

    page = brand_user.get(URL, {"brand": other_brand.pk}).content.decode()
    assert "Allocation policy · Borealis Beauty" in page and f'value="{brand.pk}"' in page

    assert brand_user.post(URL, {**VALID, "brand": other_brand.pk}).status_code == 302
    assert AllocationPolicy.objects.get(brand=other_brand).split_fee == Decimal("3.25")
    assert not AllocationPolicy.objects.filter(brand=brand).exists()


@pytest.mark.parametrize("role", ["operations", "warehouse_manager", "finance"])
def test_staff_read_the_policy_without_a_form(client, make_user, brand, role):
    client.force_login(make_user(role))

    page = client.get(URL, {"brand": brand.pk}).content.decode()

    assert "Allocation policy · Acme Apparel" in page and 'id="adjust-policy"' not in page
    assert client.post(URL, {**VALID, "brand": brand.pk}).status_code == 403
    assert not AllocationPolicy.objects.filter(brand=brand).exists()
