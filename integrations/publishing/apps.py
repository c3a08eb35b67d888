from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "integrations.publishing"
    label = "publishing"
    verbose_name = "Inventory publishing"
