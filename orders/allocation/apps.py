from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "orders.allocation"
    label = "allocation"
    verbose_name = "Allocation, routing and cutoffs"

    def ready(self) -> None:
        from inventory.signals import stock_received
        from orders.allocation.receipts import on_stock_received

        stock_received.connect(on_stock_received, dispatch_uid="orders.allocation.receipts")
