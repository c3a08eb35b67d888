from django.apps import AppConfig


class AllocationConfig(AppConfig):
    name = "orders.allocation"
    label = "allocation"
    verbose_name = "Allocation, routing and cutoffs"
