"""A transaction-scoped lock on a name, for the checks a unique constraint cannot express (one connection per shop)
or for serialising work on one key across workers (one platform order's deliveries)."""

from __future__ import annotations

import hashlib

from django.db import connection as db


def advisory_xact_lock(name: str) -> None:
    """Hold a PostgreSQL advisory lock on `name` until the transaction ends. On SQLite (the demo) writers are
    serialised by the database itself, so there is nothing to take."""
    if db.vendor != "postgresql":
        return
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)])
