"""A real django-q2 cluster for tests: `manage.py qcluster` in a subprocess of its own session, on the test
database (or any `database_url`), killed with its whole process group at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def current_database_url() -> str:
    """The URL of the database this test process uses (pytest-django's test database, per xdist worker)."""
    s = connection.settings_dict
    auth = quote(s["USER"] or "") + (f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def hub_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TEST_DB_NAME"}
    return env | {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", "PYTHONDONTWRITEBYTECODE": "1"} | extra


class Cluster:
    """One `qcluster` process group; `kill()` is a SIGKILL of every process in it (sentinel, workers, monitor)."""

    def __init__(self, database_url: str, log: Path, workers: int = 2, **env: str) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=ROOT,
                env=hub_env(database_url, Q_WORKERS=str(workers), **env),
                start_new_session=True,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@contextlib.contextmanager
def qcluster(log: Path, *, database_url: str | None = None, workers: int = 2) -> Iterator[Cluster]:
    cluster = Cluster(database_url or current_database_url(), log, workers)
    try:
        yield cluster
    finally:
        cluster.stop()


def wait_until(check: Callable[[], bool], *, within: float, what: str, log: Path | None = None) -> None:
    """Poll `check` until it holds; fail naming `what` (and the worker's log) after `within` seconds."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise AssertionError(f"not within {within:.0f} s: {what}\n--- worker log ---\n{tail}")
        time.sleep(0.25)
