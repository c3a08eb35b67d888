"""Saving with the record of who and why: simple-history reads both from the instance when it writes the history row."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User


def save_with_history(obj: Any, *, actor: User | None, reason: str, fields: list[str] | None = None) -> None:
    """Save `obj` so its history row names the actor (None: the system) and the reason."""
    obj._history_user = actor
    obj._change_reason = reason
    obj.save(update_fields=fields)
