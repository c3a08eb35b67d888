"""The connector kit: only registered platforms can be chosen for a connection (a validation error naming the platforms
on offer, never a failure at run time), the admin offers the registry's platforms, one client builder refuses hosts a
platform does not allow, and listings and locations live in one generic mapping table the connector checks."""

import importlib

import pytest
from django.core.exceptions import ValidationError

from integrations.connections import ApiHostRefused, client_for
from integrations.models import Connection, ExternalId, ExternalIdKind
from integrations.platforms import registry
from integrations.platforms.protocol import Connector
from integrations.services import connection_create
from tests.factories import FacilityFactory, SalesChannelFactory
from tests.integrations.factories import ConnectionFactory, WooConnectionFactory
from tests.inventory.factories import SkuFactory
from warehouse.errors import InvalidInput
from warehouse.models import SalesChannel

pytestmark = pytest.mark.django_db


def test_every_registered_connector_keeps_the_protocol():
    assert registry.codes() == ["bigcommerce", "shopify", "woocommerce"]
    for code in registry.codes():
        connector = registry.connector_for(code)
        assert isinstance(connector, Connector) and connector.code == code


def test_an_amazon_connection_cannot_be_saved_and_the_error_names_the_platforms_on_offer(brand):
    channel = SalesChannelFactory(brand=brand, platform_code="amazon", name="Amazon EU")  # the core knows no platform
    connection = Connection(channel=channel, shop="amzn-seller-eu")

    with pytest.raises(ValidationError) as caught:
        connection.save()

    message = " ".join(caught.value.message_dict["platform"])
    assert "'amazon' is not a platform" in message and "bigcommerce, shopify, woocommerce" in message
    assert not Connection.objects.filter(channel__platform_code="amazon").exists()
    with pytest.raises(ValidationError, match="bigcommerce, shopify, woocommerce"):
        connection.full_clean()
    with pytest.raises(InvalidInput, match="bigcommerce, shopify, woocommerce"):
        connection_create(brand=brand, platform="amazon", name="Amazon EU 2", shop="amzn-2", actor=None)


def test_a_registered_platform_saves_and_other_field_updates_of_a_legacy_row_still_work(brand):
    connection = ConnectionFactory(brand=brand)
    SalesChannel.objects.filter(pk=connection.channel_id).update(platform_code="ebay")  # from before the registry
    legacy = Connection.objects.get(pk=connection.pk)

    legacy.shop = "renamed.example"
    legacy.save(update_fields=["shop"])  # its channel is not being written: the change goes through
    with pytest.raises(ValidationError, match="on offer are: bigcommerce, shopify, woocommerce"):
        legacy.save()


def test_the_client_builder_refuses_a_host_the_platform_does_not_allow(brand):
    stray = ConnectionFactory(brand=brand, api_base_url="https://collector.example")
    woo_elsewhere = WooConnectionFactory(brand=brand, shop="https://woo.example", api_base_url="https://other.example")
    woo_home = WooConnectionFactory(brand=brand, shop="https://shop.example", api_base_url="")

    for refused in (stray, woo_elsewhere):
        with pytest.raises(ApiHostRefused, match="is not a"):
            client_for(refused)
    assert client_for(woo_home).http.base_url == "https://shop.example"
    assert client_for(ConnectionFactory(brand=brand, shop="x.myshopify.com")).http.base_url == "https://x.myshopify.com"


def test_listings_and_locations_share_one_table_and_each_connector_checks_its_ids(brand):
    shop, woo = ConnectionFactory(brand=brand), WooConnectionFactory(brand=brand)
    sku, facility = SkuFactory(brand=brand), FacilityFactory()

    ExternalId(connection=woo, kind=ExternalIdKind.LISTING, local_id=sku.pk, external_id="93/411").full_clean()
    ExternalId(
        connection=shop, kind=ExternalIdKind.LOCATION, local_id=facility.pk, external_id="905684977"
    ).full_clean()
    for connection, kind, value in [
        (woo, ExternalIdKind.LISTING, "93/"),
        (woo, ExternalIdKind.LISTING, "gid://x"),
        (woo, ExternalIdKind.LOCATION, "1"),
        (shop, ExternalIdKind.LISTING, "93/411"),
    ]:
        with pytest.raises(ValidationError):
            ExternalId(connection=connection, kind=kind, local_id=sku.pk, external_id=value).full_clean()


def test_queued_stock_writes_of_both_old_shapes_become_the_neutral_payload():
    migration = importlib.import_module("integrations.outbox.migrations.0003_platform_neutral_inventory_payloads")

    shopify = migration.neutral(
        "shopify", {"sku_id": 4, "sku": "TEE", "inventory_item_id": 808950810, "location_id": 905684977, "available": 6}
    )
    variation = migration.neutral("woocommerce", {"sku_id": 5, "product_id": 93, "variation_id": 411, "quantity": 2})
    simple = migration.neutral("woocommerce", {"product_id": 93, "variation_id": None, "quantity": 3})

    assert shopify == {"sku_id": 4, "sku": "TEE", "listing": "808950810", "location": "905684977", "quantity": 6}
    assert variation == {"sku_id": 5, "listing": "93/411", "location": "", "quantity": 2}
    assert simple == {"listing": "93", "location": "", "quantity": 3}
    assert migration.neutral("shopify", shopify) is None  # already neutral: left as it is
