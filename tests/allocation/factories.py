"""factory_boy factories of allocation: policies, cutoffs, contract reservations, scheduled inbound."""

import datetime as dt

import factory

from orders.allocation.models import AllocationPolicy, ContractReservation, Cutoff
from tests.factories import BrandFactory, FacilityFactory
from tests.inventory.factories import SkuFactory


class AllocationPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AllocationPolicy
        django_get_or_create = ("brand",)

    brand = factory.SubFactory(BrandFactory)


class CutoffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cutoff

    brand = factory.SubFactory(BrandFactory)
    facility = factory.SubFactory(FacilityFactory)
    platform = ""
    cutoff_time = dt.time(15, 0)


class ContractReservationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractReservation

    brand = factory.SubFactory(BrandFactory)
    customer = "Retail Chain Ltd"
    sku = factory.SubFactory(SkuFactory, brand=factory.SelfAttribute("..brand"))
    facility = factory.SubFactory(FacilityFactory)
    quantity = 5
