"""factory_boy factories of the catalog and of stock. Other apps' tests may import these."""

import factory

from inventory.models import Barcode, KitComponent, Sku, SkuAlias, SkuState, StockLevel
from tests.factories import BrandFactory, FacilityFactory


class SkuFactory(factory.django.DjangoModelFactory):
    """A complete SKU in the given lifecycle state (default: ready for receiving)."""

    class Meta:
        model = Sku
        skip_postgeneration_save = True

    brand = factory.SubFactory(BrandFactory)
    code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = factory.LazyAttribute(lambda o: f"Product {o.code}")
    weight_grams = 250
    length_mm = 300
    width_mm = 200
    height_mm = 50
    hs_code = "610910"
    state = SkuState.READY_FOR_RECEIVING

    @factory.post_generation
    def barcode(self, create, extracted, **kwargs):
        """A ready SKU has a barcode; pass barcode=None to skip it or barcode="..." to choose it."""
        if not create or (extracted is None and self.state in (SkuState.DEFINED, SkuState.VARIANTS_ASSIGNED)):
            return
        if extracted is False:
            return
        Barcode.objects.create(sku=self, value=extracted or f"84{self.pk:011d}")


class DefinedSkuFactory(SkuFactory):
    """A SKU just defined: nothing about its pack configuration is known yet."""

    weight_grams = None
    length_mm = None
    width_mm = None
    height_mm = None
    hs_code = ""
    state = SkuState.DEFINED


class KitFactory(SkuFactory):
    is_kit = True
    code = factory.Sequence(lambda n: f"KIT-{n:05d}")


class KitComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KitComponent

    kit = factory.SubFactory(KitFactory)
    component = factory.SubFactory(SkuFactory, brand=factory.SelfAttribute("..kit.brand"))
    quantity = 1


class SkuAliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SkuAlias

    sku = factory.SubFactory(SkuFactory)
    brand = factory.SelfAttribute("sku.brand")
    code = factory.Sequence(lambda n: f"OLD-{n:05d}")


class StockLevelFactory(factory.django.DjangoModelFactory):
    """A bare stock row. Prefer `stock_receive` in tests: a row made here has no ledger behind it."""

    class Meta:
        model = StockLevel
        django_get_or_create = ("sku", "facility")

    sku = factory.SubFactory(SkuFactory)
    facility = factory.SubFactory(FacilityFactory)
