"""Read queries of allocation: the brand's policy and cutoffs, reservations, and orders at risk of their cutoff."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from orders.allocation.models import AllocationPolicy, ContractReservation, Cutoff, OrderRoute, ScheduledInbound
from orders.models import Order, OrderState
from warehouse.memo import memoized
from warehouse.models import Brand, Facility


@memoized
def allocation_policy_for(*, brand: Brand) -> AllocationPolicy:
    """The brand's saved policy, or the default one (unsaved) when the brand never edited it."""
    return AllocationPolicy.objects.filter(brand=brand).first() or AllocationPolicy(brand=brand)


def cutoff_list(*, brand: Brand | None = None, facility: Facility | None = None) -> QuerySet[Cutoff]:
    cutoffs = Cutoff.objects.select_related("brand", "facility").order_by("brand__name", "facility__code", "platform")
    if brand is not None:
        cutoffs = cutoffs.filter(brand=brand)
    if facility is not None:
        cutoffs = cutoffs.filter(facility=facility)
    return cutoffs


def reservation_list(*, brand: Brand | None = None) -> QuerySet[ContractReservation]:
    found = ContractReservation.objects.select_related("brand", "sku", "facility")
    return found.filter(brand=brand) if brand is not None else found


def scheduled_inbound_open(*, brand: Brand | None = None) -> QuerySet[ScheduledInbound]:
    found = ScheduledInbound.objects.open().with_line().soonest_first()
    return found.filter(expected_line__inbound__brand=brand) if brand is not None else found


AT_RISK_STATES = (
    OrderState.RECEIVED,
    OrderState.VALIDATED,
    OrderState.ACCEPTED,
    OrderState.PICKING,
    OrderState.PICKED,
    OrderState.ON_HOLD,
)


def orders_at_risk(
    *,
    brand: Brand | None = None,
    facility: Facility | None = None,
    within: dt.timedelta = dt.timedelta(hours=2),
    now: dt.datetime | None = None,
) -> QuerySet[Order]:
    """Orders whose ship-by falls within `within` (or has passed) and that are not packed yet, soonest first: the
    managers' list of cutoffs about to be missed."""
    now = now or timezone.now()
    found = Order.objects.filter(ship_by__isnull=False, ship_by__lte=now + within, state__in=AT_RISK_STATES)
    if brand is not None:
        found = found.filter(brand=brand)
    if facility is not None:
        found = found.filter(facility=facility)
    return found.select_related("brand", "facility", "channel").order_by("ship_by", "pk")


def split_orders(*, brand: Brand) -> QuerySet[OrderRoute]:
    """The brand's view of the split trade-off: orders routed across facilities, with each estimated fee."""
    return (
        OrderRoute.objects.filter(brand=brand, split_fee__gt=0).select_related("order").order_by("-decided_at", "-pk")
    )
