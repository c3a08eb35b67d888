from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "integrations.tracking"
    label = "tracking"
    verbose_name = "Tracking"
    default_auto_field = "django.db.models.BigAutoField"
