"""factory_boy factories of publishing."""

import factory

from integrations.publishing.models import ChannelListing
from tests.integrations.factories import ConnectionFactory
from tests.inventory.factories import SkuFactory


class ChannelListingFactory(factory.django.DjangoModelFactory):
    """Shopify-shaped by default: an inventory item at a location."""

    class Meta:
        model = ChannelListing

    connection = factory.SubFactory(ConnectionFactory)
    sku = factory.SubFactory(SkuFactory, brand=factory.SelfAttribute("..connection.brand"))
    external_id = factory.Sequence(lambda n: str(808950810 + n))
    location_id = "905684977"
