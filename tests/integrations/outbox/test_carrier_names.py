"""Issue 17: a shipment names its carrier by registry code (`dhl_parcel_de`); each channel's fulfilment names it the
way that channel recognises it, from the carrier kit's declared names (`integrations.carriers.channel_names`), with
the carrier's tracking page: Shopify's supported tracking company, BigCommerce's `shipping_provider` or AfterShip
`tracking_carrier`, the words of a WooCommerce customer note. Against each platform's simulator, through the outbox."""

from __future__ import annotations

import pytest

from integrations.carriers.channel_names import carrier_tracking_url, channel_carrier_name
from integrations.outbox.models import MessageKind, MessageState, OutboundMessage
from integrations.outbox.services import outbound_enqueue, outbox_drain
from integrations.platforms.bigcommerce.simulator import BigCommerceSimulator
from tests.integrations.factories import ConnectionFactory

pytestmark = pytest.mark.django_db

DHL_NUMBER, UPS_NUMBER = "00340434161094042557", "1ZNAMES00000000001"
BC_TOKEN, BC_SECRET = "bcaccesstoken0000000000000000777", "bc-app-client-secret-0777"


def _ship_two(connection, sim):
    """Two orders on the platform, one shipped with DHL Parcel DE and one with UPS, sent through the outbox."""
    orders = {}
    for carrier, number in (("dhl_parcel_de", DHL_NUMBER), ("ups", UPS_NUMBER)):
        created = sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]}, deliver=False)
        outbound_enqueue(
            connection=connection,
            kind=MessageKind.FULFILMENT,
            payload={"order_id": str(created["id"]), "tracking_number": number, "carrier": carrier},
        )
        orders[carrier] = created["id"]
    outbox_drain(connection_id=connection.pk)
    assert set(OutboundMessage.objects.values_list("state", flat=True)) == {MessageState.SENT}
    return {carrier: sim.fulfilments_of(order_id) for carrier, order_id in orders.items()}


def test_shopify_gets_its_tracking_company_names_and_the_tracking_pages(shopify_sim, shop):
    shipped = _ship_two(shop, shopify_sim)
    (dhl,), (ups,) = shipped["dhl_parcel_de"], shipped["ups"]
    assert (dhl["tracking_company"], ups["tracking_company"]) == ("DHL", "UPS")
    assert dhl["tracking_url"].endswith(f"piececode={DHL_NUMBER}")
    assert ups["tracking_url"] == f"https://www.ups.com/track?tracknum={UPS_NUMBER}"


def test_woocommerce_names_the_carrier_in_the_customers_note(woo_sim, woo_shop):
    shipped = _ship_two(woo_shop, woo_sim)
    (dhl,), (ups,) = shipped["dhl_parcel_de"], shipped["ups"]
    assert dhl["note"].startswith(f"Shipped with DHL Paket, tracking {DHL_NUMBER} (https://www.dhl.de/")
    assert ups["note"].startswith(f"Shipped with UPS, tracking {UPS_NUMBER} (https://www.ups.com/track")
    assert "dhl_parcel_de" not in dhl["note"]


def test_bigcommerce_gets_its_shipping_provider_or_aftership_tracking_carrier(brand):
    with BigCommerceSimulator.running(access_token=BC_TOKEN, secret=BC_SECRET, hang_seconds=1.0) as sim:
        connection = ConnectionFactory(
            brand=brand, platform="bigcommerce", shop=sim.shop, api_base_url=sim.url,
            secrets={"signing_secret": BC_SECRET, "credentials": {"access_token": BC_TOKEN}},
        )  # fmt: skip
        shipped = _ship_two(connection, sim)
    (dhl,), (ups,) = shipped["dhl_parcel_de"], shipped["ups"]
    assert (dhl["shipping_provider"], dhl["tracking_carrier"]) == ("", "dhl-germany")
    assert (ups["shipping_provider"], ups["tracking_carrier"]) == ("ups", "")
    assert dhl["tracking_link"].endswith(DHL_NUMBER)


def test_a_carrier_is_known_by_code_or_name_and_an_unknown_one_passes_as_written():
    assert channel_carrier_name("UPS", "shopify") == channel_carrier_name("ups", "shopify") == "UPS"
    assert channel_carrier_name("DHL Parcel DE", "bigcommerce") == "dhl-germany"
    assert channel_carrier_name("dhl_parcel_de", "magento") == "DHL Paket"  # a platform it does not list
    assert channel_carrier_name("Royal Mail", "shopify") == "Royal Mail"
    assert carrier_tracking_url("Royal Mail", "RM1") == ""
    assert carrier_tracking_url("ups", "1Z 1/2") == "https://www.ups.com/track?tracknum=1Z%201%2F2"
