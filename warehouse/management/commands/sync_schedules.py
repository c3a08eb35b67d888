"""Apply every app's declared django-q2 schedules (`<app>/schedules.py: SCHEDULES`) with update_or_create(name=...)."""

from importlib import import_module
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django_q.models import Schedule


def declared_schedules() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for config in apps.get_app_configs():
        try:
            module = import_module(f"{config.name}.schedules")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.schedules":
                raise
            continue
        found.extend(getattr(module, "SCHEDULES", []))
    return found


class Command(BaseCommand):
    help = "Create or update the django-q2 schedules declared in code."

    def handle(self, *args: Any, **options: Any) -> None:
        for spec in declared_schedules():
            spec = dict(spec)
            name = spec.pop("name")
            Schedule.objects.update_or_create(name=name, defaults=spec)
            self.stdout.write(f"schedule {name}: {spec['func']}")
