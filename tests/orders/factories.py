"""Factories of orders: canonical orders (what connectors hand to `order_ingest`) and a stocked catalog.

Orders are made through `order_ingest` in tests, never saved directly, so every order has its timeline and stock."""

import datetime as dt

import factory

from inventory.services import stock_receive
from orders.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
from tests.inventory.factories import SkuFactory

T0 = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


class CanonicalAddressFactory(factory.Factory):
    class Meta:
        model = CanonicalAddress

    name = "Marta Puig"
    street1 = "Carrer de Colón 12"
    street2 = "3º 2ª"
    postal_code = "46004"
    city = "Valencia"
    region = "Valencia"
    country = "ES"


class CanonicalOrderFactory(factory.Factory):
    """A complete, valid order; pass `lines=(CanonicalLine(...),)` with the test's SKU codes."""

    class Meta:
        model = CanonicalOrder

    platform_order_id = factory.Sequence(lambda n: f"#10{n:04d}")
    updated_at = T0
    status = "paid"
    placed_at = T0
    paid_at = T0
    address = factory.SubFactory(CanonicalAddressFactory)
    phone = "+34 600 123 456"
    email = "marta@example.com"
    lines = ()


def line(sku_code, quantity=1, external_line_id=""):
    return CanonicalLine(sku_code=sku_code, quantity=quantity, external_line_id=external_line_id)


def stocked_sku(*, brand, facility, code, units):
    """A ready SKU of `brand` with `units` received at `facility` through the ledger."""
    sku = SkuFactory(brand=brand, code=code)
    if units:
        stock_receive(sku=sku, facility=facility, quantity=units, event_id=f"rcv:{code}", actor=None)
    return sku
