"""Issue 12 in the console: a connection's page edits its channel's name, never its brand or platform (its orders
are keyed by the channel); a shop already connected is an error on the form; the channel's own page edits its SLA
window (the brand's ship-within contract) and nothing it takes from the platforms registry."""

import types

import pytest

from integrations.models import Connection
from integrations.platforms import registry
from integrations.services import connection_create
from warehouse.models import SalesChannel

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, make_user):
    client.force_login(make_user("administrator"))
    return client


@pytest.fixture
def shop(brand):
    return connection_create(brand=brand, platform="shopify", name="Acme shop", shop="acme.myshopify.com", actor=None)


def _form(conn, **overrides):
    data = {
        "brand": conn.brand_id,
        "platform": conn.platform,
        "name": conn.name,
        "shop": conn.shop,
        "api_base_url": "",
        "scopes": "[]",
        "reconcile_every_minutes": 10,
        "fallback_reconcile_every_minutes": 2,
        "reconcile_overlap_minutes": 5,
        "silent_after_minutes": 30,
        "field_mapping": "{}",
        "status_mapping": "{}",
        "new_credentials": "",
        "new_signing_secret": "",
    }
    return {**data, **overrides}


def test_adding_a_connection_in_the_console_makes_its_channel_in_the_same_step(admin_client, brand):
    blank = {"brand": "", "platform": "", "name": "", "shop": "", "new_credentials": "", "new_signing_secret": ""}
    new = types.SimpleNamespace(
        brand_id=brand.pk, platform="woocommerce", name="Acme site", shop="https://acme.example"
    )
    form = {**_form(new), "new_signing_secret": "whsec-console-1"}

    response = admin_client.post("/admin/integrations/connection/add/", form)

    assert response.status_code == 302, response.content.decode()[:2000]
    conn = Connection.objects.select_related("channel").get()
    assert (conn.channel.brand, conn.channel.platform_code, conn.channel.name) == (brand, "woocommerce", "Acme site")
    assert conn.channel.is_marketplace is registry.connector_for("woocommerce").is_marketplace
    assert conn.signing_secrets_valid() == ["whsec-console-1"]
    assert admin_client.post("/admin/integrations/connection/add/", {**form, **blank}).status_code == 200
    assert SalesChannel.objects.count() == 1


def test_the_connection_page_renames_the_channel_but_keeps_its_brand_and_platform(admin_client, shop, other_brand):
    response = admin_client.post(
        f"/admin/integrations/connection/{shop.pk}/change/",
        _form(shop, name="Acme EU shop", brand=other_brand.pk, platform="woocommerce"),
    )

    assert response.status_code == 302
    channel = SalesChannel.objects.get()
    assert (channel.name, channel.brand_id, channel.platform_code) == ("Acme EU shop", shop.brand_id, "shopify")
    assert channel.history.first().history_change_reason == "renamed in the console"


def test_a_shop_already_connected_on_the_platform_is_an_error_on_the_form(admin_client, shop, brand):
    other = connection_create(brand=brand, platform="shopify", name="Outlet", shop="outlet.myshopify.com", actor=None)

    response = admin_client.post(
        f"/admin/integrations/connection/{other.pk}/change/", _form(other, shop="acme.myshopify.com")
    )

    assert response.status_code == 200
    assert "This shopify shop already has a connection." in response.content.decode()
    other.refresh_from_db()
    assert other.shop == "outlet.myshopify.com"


def test_the_channel_page_sets_the_sla_window_and_refuses_a_zero_hour_one(admin_client, shop):
    url = f"/admin/warehouse/saleschannel/{shop.channel_id}/change/"

    refused = admin_client.post(url, {"name": "Acme shop", "sla_window_hours": "0"})
    saved = admin_client.post(url, {"name": "Acme shop", "sla_window_hours": "72", "is_marketplace": "on"})

    assert refused.status_code == 200 and "The SLA window must be at least 1 hour." in refused.content.decode()
    assert saved.status_code == 302
    channel = SalesChannel.objects.get()
    assert (channel.sla_window_hours, channel.is_marketplace) == (72, False)  # the registry's to say, not a form's


def test_channels_are_made_with_their_connection_not_on_their_own_page(admin_client, shop):
    assert admin_client.get("/admin/warehouse/saleschannel/add/").status_code == 403
    assert admin_client.get("/admin/warehouse/saleschannel/").status_code == 200
