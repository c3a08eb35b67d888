from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "integrations.alerts"
    label = "alerts"
    verbose_name = "Alerts and incidents"
    default_auto_field = "django.db.models.BigAutoField"
