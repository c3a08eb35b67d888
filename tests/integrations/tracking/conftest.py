"""Shipments of a Shopify channel order, carrier accounts on the carriers' simulators, and carrier events to feed."""

from __future__ import annotations

import datetime as dt

import pytest

from integrations.carriers.accounts import carrier_account_set_credentials
from integrations.carriers.models import CarrierAccount
from integrations.carriers.protocol import EventKind, TrackingEvent
from integrations.carriers.registry import connector_for
from integrations.platforms.shopify.simulator import ShopifySimulator
from orders.models import Order, OrderState
from orders.services import (
    order_confirm_picked,
    order_ingest,
    order_pack,
    order_release_to_pick,
    shipment_create,
    shipment_hand_to_carrier,
)
from tests.integrations.outbox.conftest import TOKEN, shopify_connection_for
from tests.orders.factories import CanonicalOrderFactory, line, stocked_sku

T0 = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)


def event(kind: EventKind, minutes: int, *, number="1ZTRACK0001", carrier="ups", code=None, **extra) -> TrackingEvent:
    return TrackingEvent(
        carrier=carrier,
        tracking_number=number,
        code=code or f"C:{kind.value}",
        kind=kind,
        occurred_at=T0 + dt.timedelta(minutes=minutes),
        location=extra.get("location", "Valencia, ES"),
        description=extra.get("description", kind.value.replace("_", " ")),
    )


@pytest.fixture
def shopify_sim():
    with ShopifySimulator.running(access_token=TOKEN, hang_seconds=3.0) as sim:
        yield sim


@pytest.fixture
def shop(shopify_sim, brand):
    return shopify_connection_for(shopify_sim, brand)


@pytest.fixture
def fast_outbox(settings):
    settings.OUTBOX_HTTP = {"connect_timeout": 1.0, "read_timeout": 2.0, "retry_attempts": 1, "sleep": lambda s: None}


@pytest.fixture
def packed(shop, shopify_sim, brand, facility):
    """A packed Shopify order (its platform order on the simulator), ready for a shipment."""
    stocked_sku(brand=brand, facility=facility, code="TEE-BLK-M", units=10)

    def make() -> Order:
        created = shopify_sim.upsert_order({"line_items": [{"sku": "TEE-BLK-M", "quantity": 1}]})
        canonical = CanonicalOrderFactory(platform_order_id=str(created["id"]), lines=(line("TEE-BLK-M", 1),))
        order = order_ingest(canonical=canonical, brand=brand, channel=shop.channel).order
        assert order.state == OrderState.ACCEPTED, order.state
        order = order_release_to_pick(order=order, actor=None)
        return order_pack(order=order_confirm_picked(order=order, actor=None), actor=None)

    return make


@pytest.fixture
def staged(packed):
    def make(number="1ZTRACK0001", carrier="ups"):
        return shipment_create(order=packed(), carrier=carrier, tracking_number=number, actor=None)

    return make


@pytest.fixture
def handed(staged):
    def make(number="1ZTRACK0001", carrier="ups", at=T0):
        shipment = staged(number, carrier)
        return shipment_hand_to_carrier(shipment=shipment, carrier_receipt="MANIFEST-1", handed_at=at, actor=None)

    return make


def credentials_of(code: str) -> dict[str, str]:
    return connector_for(code).demo_credentials(lambda name: f"{name}-tracking-0001")


@pytest.fixture
def carrier_sims():
    """Both carriers' simulators, started on loopback."""
    sims = {}
    for code in ("ups", "dhl_parcel_de"):
        sims[code] = connector_for(code).simulator(credentials=credentials_of(code), hang_seconds=0.3).start()
    yield sims
    for sim in sims.values():
        sim.stop()


def account_on(sim, code, facility, **extra) -> CarrierAccount:
    account = CarrierAccount.objects.create(
        carrier=code, name=f"{code} test", facility=facility, api_base_url=sim.url, credentials=None, **extra
    )
    return carrier_account_set_credentials(account=account, credentials=credentials_of(code), actor=None)


def label_on(sim, code) -> str:
    """A label bought on the simulator; its tracking number (the carrier knows it, no scan yet)."""
    connector = connector_for(code)
    client = connector.client(base_url=sim.url, credentials=credentials_of(code))
    return connector.create_shipment(client, connector.example_request()).parcels[0].tracking_number


@pytest.fixture
def make_accepted(shop, shopify_sim, brand, facility):
    stocked_sku(brand=brand, facility=facility, code="TEE-WHT-S", units=5)

    def make() -> Order:
        created = shopify_sim.upsert_order({"line_items": [{"sku": "TEE-WHT-S", "quantity": 1}]})
        canonical = CanonicalOrderFactory(platform_order_id=str(created["id"]), lines=(line("TEE-WHT-S", 1),))
        return order_ingest(canonical=canonical, brand=brand, channel=shop.channel).order

    return make
