"""Issue 17, a split order on the shipping desk: each leg ships on its own, under its facility's rules, with a label
for its own parcels, and becomes its own Shopify fulfilment with its lines and tracking number. (Its own file: a
transactional test flushes the database, so pytest-django runs it last.)"""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from integrations.carriers.accounts import carrier_account_set_credentials
from integrations.carriers.models import CarrierAccount
from integrations.carriers.registry import connector_for
from integrations.shipping import services
from integrations.shipping.models import Label, ShippingRule
from orders.models import Order, OrderState, Parcel, Shipment, ShipmentState
from orders.services import order_confirm_picked, order_pack, order_release_to_pick
from tests.allocation.test_split_orders import make_sites, receive
from tests.conftest import grant
from tests.factories import BrandFactory, UserFactory
from tests.inventory.factories import SkuFactory
from warehouse.errors import InvalidInput

NEW_YORK_ADDRESS = {"name": "Sam Lee", "address1": "350 5th Ave", "address2": "", "zip": "10118", "city": "New York",
                    "province_code": "NY", "country_code": "US", "phone": "+1 212 555 0100"}  # fmt: skip


def _ups_credentials():
    return connector_for("ups").demo_credentials(lambda name: f"{name}-split-legs")


@pytest.fixture
def split_world(settings, tmp_path):
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]
    media = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "m")}}
    settings.STORAGES = {**settings.STORAGES, "default": media}
    settings.OUTBOX_HTTP = {"connect_timeout": 1.0, "read_timeout": 2.0, "retry_attempts": 1}
    brand = BrandFactory(slug="split-ship")
    nj, nv = make_sites()
    shirt, cap = SkuFactory(brand=brand, code="SHIRT"), SkuFactory(brand=brand, code="CAP")
    receive(shirt, nj, 3)
    receive(cap, nv, 3)
    # Each facility's own rule: New Jersey ships ground, Nevada 2nd day air (the leg's facility decides).
    ShippingRule.objects.create(name="NJ ground", facility=nj, carrier="ups", service="03")
    ShippingRule.objects.create(name="NV 2nd day", facility=nv, carrier="ups", service="02")
    with connector_for("ups").simulator(credentials=_ups_credentials()).running() as ups:
        for site in (nj, nv):
            account = CarrierAccount.objects.create(carrier="ups", name=f"UPS {site.code}", facility=site,
                                                    api_base_url=ups.url)  # fmt: skip
            carrier_account_set_credentials(account=account, credentials=_ups_credentials(), actor=None)
        yield brand, nj, nv, ups


@pytest.mark.django_db(transaction=True)
def test_a_split_order_ships_each_leg_under_its_facilitys_rule_and_becomes_two_fulfilments(
    live_server, split_world, client, make_user
):
    from integrations.platforms.shopify.simulator import ShopifySimulator
    from tests.integrations.conftest import run_queued_tasks
    from tests.integrations.factories import ConnectionFactory

    brand, nj, nv, ups = split_world
    packer = grant(
        UserFactory(username="packer"), "orders.operate_shipment", "orders.operate_order", "orders.view_shipment"
    )
    secret, token = "shpss_split_ship_01", "shpat_split_ship_01"
    connection = ConnectionFactory(
        brand=brand, platform="shopify", shop="split-ship.myshopify.com",
        secrets={"signing_secret": secret, "credentials": {"access_token": token}},
    )  # fmt: skip
    hub_url = f"{live_server.url}/webhooks/shopify/{connection.pk}/"
    with ShopifySimulator.running(access_token=token, secret=secret, shop_domain=connection.shop,
                                  hub_url=hub_url) as shop:  # fmt: skip
        connection.api_base_url = shop.url
        connection.save(update_fields=["api_base_url"])
        created = shop.upsert_order({
            "line_items": [{"sku": "SHIRT", "quantity": 2}, {"sku": "CAP", "quantity": 1}],
            "shipping_address": NEW_YORK_ADDRESS,  # domestic from both US facilities: no customs data needed
        })  # fmt: skip
        run_queued_tasks()
        order = Order.objects.get(channel=connection.channel, platform_order_id=str(created["id"]))
        order = order_release_to_pick(order=order, actor=None)
        order = order_pack(order=order_confirm_picked(order=order, actor=None), actor=None)
        # one carton packed at each facility
        Parcel.objects.create(order=order, number=1, facility=nj, weight_grams=900, length_mm=300, width_mm=200,
                              height_mm=100)  # fmt: skip
        Parcel.objects.create(order=order, number=2, facility=nv, weight_grams=300, length_mm=200, width_mm=150,
                              height_mm=80)  # fmt: skip

        with pytest.raises(InvalidInput) as refused:  # a facility the order does not ship from
            services.order_ship(order=order, actor=packer, facility="XX9")
        assert [r.code for r in refused.value.reasons] == ["facility_not_in_order"]
        assert not Shipment.objects.exists()

        client.force_login(make_user("warehouse_manager"))
        page = client.get(f"/shipping/orders/{order.pk}/").content.decode()
        assert 'data-leg="NJ1"' in page and 'data-leg="NV1"' in page  # one form per leg, each its rule's choice
        assert 'id="chosen-service-NJ1" data-carrier="ups" data-service="03"' in page
        assert 'id="chosen-service-NV1" data-carrier="ups" data-service="02"' in page
        answer = client.post(f"/shipping/orders/{order.pk}/ship/", {"facility": "NJ1"}, follow=True)  # New Jersey's
        assert "Labels bought: ups 03" in answer.content.decode()
        (label,) = Label.objects.all()
        first = services.Shipped(label.shipment, [label])
        second = services.order_ship(order=Order.objects.get(pk=order.pk), actor=packer)  # the leg still waiting

        assert (first.shipment.facility, first.shipment.service) == (nj, "03")
        assert (second.shipment.facility, second.shipment.service) == (nv, "02")
        assert [label.parcel.number for label in first.labels] == [1]
        assert [label.parcel.number for label in second.labels] == [2]
        assert {label.account.facility for label in Label.objects.all()} == {nj, nv}
        with pytest.raises(InvalidInput) as refused:  # both legs have their labels
            services.order_ship(order=Order.objects.get(pk=order.pk), actor=packer)
        assert [r.code for r in refused.value.reasons] == ["no_parcels"]

        for shipped in (first, second):
            (label,) = shipped.labels
            ups.scan(label.tracking_number)  # the carrier picks this leg's carton up
            services.handoff_record(actor=packer, labels=[label])
            run_queued_tasks()  # the kicked drain sends this leg's fulfilment
            assert Shipment.objects.get(pk=shipped.shipment.pk).state == ShipmentState.HANDED_TO_CARRIER

        fulfilments = shop.ledger()["fulfillments"]
        legs = [(f["tracking_number"], [(li["sku"], li["quantity"]) for li in f["line_items"]]) for f in fulfilments]
        assert legs == [
            (first.labels[0].tracking_number, [("SHIRT", 2)]),
            (second.labels[0].tracking_number, [("CAP", 1)]),
        ]
        assert Order.objects.get(pk=order.pk).state == OrderState.DISPATCHED
