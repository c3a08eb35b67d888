"""factory_boy factories of the operator's core. Each app's factories live in tests/<app>/factories.py."""

import factory
from django.contrib.auth import get_user_model

from warehouse.models import Brand, Facility, SalesChannel


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"FAC{n}")
    name = factory.Sequence(lambda n: f"Facility {n}")
    street = "Carrer de la Pau 1"
    postal_code = "46001"
    city = "Valencia"
    country = "ES"
    time_zone = "Europe/Madrid"


class SalesChannelFactory(factory.django.DjangoModelFactory):
    """A brand's sales channel. Platform codes are plain data here ("shopify", "amazon"): the core knows none."""

    class Meta:
        model = SalesChannel

    brand = factory.SubFactory(BrandFactory)
    platform_code = "shopify"
    name = factory.Sequence(lambda n: f"Channel {n}")
    is_marketplace = False
    sla_window_hours = None


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-only")
