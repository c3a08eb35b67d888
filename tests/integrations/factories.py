"""Factories of the connector framework."""

import factory

from integrations.models import Connection, ConnectionStatus
from tests.factories import BrandFactory, SalesChannelFactory


class ConnectionFactory(factory.django.DjangoModelFactory):
    """A connection with its sales channel: `ConnectionFactory(brand=..., platform="woocommerce", name=...)`
    describe the channel (or pass `channel=` to use one). The platform must be a registered one."""

    class Meta:
        model = Connection
        skip_postgeneration_save = True

    class Params:
        brand = factory.SubFactory(BrandFactory)
        platform = "shopify"
        name = factory.Sequence(lambda n: f"Shop {n}")
        is_marketplace = False
        sla_window_hours = None

    channel = factory.SubFactory(
        SalesChannelFactory,
        brand=factory.SelfAttribute("..brand"),
        platform_code=factory.SelfAttribute("..platform"),
        name=factory.SelfAttribute("..name"),
        is_marketplace=factory.SelfAttribute("..is_marketplace"),
        sla_window_hours=factory.SelfAttribute("..sla_window_hours"),
    )
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
    class Params:
        platform = "woocommerce"

    shop = factory.Sequence(lambda n: f"https://woo-{n}.example")
