from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        from integrations import checks  # noqa: F401  (registers the deployment check of the vault's keys)
        from integrations.health import vault_ready
        from warehouse.health import readiness_check_register

        readiness_check_register("vault", vault_ready)
