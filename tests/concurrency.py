"""Shared harness for the threaded PostgreSQL tests (reliability.md: one connection per thread, a Barrier releasing
them together, a canary that must fail)."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import close_old_connections, connection


def race(worker: Callable[[int], Any], n: int) -> list[Any]:
    """Run worker(i) in n threads released together; each uses and closes its own connection.

    Returns each thread's result, or the exception it raised, in thread order, for the caller to assert on."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = worker(i)
        except Exception as exc:  # collected and asserted by the caller
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()
    return results
