from django.apps import AppConfig


class WarehouseConfig(AppConfig):
    name = "warehouse"
    verbose_name = "Warehouse core"

    def ready(self) -> None:
        from warehouse.history import history_managers_cache

        history_managers_cache()
