"""A brand's October and November 2026, seeded row by row, with figures a person can compute by hand (see each
test). The reports read history; these rows are that history, written directly rather than replayed through every
service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType

from inventory.models import Movement, MovementKind, Sku
from orders.models import Order, OrderState, Shipment
from reports.models import RateCard, SlaCreditTier, StorageSnapshot
from tests.factories import BrandFactory, FacilityFactory, SalesChannelFactory
from warehouse.models import TransitionRecord

MADRID = ZoneInfo("Europe/Madrid")


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=MADRID)


def order(brand, channel, facility, ref: str, *, ship_by: dt.datetime, handed_at: dt.datetime | None, state=None):
    o = Order.objects.create(brand=brand, channel=channel, facility=facility, platform_order_id=ref, ship_by=ship_by)
    Order.objects.filter(pk=o.pk).update(
        created_at=ship_by - dt.timedelta(hours=30), paid_at=ship_by - dt.timedelta(hours=24),
        state=state or (OrderState.DISPATCHED if handed_at else OrderState.PACKED),
    )  # fmt: skip
    if handed_at:
        Shipment.objects.create(order=o, facility=facility, carrier="dhl_parcel_de", handed_at=handed_at)
    return o


def seed_month(*, brand_name: str = "Acme", slug: str = "acme"):
    """October: 20 orders measured, 19 on time, 1 late (95 %). November: 10 measured, 8 on time, 2 late (80 %).
    Credit tiers: below 99 % → 1.00 per late order; below 85 % → 3.00 per late order."""
    brand = BrandFactory(name=brand_name, slug=slug)
    facility = FacilityFactory(code=f"VLC-{slug}")
    channel = SalesChannelFactory(brand=brand, name=f"{brand_name} shop")
    for i in range(20):
        ship_by = at(f"2026-10-{i + 5:02d}", 18)
        order(brand, channel, facility, f"OCT-{i}", ship_by=ship_by,
              handed_at=ship_by + dt.timedelta(hours=2) if i == 0 else ship_by - dt.timedelta(hours=3))  # fmt: skip
    for i in range(10):
        ship_by = at(f"2026-11-{i + 2:02d}", 18)
        order(brand, channel, facility, f"NOV-{i}", ship_by=ship_by,
              handed_at=ship_by + dt.timedelta(days=1) if i < 2 else ship_by - dt.timedelta(hours=1))  # fmt: skip
    order(
        brand, channel, facility, "NOV-CANCELLED", ship_by=at("2026-11-20"), handed_at=None, state=OrderState.CANCELLED
    )
    SlaCreditTier.objects.create(brand=brand, attainment_below=Decimal("99"), credit_per_late_order=Decimal("1.00"))
    SlaCreditTier.objects.create(brand=brand, attainment_below=Decimal("85"), credit_per_late_order=Decimal("3.00"))
    return brand, channel, facility


def seed_billing(brand, facility):
    """November's billable activity. Cards: from 1 Nov received 0.10, picked 0.25, packed 1.20, shipment 0.80,
    storage 0.01 per unit-day; from 16 Nov picked 0.30 (the rest unchanged).
    - received: 5 units on 31 Oct (no card yet) and 100 on 3 Nov → November 100 × 0.10 = 10.00;
    - picked: 10 on 10 Nov (0.25) and 4 on 20 Nov (0.30) → 14 units, 2.50 + 1.20 = 3.70;
    - packed: 3 orders on 12 Nov → 3.60; shipments: the 10 November hand-offs of `seed_month` → 8.00;
    - storage: 1,000 units on each of 1, 2, 3 Nov → 3,000 unit-days × 0.01 = 30.00."""
    sku = Sku.objects.create(brand=brand, code="TEE-M")
    base = {
        "valid_from": dt.date(2026, 11, 1),
        "per_unit_received": Decimal("0.10"),
        "per_unit_picked": Decimal("0.25"),
        "per_order_packed": Decimal("1.20"),
        "per_shipment": Decimal("0.80"),
        "storage_per_unit_day": Decimal("0.01"),
    }
    RateCard.objects.create(brand=brand, **base)
    RateCard.objects.create(
        brand=brand, **{**base, "valid_from": dt.date(2026, 11, 16), "per_unit_picked": Decimal("0.30")}
    )
    moves = [
        (MovementKind.RECEIVE, 5, at("2026-10-31")),
        (MovementKind.RECEIVE, 100, at("2026-11-03")),
        (MovementKind.START_PICK, 10, at("2026-11-10")),
        (MovementKind.START_PICK, 4, at("2026-11-20")),
    ]
    for n, (kind, quantity, when) in enumerate(moves):
        Movement.objects.create(event_id=f"seed-{n}", kind=kind, sku=sku, facility=facility, quantity=quantity,
                                created_at=when)  # fmt: skip
    packed = Order.objects.filter(brand=brand, platform_order_id__startswith="NOV-")[:3]
    for o in packed:
        record = TransitionRecord.objects.create(
            content_type=ContentType.objects.get_for_model(Order), object_id=o.pk, name="pack", source="picked",
            target=OrderState.PACKED,
        )  # fmt: skip
        TransitionRecord.objects.filter(pk=record.pk).update(at=at("2026-11-12"))
    for day in (1, 2, 3):
        StorageSnapshot.objects.create(day=dt.date(2026, 11, day), brand=brand, facility=facility, units=1000)
    return sku
