"""Data-migration tests: move the test database to a schema of the past, seed it through that schema's models, move it
forward, and leave it where it began (every app's latest migration) whatever the test did."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets: list[tuple[str, str]]) -> Any:
    """Migrate to `targets` (forwards or backwards) and return the historical apps of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def schema_at(targets: list[tuple[str, str]]) -> Iterator[Any]:
    """A fixture's body: the apps at `targets`, then the database back at the latest migrations."""
    apps = migrate(targets)
    yield apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
