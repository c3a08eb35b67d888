"""Issue 12's data migration, run on rows written in the old schema: one sales channel per connection (what the
platform is comes along), every channel order keyed by (channel, platform order id), the policy's SLA platform lists
moved onto the brand's channels; and back again without losing an order's connection."""

import pytest
from django.db import IntegrityError, transaction

from tests.migrating import migrate, schema_at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql]

BEFORE = [
    ("warehouse", "0006_exception_kinds_merged"),
    ("integrations", "0009_metric_rollups_and_trouble_index"),
    ("orders", "0005_merge_0004_held_order_fixes_0004_manual_order_request"),
    ("allocation", "0005_adjust_own_policy"),
]
AFTER = [
    ("warehouse", "0007_sales_channel"),
    ("integrations", "0011_connection_identity_on_channel"),
    ("orders", "0007_order_key_channel"),
    ("allocation", "0006_sla_from_the_channel"),
]


@pytest.fixture
def old_schema():
    yield from schema_at(BEFORE)


def _seed(apps):
    Brand = apps.get_model("warehouse", "Brand")
    Connection = apps.get_model("integrations", "Connection")
    Order = apps.get_model("orders", "Order")
    Policy = apps.get_model("allocation", "AllocationPolicy")
    acme, other = Brand.objects.create(name="Acme", slug="acme"), Brand.objects.create(name="Other", slug="other")
    Policy.objects.create(brand=acme, prime_platforms=["amazon"], window_platforms=["tiktok", "etsy"],
                          marketplace_window_hours=48)  # fmt: skip
    made = {
        "shop": Connection.objects.create(brand=acme, platform="shopify", name="Acme", shop="acme.myshopify.com"),
        "tiktok": Connection.objects.create(brand=acme, platform="tiktok", name="TT", shop="tt-1"),
        "amazon": Connection.objects.create(brand=other, platform="amazon", name="AMZ", shop="amzn-1"),
        "twin": Connection.objects.create(brand=other, platform="shopify", name="Shop", shop="o1.myshopify.com"),
        "twin2": Connection.objects.create(brand=other, platform="shopify", name="Shop", shop="o2.myshopify.com"),
    }
    orders = {
        "shop": Order.objects.create(brand=acme, connection=made["shop"], platform="shopify", platform_order_id="1"),
        "manual": Order.objects.create(brand=acme, source="manual", platform_order_id="1"),
        "amazon": Order.objects.create(
            brand=other, connection=made["amazon"], platform="amazon", platform_order_id="A-1"
        ),
    }
    return {k: v.pk for k, v in made.items()}, {k: v.pk for k, v in orders.items()}


def test_every_connection_gets_its_channel_and_every_channel_order_its_key_and_back_again(old_schema):
    connections, orders = _seed(old_schema)

    apps = migrate(AFTER)

    Connection, Order = apps.get_model("integrations", "Connection"), apps.get_model("orders", "Order")
    found = Connection.objects.select_related("channel__brand")
    channel = {k: found.get(pk=pk).channel for k, pk in connections.items()}
    assert [
        (c.brand.slug, c.platform_code, c.name, c.is_marketplace, c.sla_window_hours) for c in channel.values()
    ] == [
        ("acme", "shopify", "Acme", False, None),
        ("acme", "tiktok", "TT", True, 48),  # Acme's policy: TikTok orders inside 48 h are SLA-bound
        ("other", "amazon", "AMZ", True, None),  # no policy: the default window was TikTok's only
        ("other", "shopify", "Shop", False, None),
        ("other", "shopify", "Shop (o2.myshopify.com)", False, None),  # one brand, one name: the shop tells apart
    ]
    assert Order.objects.get(pk=orders["shop"]).channel_id == channel["shop"].pk
    assert Order.objects.get(pk=orders["amazon"]).channel_id == channel["amazon"].pk
    assert Order.objects.get(pk=orders["manual"]).channel_id is None
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(brand_id=channel["shop"].brand_id, channel=channel["shop"], platform_order_id="1")
    Order.objects.create(brand_id=channel["shop"].brand_id, channel=channel["twin"], platform_order_id="1")

    # Going back gives each order its connection and each connection its identity.
    apps = migrate(BEFORE)

    Connection, Order = apps.get_model("integrations", "Connection"), apps.get_model("orders", "Order")
    back = {k: Connection.objects.get(pk=pk) for k, pk in connections.items()}
    assert (back["tiktok"].brand.slug, back["tiktok"].platform, back["tiktok"].name) == ("acme", "tiktok", "TT")
    shop_order, manual = Order.objects.get(pk=orders["shop"]), Order.objects.get(pk=orders["manual"])
    assert Order.objects.filter(platform_order_id="1").count() == 3  # the order made on the twin channel too
    assert (shop_order.connection_id, shop_order.platform) == (connections["shop"], "shopify")
    assert (manual.connection_id, manual.platform) == (None, "")
    policy = apps.get_model("allocation", "AllocationPolicy").objects.get(brand__slug="acme")
    assert (policy.window_platforms, policy.marketplace_window_hours) == (["tiktok"], 48)
