"""The shipping part of the permission world: a carrier account, a packed order with a parcel waiting for its label,
and a label the carrier already picked up, on a closed manifest (rows made directly: no request of the sweep reaches
a carrier: the services refuse first)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from integrations.carriers.models import CarrierAccount
from integrations.shipping.models import Label, Manifest
from orders import services as order_services
from orders.models import Parcel
from tests.orders.factories import CanonicalOrderFactory, line


def build_shipping(world: Any, facility: Any) -> None:
    account = CarrierAccount.objects.create(
        carrier="ups", name="UPS VLC1", facility=facility, api_base_url="http://127.0.0.1:9"
    )
    world.objects["carrier_account"] = account
    order = order_services.order_ingest(
        canonical=CanonicalOrderFactory(platform_order_id="#1003", lines=(line("TEE-M"),)), brand=world.brand
    ).order
    for step in (order_services.order_release_to_pick, order_services.order_confirm_picked, order_services.order_pack):
        order = step(order=order, actor=None)
    Parcel.objects.create(order=order, number=1, weight_grams=900, length_mm=300, width_mm=200, height_mm=100)
    world.objects["shipping_order"] = order
    shipment = world.objects["shipment"]
    parcel = Parcel.objects.create(
        order=shipment.order, number=1, shipment=shipment, weight_grams=500, length_mm=200, width_mm=150, height_mm=90
    )
    manifest = Manifest.objects.create(account=account, facility=facility, day=timezone.localdate(),
                                       closed_at=timezone.now())  # fmt: skip
    world.objects["manifest"] = manifest
    world.objects["label"] = Label.objects.create(
        parcel=parcel, shipment=shipment, account=account, carrier="ups", service="11",
        tracking_number="TRK1", format="PDF", path="labels/none.pdf", sha256="0" * 64, size=1, manifest=manifest,
        picked_up_at=timezone.now(), carrier_receipt="UPS scan PU",
    )  # fmt: skip
