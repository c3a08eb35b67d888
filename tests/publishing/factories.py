"""factory_boy factories of publishing: a SKU's listing on a connection, in the generic mapping table."""

import factory

from integrations.models import ExternalId, ExternalIdKind
from integrations.platforms.registry import connector_for
from tests.factories import FacilityFactory
from tests.integrations.factories import ConnectionFactory
from tests.inventory.factories import SkuFactory
from warehouse.models import Facility

SHOPIFY_LOCATION = "905684977"  # the simulator's location


class ListingFactory(factory.django.DjangoModelFactory):
    """A SKU listed on a connection (Shopify-shaped by default: an inventory item id). `location=` is where a
    platform that keeps stock per location advertises the pool: mapped for the first facility when the connection
    has no location yet (ignored by platforms without locations)."""

    class Meta:
        model = ExternalId
        exclude = ("sku",)
        skip_postgeneration_save = True

    connection = factory.SubFactory(ConnectionFactory)
    sku = factory.SubFactory(SkuFactory, brand=factory.SelfAttribute("..connection.brand"))
    kind = ExternalIdKind.LISTING
    local_id = factory.SelfAttribute("sku.pk")
    external_id = factory.Sequence(lambda n: str(808950810 + n))

    @factory.post_generation
    def location(obj, create, extracted, **kwargs):
        where = SHOPIFY_LOCATION if extracted is None else extracted
        if not create or not where or not connector_for(obj.connection.platform).stock_needs_location:
            return
        location_map(obj.connection, where)


def location_map(connection, external_id, facility=None):
    """Map `facility` (the first one, created when there is none) to a location on `connection`, unless the
    connection already has a location there."""
    facility = facility or Facility.objects.order_by("pk").first() or FacilityFactory()
    return ExternalId.objects.get_or_create(
        connection=connection, kind=ExternalIdKind.LOCATION, local_id=facility.pk,
        defaults={"external_id": str(external_id)},
    )[0]  # fmt: skip
