"""Issue 12: a sales channel is the core's (`warehouse.SalesChannel`); a connection is integrations' one-to-one
record of its credentials and mappings. Both are made together; a shop is one connection per platform; the orders
of a channel find its connection only from integrations' side."""

import types

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from integrations.models import Connection
from integrations.outbox.models import OutboundMessage
from integrations.platforms import registry
from integrations.services import connection_create
from orders.signals import shipment_handed_to_carrier
from tests.factories import SalesChannelFactory
from tests.integrations.factories import ConnectionFactory
from warehouse.errors import Conflict, InvalidInput
from warehouse.models import SalesChannel

pytestmark = pytest.mark.django_db


def test_a_connection_is_made_with_its_channel_and_reads_its_identity_from_it(brand):
    conn = connection_create(brand=brand, platform="woocommerce", name="Acme Woo", shop="https://acme.example",
                             actor=None, api_base_url="http://127.0.0.1:9")  # fmt: skip

    channel = SalesChannel.objects.get()
    assert conn.channel == channel and channel.connection == conn
    assert (channel.brand, channel.platform_code, channel.name) == (brand, "woocommerce", "Acme Woo")
    assert (conn.brand, conn.brand_id, conn.platform, conn.name) == (brand, brand.pk, "woocommerce", "Acme Woo")
    assert conn.api_base_url == "http://127.0.0.1:9"
    assert channel.history.get().history_change_reason == "channel connected"
    assert conn.history.get().history_change_reason == "connection created"


@pytest.mark.parametrize("code", registry.codes())
def test_what_the_platform_is_comes_onto_the_channel_from_the_registry(brand, code):
    conn = connection_create(brand=brand, platform=code, name="Acme", shop=f"acme-{code}", actor=None,
                             sla_window_hours=72)  # fmt: skip

    assert conn.channel.is_marketplace is registry.connector_for(code).is_marketplace
    assert conn.channel.sla_window_hours == 72  # the brand's contract with this channel
    assert conn.platform_name == registry.connector_for(code).name


def test_a_platform_the_registry_does_not_know_is_refused_naming_those_on_offer(brand):
    with pytest.raises(InvalidInput, match="the platforms on offer are: bigcommerce, shopify, woocommerce") as refused:
        connection_create(brand=brand, platform="amazon", name="EU", shop="A1", actor=None)

    assert [reason.code for reason in refused.value.reasons] == ["unknown_platform"]
    assert not SalesChannel.objects.exists()


def test_a_shop_is_one_connection_per_platform_and_a_refusal_writes_nothing(brand, other_brand):
    connection_create(brand=brand, platform="shopify", name="Acme", shop="acme.myshopify.com", actor=None)

    with pytest.raises(Conflict, match=r"This shopify shop already has a connection\."):
        connection_create(brand=other_brand, platform="shopify", name="Other", shop="acme.myshopify.com", actor=None)

    assert SalesChannel.objects.count() == 1 and Connection.objects.count() == 1
    same_shop_elsewhere = connection_create(
        brand=brand, platform="woocommerce", name="Acme", shop="acme.myshopify.com", actor=None
    )
    assert same_shop_elsewhere.platform == "woocommerce"


def test_a_brand_names_each_channel_on_a_platform_once(brand):
    connection_create(brand=brand, platform="shopify", name="Acme", shop="a.myshopify.com", actor=None)

    with pytest.raises(Conflict, match="already has a shopify channel named Acme"):
        connection_create(brand=brand, platform="shopify", name="Acme", shop="b.myshopify.com", actor=None)
    with pytest.raises(IntegrityError):  # the table says so too
        SalesChannel.objects.create(brand=brand, platform_code="shopify", name="Acme")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"platform": " "}, "required"),
        ({"shop": ""}, "required"),
        ({"credentials": {"access_token": "x"}}, "unknown_field"),
    ],
)
def test_a_connection_without_its_identity_or_with_unknown_settings_is_refused(brand, kwargs, code):
    given = {"brand": brand, "platform": "shopify", "name": "Acme", "shop": "acme.myshopify.com", "actor": None}

    with pytest.raises(InvalidInput) as refused:
        connection_create(**{**given, **kwargs})

    assert code in [reason.code for reason in refused.value.reasons]
    assert not SalesChannel.objects.exists()


def test_moving_a_connection_onto_a_shop_already_connected_is_a_validation_error(brand):
    ConnectionFactory(brand=brand, platform="shopify", shop="taken.myshopify.com")
    other = ConnectionFactory(brand=brand, platform="shopify", shop="free.myshopify.com")
    woo = ConnectionFactory(brand=brand, platform="woocommerce", shop="https://woo.example")

    other.shop = "taken.myshopify.com"
    with pytest.raises(ValidationError) as refused:
        other.full_clean()
    assert refused.value.message_dict["shop"] == ["This shopify shop already has a connection."]
    woo.shop = "taken.myshopify.com"
    woo.full_clean()  # another platform's shop of that name is another shop


def test_the_fulfilment_of_a_channel_order_goes_to_the_channels_connection_and_none_without_one(brand):
    conn = ConnectionFactory(brand=brand)
    bare = SalesChannelFactory(brand=brand, platform_code="amazon")  # a channel nobody connected (yet)

    for pk, channel_id in ((1, conn.channel_id), (2, bare.pk)):
        order = types.SimpleNamespace(channel_id=channel_id, platform_order_id=f"P-{pk}")
        shipment = types.SimpleNamespace(pk=pk, order=order, tracking_number=f"T-{pk}", carrier="UPS")
        shipment_handed_to_carrier.send(sender=None, shipment=shipment)

    (message,) = OutboundMessage.objects.all()
    assert (message.connection, message.platform, message.payload["order_id"]) == (conn, "shopify", "P-1")
