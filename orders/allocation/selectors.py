"""Read queries of allocation: the brand's policy and cutoffs, reservations, and orders at risk of their cutoff."""

from __future__ import annotations

from django.db.models import QuerySet

from orders.allocation.models import AllocationPolicy, ContractReservation, Cutoff, ScheduledInbound
from warehouse.models import Brand, Facility


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
    found = ScheduledInbound.objects.filter(received=False).select_related("sku", "facility")
    return found.filter(brand=brand) if brand is not None else found
