"""Saving with the record of who and why: simple-history reads both from the instance when it writes the history row."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.models import User
from simple_history.manager import HistoryDescriptor


def save_with_history(obj: Any, *, actor: User | None, reason: str, fields: list[str] | None = None) -> None:
    """Save `obj` so its history row names the actor (None: the system) and the reason."""
    obj._history_user = actor
    obj._change_reason = reason
    obj.save(update_fields=fields)


class _CachedHistoryDescriptor(HistoryDescriptor):
    """simple-history builds the history manager's class anew on every `instance.history` access (`from_queryset`
    inspects the whole QuerySet class each time), which it does for every history row it writes. The class never
    changes: build it once."""

    def __get__(self, instance: Any, owner: Any) -> Any:
        manager_type = self.__dict__.get("_manager_type")
        if manager_type is None:
            manager_type = self._manager_type = self.manager_class.from_queryset(self.queryset_class)
        return manager_type(self.model, instance)


def history_managers_cache() -> None:
    """Swap every model's history descriptor for the caching one (called once, when the apps are ready)."""
    for model in apps.get_models():
        for name, value in list(vars(model).items()):
            if type(value) is HistoryDescriptor:
                setattr(model, name, _CachedHistoryDescriptor(value.model, value.manager_class, value.queryset_class))
