"""Named guards for django-fsm-2 transitions.

A guard is a small predicate on the model; `@guard(code, message)` attaches the sentence that explains a failure,
so a refused transition names every reason instead of answering a bare "conditions not met"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from warehouse.errors import Reason

GuardFn = Callable[[Any], bool]


def guard(code: str, message: str) -> Callable[[GuardFn], GuardFn]:
    def attach(fn: GuardFn) -> GuardFn:
        fn.reason = Reason(code, message)  # type: ignore[attr-defined]
        return fn

    return attach


def guard_reason(fn: GuardFn) -> Reason:
    reason = getattr(fn, "reason", None)
    if isinstance(reason, Reason):
        return reason
    return Reason(fn.__name__.lstrip("_"), (fn.__doc__ or fn.__name__).strip())
