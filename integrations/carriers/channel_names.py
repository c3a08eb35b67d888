"""A carrier as the sales channels know it: a shipment names its carrier by registry code (`dhl_parcel_de`) or, when
a person typed it, by name ("UPS"); a fulfilment names it the way the channel recognises it (Shopify's supported
tracking companies, BigCommerce's `shipping_provider` or AfterShip slug, the words of a WooCommerce customer note).
Each carrier declares its names (`channel_names`, `display_name`, `tracking_url` on its connector); this is the one
place that reads them. A carrier the kit does not know is passed on as written."""

from __future__ import annotations

from urllib.parse import quote

from integrations.carriers.protocol import Carrier
from integrations.carriers.registry import connectors


def carrier_known_as(carrier: str) -> Carrier | None:
    """The connector of a carrier written as its code or its name (any case); None for one the kit does not know."""
    wanted = (carrier or "").strip().lower()
    if not wanted:
        return None
    for connector in connectors().values():
        if wanted in (connector.code.lower(), connector.name.lower(), connector.display_name.lower()):
            return connector
    return None


def channel_carrier_name(carrier: str, platform: str) -> str:
    """The carrier's name on `platform`'s fulfilments (its display name on a platform it does not list)."""
    connector = carrier_known_as(carrier)
    if connector is None:
        return (carrier or "").strip()
    return connector.channel_names.get(platform, connector.display_name)


def carrier_tracking_url(carrier: str, tracking_number: str) -> str:
    """The carrier's public tracking page for this number ("" for a carrier the kit does not know)."""
    connector = carrier_known_as(carrier)
    if connector is None or not connector.tracking_url or not tracking_number:
        return ""
    return connector.tracking_url.format(number=quote(tracking_number, safe=""))
