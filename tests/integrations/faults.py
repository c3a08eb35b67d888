"""Real database faults for tests: a trigger makes PostgreSQL itself refuse writes to a table with the SQLSTATE a
real fault raises (40001 serialization failure: transient; 22001 value too long: permanent), until it is dropped
(the "fix"). No mock: the error travels through psycopg and Django exactly as a production one would."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection


@contextlib.contextmanager
def refusing_writes(table: str, *, sqlstate: str = "40001", message: str = "injected fault") -> Iterator[None]:
    name = f"fault_{table}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{message}' USING ERRCODE = '{sqlstate}'; END $$ LANGUAGE plpgsql"""
        )
        cursor.execute(
            f"CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
