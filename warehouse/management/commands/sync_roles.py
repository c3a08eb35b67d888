"""Make the groups and their permissions match `warehouse.roles.ROLES` (idempotent)."""

from typing import Any

from django.core.management.base import BaseCommand

from warehouse.roles import roles_sync


class Command(BaseCommand):
    help = "Create the role groups and set each one's permissions to exactly what warehouse/roles.py says."

    def handle(self, *args: Any, **options: Any) -> None:
        for role, count in roles_sync().items():
            self.stdout.write(f"{role}: {count} permissions")
