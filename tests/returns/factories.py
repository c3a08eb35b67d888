"""factory_boy factories of returns. Prefer the services to move a return along: they move its stock too."""

import factory

from returns.models import Return, ReturnLine
from tests.factories import BrandFactory, FacilityFactory
from tests.inventory.factories import SkuFactory


class ReturnFactory(factory.django.DjangoModelFactory):
    """A just-initiated return (no lines: add `ReturnLineFactory` rows or use `return_initiate`)."""

    class Meta:
        model = Return

    brand = factory.SubFactory(BrandFactory)
    rma_number = factory.Sequence(lambda n: f"RMA-{n:05d}")
    reason = "Wrong size"
    facility = factory.SubFactory(FacilityFactory)


class ReturnLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReturnLine

    rma = factory.SubFactory(ReturnFactory)
    sku = factory.SubFactory(SkuFactory, brand=factory.SelfAttribute("..rma.brand"))
    quantity = 1
