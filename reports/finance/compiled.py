"""ORM queries compiled to SQL once per process and run on a plain cursor: for report queries that run on every page
view and export, where Django building and compiling a UNION of four grouped queries costs more than PostgreSQL
running it.

A `CompiledQuery` is a function that builds a queryset from named parameters. The first call of a *shape* (what
changes the SQL's text: how many brands, whether a channel or facility is chosen, the time zone, the database) builds
it with stand-in values, compiles it, and notes where each stand-in landed among the SQL's parameters; every later
call of that shape runs the same SQL with the real values in those places, which is what the ORM would have sent.
`wrap` puts the compiled query inside a larger statement (e.g. a JOIN for names), so one round trip brings them.

Rows get Django's converters, as the ORM's would (a count is an int, a truncated date a date). When the backend
changes a value on its way into the SQL (SQLite writes dates as text), no stand-in can be traced and the query is
compiled from the real values on each call instead: slower, never different. tests/reports/test_compiled_queries.py
checks that both give the ORM's rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone

Params = dict[str, Any]  # name → int, date, datetime, a list of ints, or None (None and list lengths are the shape)

_STAND_IN_INT = -(10**15)  # far from any primary key or constant a query may hold
_STAND_IN_EPOCH = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


Converters = list[tuple[int, tuple[list[Any], Any]]]  # column → Django's converters of its value, and its expression
Slot = tuple[str, int | None] | tuple[None, Any]  # a value's name and list index, or a constant of the query


class _Compiled:
    """One shape's SQL, where each of its parameters comes from, and the converters of its columns."""

    def __init__(self, sql: str, slots: list[Slot], converters: Converters) -> None:
        self.sql = sql
        self.slots = slots
        self.converters = converters

    def params(self, values: Params) -> list[Any]:
        out = []
        for name, index in self.slots:
            if name is None:
                out.append(index)  # a constant of the query itself (a state, a kind's label)
            elif index is None:
                out.append(values[name])
            else:
                out.append(values[name][index])
        return out


_EMPTY = _Compiled("", [], [])  # a shape the ORM knows matches nothing (an empty IN list): no query at all


class CompiledQuery:
    def __init__(self, build: Callable[[Params], QuerySet[Any]], wrap: str = "{}", using: str = "default") -> None:
        self.build = build
        self.wrap = wrap  # a statement around the compiled query, "{}" where it goes
        self.using = using
        self._shapes: dict[tuple[Any, ...], _Compiled | None] = {}  # None: this shape compiles on every call

    def rows(self, values: Params) -> list[tuple[Any, ...]]:
        connection = connections[self.using]
        shape = (connection.vendor, timezone.get_current_timezone_name(), *_shape(values))
        if shape not in self._shapes:
            self._shapes[shape] = self._compile(values)
        compiled = self._shapes[shape]
        if compiled is None:
            return list(self._rows_compiled_now(values))
        if compiled is _EMPTY:
            return []
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, compiled.params(values))
            rows = cursor.fetchall()
        return _converted(rows, compiled.converters, connection) if compiled.converters else rows

    def _compile(self, values: Params) -> _Compiled | None:
        numbers = count()
        stand_ins: Params = {}
        where: dict[Any, tuple[str, int | None]] = {}
        for name, value in values.items():
            if isinstance(value, list):
                stand_ins[name] = [_stand_in(v, next(numbers)) for v in value]
                where.update({s: (name, i) for i, s in enumerate(stand_ins[name])})
            elif value is None:
                stand_ins[name] = None
            else:
                stand_ins[name] = _stand_in(value, next(numbers))
                where[stand_ins[name]] = (name, None)
        compiler = self.build(stand_ins).query.get_compiler(using=self.using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return _EMPTY
        slots: list[Slot] = []
        for param in params:
            slot = where.get(param) if _traceable(param) else None
            slots.append(slot if slot is not None else (None, param))
        if {s for s in slots if s[0] is not None} != set(where.values()):
            return None  # a value was changed on its way into the SQL: it cannot be put back in its place
        return _Compiled(self.wrap.format(sql), slots, _converters(compiler))

    def _rows_compiled_now(self, values: Params) -> Iterator[tuple[Any, ...]]:
        compiler = self.build(values).query.get_compiler(using=self.using)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return
        with compiler.connection.cursor() as cursor:
            cursor.execute(self.wrap.format(sql), params)
            rows = cursor.fetchall()
        converters = _converters(compiler)
        yield from _converted(rows, converters, compiler.connection) if converters else rows


def _converters(compiler: Any) -> Converters:
    """What the ORM applies to each column of a row (after `as_sql`), as `SQLCompiler.results_iter` finds them."""
    return list(compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]]).items())


def _converted(rows: list[tuple[Any, ...]], converters: Converters, connection: Any) -> list[tuple[Any, ...]]:
    out = []
    for row in rows:
        cells = list(row)
        for pos, (convs, expression) in converters:
            for converter in convs:
                cells[pos] = converter(cells[pos], expression, connection)
        out.append(tuple(cells))
    return out


def _shape(values: Params) -> tuple[Any, ...]:
    return tuple(
        (name, len(v) if isinstance(v, list) else v is None) for name, v in sorted(values.items(), key=lambda kv: kv[0])
    )


def _stand_in(value: Any, n: int) -> Any:
    """A value of the same type that no real query holds, unique to its place."""
    if isinstance(value, bool):
        raise TypeError("a flag changes a query's text: build a query per flag instead")
    if isinstance(value, int):
        return _STAND_IN_INT - n
    if isinstance(value, dt.datetime):
        return _STAND_IN_EPOCH + dt.timedelta(seconds=n + 1)
    if isinstance(value, dt.date):
        return _STAND_IN_EPOCH.date() + dt.timedelta(days=n + 1)
    raise TypeError(f"no stand-in for a {type(value).__name__}")


def _traceable(param: Any) -> bool:
    try:
        hash(param)
    except TypeError:
        return False
    return type(param) in (int, dt.date, dt.datetime)
