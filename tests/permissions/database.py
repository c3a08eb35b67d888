"""The whole database as a fingerprint: each table's row count and a checksum of its rows, in one query.

A refused request must leave every table as it was. Left out, because they record the request itself and not a
change it made: sessions (signing in a test client writes one), API tokens (knox refreshes their expiry on use),
`auth_user.last_login`, and the audit log (which records calls, refused ones too)."""

from __future__ import annotations

from django.db import connection

EXCLUDED_TABLES = {"django_session", "knox_authtoken", "integrations_auditrecord"}
EXCLUDED_COLUMNS = {"auth_user": ("last_login",)}


def _row_text(table: str) -> str:
    columns = EXCLUDED_COLUMNS.get(table)
    if not columns:
        return "t::text"
    dropped = ", ".join(f"'{c}'" for c in columns)
    return f"(to_jsonb(t) - ARRAY[{dropped}])::text"


def _fingerprint_sql() -> str:
    parts = []
    for table in sorted(connection.introspection.table_names()):
        if table in EXCLUDED_TABLES:
            continue
        row = _row_text(table)
        parts.append(
            f"SELECT '{table}', count(*), md5(coalesce(string_agg({row}, '|' ORDER BY {row}), '')) "
            f"FROM {connection.ops.quote_name(table)} t"
        )
    return " UNION ALL ".join(parts)


def database_fingerprint() -> dict[str, tuple[int, str]]:
    """{table: (rows, md5 of the rows in a stable order)} for every table but the excluded ones (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql())
        return {table: (count, digest) for table, count, digest in cursor.fetchall()}


def fingerprint_changes(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    """The tables that differ, with their row counts before → after."""
    return [
        f"{table} ({before.get(table, (0, ''))[0]} → {after.get(table, (0, ''))[0]} rows)"
        for table in sorted(set(before) | set(after))
        if before.get(table) != after.get(table)
    ]
