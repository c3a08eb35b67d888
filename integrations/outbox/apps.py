from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "integrations.outbox"
    label = "outbox"
    verbose_name = "Outbound queue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import integrations.outbox.receivers  # noqa: F401 - connects the shipment hand-off signal
