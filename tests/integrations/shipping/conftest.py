"""A DHL Parcel DE simulator on loopback, its carrier account at the facility, a rule, and packed orders with parcels
(made with the ORM, as the pack screen will)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from integrations.carriers.accounts import carrier_account_set_credentials
from integrations.carriers.models import CarrierAccount
from integrations.carriers.registry import connector_for
from integrations.shipping.models import ShippingRule
from orders.models import Parcel
from orders.services import order_confirm_picked, order_ingest, order_pack, order_release_to_pick
from tests.orders.factories import CanonicalAddressFactory, CanonicalOrderFactory, line, stocked_sku
from tests.permissions.fixtures import fast_password_hashing, make_user, roles  # noqa: F401

DHL = "dhl_parcel_de"


@pytest.fixture(autouse=True)
def _keys_and_storage(settings, tmp_path):
    settings.CREDENTIAL_KEYS = [Fernet.generate_key().decode()]
    media = {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "m")}}
    settings.STORAGES = {**settings.STORAGES, "default": media}


def _seed(name: str) -> str:
    return f"{name}-tests-only"


@pytest.fixture
def dhl_sim():
    connector = connector_for(DHL)
    with connector.simulator(credentials=connector.demo_credentials(_seed), hang_seconds=0.5).running() as sim:
        yield sim


@pytest.fixture
def dhl_account(dhl_sim, facility):
    account = CarrierAccount.objects.create(carrier=DHL, name="DHL VLC1", facility=facility, api_base_url=dhl_sim.url)
    return carrier_account_set_credentials(
        account=account, credentials=connector_for(DHL).demo_credentials(_seed), actor=None
    )


@pytest.fixture
def eu_rule(db):
    return ShippingRule.objects.create(
        name="EU standard by DHL", zone="any", countries="ES,DE,FR,AT", carrier=DHL, service="V01PAK"
    )


def packed_order(brand, facility, *, code="TEE-M", country="ES", postal_code="46004", parcels=((1200, 300, 200, 100),)):
    from inventory.models import Sku

    if not Sku.objects.filter(brand=brand, code=code).exists():
        stocked_sku(brand=brand, facility=facility, code=code, units=20)
    order = order_ingest(
        canonical=CanonicalOrderFactory(
            lines=(line(code),), address=CanonicalAddressFactory(country=country, postal_code=postal_code)
        ),
        brand=brand,
    ).order
    for step in (order_release_to_pick, order_confirm_picked, order_pack):
        order = step(order=order, actor=None)
    for number, (grams, length, width, height) in enumerate(parcels, start=1):
        Parcel.objects.create(
            order=order, number=number, weight_grams=grams, length_mm=length, width_mm=width, height_mm=height
        )
    return order


@pytest.fixture
def packed(brand, facility):
    return packed_order(brand, facility)
