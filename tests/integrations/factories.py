"""Factories of the connector framework."""

import factory

from integrations.models import Connection, ConnectionStatus
from tests.factories import BrandFactory


class ConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Connection
        skip_postgeneration_save = True

    brand = factory.SubFactory(BrandFactory)
    platform = "shopify"
    name = factory.Sequence(lambda n: f"Shop {n}")
    shop = factory.Sequence(lambda n: f"shop-{n}.myshopify.com")
    status = ConnectionStatus.ACTIVE

    @factory.post_generation
    def secrets(obj, create, extracted, **kwargs):
        """`ConnectionFactory(secrets={"signing_secret": ..., "credentials": {...}})`; defaults are test secrets."""
        from integrations.services import connection_set_credentials, connection_set_signing_secret

        values = extracted or {}
        connection_set_signing_secret(
            connection=obj, secret=values.get("signing_secret", f"whsec-test-{obj.pk}"), window=None, actor=None
        )
        connection_set_credentials(
            connection=obj, credentials=values.get("credentials", {"access_token": f"shpat-test-{obj.pk}"}), actor=None
        )


class WooConnectionFactory(ConnectionFactory):
    platform = "woocommerce"
    shop = factory.Sequence(lambda n: f"https://woo-{n}.example")
