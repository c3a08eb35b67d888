"""What every benchmark in bench/ needs: a database of its own, a free loopback port, percentiles.

Not a benchmark itself (`make bench` runs only files not starting with an underscore)."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit, urlunsplit


def with_db(url: str, name: str) -> str:
    """The same server URL, pointing at database `name`."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def admin_sql(url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def own_database(suffix: str, *, reuse: bool = False) -> None:
    """Point DATABASE_URL at a scratch database `<name>_bench_<suffix>` on the same server, re-created empty (kept as
    it is when `reuse` and it exists, to measure again without re-loading)."""
    import os

    import psycopg

    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/warehouse")
    base, _, name = url.rpartition("/")
    scratch = f"{name.split('?')[0]}_bench_{suffix}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [scratch]).fetchone()
        if not (reuse and exists):
            conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{scratch}"')
    os.environ["DATABASE_URL"] = f"{base}/{scratch}"


def p95(samples: list[float]) -> float:
    """The 95th percentile by nearest rank, rounded (the page benchmarks' convention)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; NaN for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] if ordered else float("nan")


def _sql_value(field, column_overrides):
    """An SQL expression for one column of a bulk-loaded row: the override, else a neutral value by type."""
    from django.db import models

    if field.column in column_overrides:
        return column_overrides[field.column]
    if field.null:
        return "NULL"
    if isinstance(field, models.JSONField):
        default = field.get_default()
        return f"'{json.dumps(default)}'::jsonb"
    if isinstance(field, models.BooleanField):
        return "false"
    if isinstance(field, (models.IntegerField, models.DecimalField, models.FloatField)):
        default = field.get_default()
        return str(default if isinstance(default, (int, float)) else 0)
    if isinstance(field, models.DateTimeField):
        return "now()"
    if isinstance(field, (models.CharField, models.TextField)):
        default = field.get_default()
        return "'" + str(default or "").replace("'", "''") + "'"
    raise ValueError(f"no bulk value for {field.model.__name__}.{field.name}")


def bulk_insert(model, count_sql: str, overrides: dict[str, str]) -> None:
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    values = ", ".join(_sql_value(f, overrides) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f'INSERT INTO "{model._meta.db_table}" ({columns}) SELECT {values} FROM {count_sql}')


def page_against_sql(client, url: str, *, sql: str, params: list, runs: int, check) -> dict:
    """A page's figures beside the raw SQL of its main query, interleaved `runs` times after one warm-up: the most
    queries any render ran, page p50/p95, raw SQL p95 and their ratio. `check(response)` asserts the page is whole."""
    import statistics
    import time

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm caches once
    page_ms, raw_ms, queries = [], [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            page_ms.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        check(response)
        queries = max(queries, len(captured.captured_queries))
        with connection.cursor() as cursor:
            start = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            raw_ms.append((time.perf_counter() - start) * 1000)
    row = {"queries": queries, "p50_ms": round(statistics.median(page_ms), 1), "p95_ms": round(p95(page_ms), 1),
           "raw_p95_ms": round(p95(raw_ms), 2)}  # fmt: skip
    row["ratio"] = round(row["p95_ms"] / max(row["raw_p95_ms"], 0.01), 1)
    return row
