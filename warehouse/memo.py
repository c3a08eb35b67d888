"""Reads memoised for one unit of work.

Ingesting one order asks for the brand's allocation policy, the channel's cutoff at a facility and the list of
facilities several times (routing, ship-by, priority, allocation). Inside `memo_scope()` a function decorated with
`@memoized` reads its rows once; outside a scope nothing is cached, so no reader ever sees a row that a later unit of
work may have changed. Keep the scope as short as the unit of work (one order), and memoise only reads of
configuration that the unit itself does not change."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from django.db import models

P = ParamSpec("P")
R = TypeVar("R")

_cache: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("warehouse_memo", default=None)


@contextmanager
def memo_scope() -> Iterator[None]:
    """Memoise `@memoized` reads until the block ends (a nested scope shares the outer one)."""
    if _cache.get() is not None:
        yield
        return
    token = _cache.set({})
    try:
        yield
    finally:
        _cache.reset(token)


def memo_clear() -> None:
    """Forget what this scope read (a write in the unit of work changed rows a memoised read returned)."""
    cache = _cache.get()
    if cache is not None:
        cache.clear()


def _key(value: Any) -> Any:
    if isinstance(value, models.Model):
        return (type(value).__name__, value.pk)
    return value


def memoized(func: Callable[P, R]) -> Callable[P, R]:
    """Keyword-only reads: cached per scope by their arguments (model instances by class and primary key)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        cache = _cache.get()
        if cache is None or args:
            return func(*args, **kwargs)
        key = (func.__module__, func.__qualname__, *sorted((name, _key(v)) for name, v in kwargs.items()))
        if key not in cache:
            cache[key] = func(*args, **kwargs)
        return cache[key]  # type: ignore[no-any-return]

    return wrapper
