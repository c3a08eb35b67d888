"""What one shipment carries: a leg. An order at one facility is one leg (all of it, from its facility); an order
split across facilities ships one leg per facility (`orders.services.legs.order_legs`), each with its own parcels
(a parcel belongs to the leg of the facility it was packed at, `Parcel.facility`; a parcel without one belongs to
the order's facility), its own rules (the leg's facility), label, shipment and fulfilment (its own lines)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from inventory.models import Sku
from orders.models import Order, Parcel, is_split
from orders.services.legs import order_legs
from warehouse.errors import InvalidInput, Reason
from warehouse.models import Facility


@dataclass(frozen=True)
class ShipLeg:
    """One leg to ship. `split` False: the whole order from its facility (`lines` empty: every line)."""

    facility: Facility
    lines: tuple[tuple[Sku, int], ...] = ()
    split: bool = False

    @property
    def sku_ids(self) -> set[int] | None:
        """The SKUs this leg carries (None: every SKU of the order)."""
        return {sku.pk for sku, _ in self.lines} if self.split else None


def shipping_legs(order: Order) -> list[ShipLeg]:
    """The order's legs, the order's own facility first."""
    if not is_split(order):
        return [ShipLeg(order.facility)] if order.facility is not None else []
    return [ShipLeg(leg.facility, tuple(leg.lines), split=True) for leg in order_legs(order)]


def leg_parcels_q(order: Order, leg: ShipLeg) -> Q:
    """The parcels of a leg: every parcel of an order at one facility; of a split order, those packed at the leg's
    facility (and those without a facility at the order's own facility)."""
    if not leg.split:
        return Q(order=order)
    mine = Q(order=order, facility_id=leg.facility.pk)
    if leg.facility.pk == order.facility_id:
        mine |= Q(order=order, facility__isnull=True)
    return mine


def leg_waiting_parcels(order: Order, leg: ShipLeg) -> list[Parcel]:
    return list(Parcel.objects.filter(leg_parcels_q(order, leg), shipment__isnull=True).order_by("number"))


def leg_to_ship(order: Order, facility: str | int | Facility | None = None) -> ShipLeg:
    """The leg a ship request means: the one at `facility` (a code, id or facility), else the first leg with a
    parcel waiting for a label (else the first leg, whose "no parcels" the caller reports)."""
    legs = shipping_legs(order)
    if not legs:
        raise InvalidInput(
            "The order has no facility to ship from.", reasons=[Reason("no_facility", "the order is not allocated")]
        )
    if facility in (None, ""):
        return next((leg for leg in legs if leg_waiting_parcels(order, leg)), legs[0])
    wanted = facility.pk if isinstance(facility, Facility) else facility
    for leg in legs:
        if wanted in (leg.facility.pk, leg.facility.code, str(leg.facility.pk)):
            return leg
    where = " and ".join(leg.facility.code for leg in legs)
    raise InvalidInput(
        f"The order ships from {where}, not {facility}.",
        reasons=[Reason("facility_not_in_order", f"the order ships from {where}")],
    )
