"""Probes for load balancers and supervisors, public and free of data (JSON bodies, never a secret).

- `/healthz`, liveness: the process answers. No database: a database outage must not get every web process restarted.
- `/readyz`, readiness: this process can do its work. The database answers, the task queue (django-q2's ORM broker,
  a table in the same database) is reachable, a worker ran the heartbeat task recently, and every check an app above
  the core registered holds (integrations: the vault's keys are present and open a stored secret). 503 naming the
  failed checks otherwise.

The worker's heartbeat is django-q2's own record of a scheduled task (`worker_heartbeat`, every minute): a Success row
proves the scheduler queued it and a worker ran it, with no table of ours. django-q2's cluster statistics are not
used: they live in Django's cache, which is per process here."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

HEARTBEAT_FUNC = "warehouse.health.worker_heartbeat"


def worker_heartbeat() -> str:
    """Scheduled every minute (warehouse/schedules.py); django-q2 records its run, which `/readyz` reads."""
    return timezone.now().isoformat()


def _heartbeat_max_age() -> dt.timedelta:
    return dt.timedelta(seconds=getattr(settings, "WORKER_HEARTBEAT_MAX_AGE", 180))


def _check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "vendor": connection.vendor}


def _check_broker() -> dict[str, Any]:
    from django_q.brokers import get_broker

    broker = get_broker()
    return {"ok": bool(broker.ping()), "queued": broker.queue_size()}


def _check_worker() -> dict[str, Any]:
    from django_q.models import Success

    last = Success.objects.filter(func=HEARTBEAT_FUNC).order_by("-stopped").values_list("stopped", flat=True).first()
    if last is None:
        return {"ok": False, "error": "no heartbeat yet: is `manage.py qcluster` running and `sync_schedules` applied?"}
    age = (timezone.now() - last).total_seconds()
    ok = age <= _heartbeat_max_age().total_seconds()
    return {
        "ok": ok,
        "last_heartbeat": last.isoformat(),
        "age_seconds": round(age, 1),
        **({} if ok else {"error": f"the last heartbeat is older than {_heartbeat_max_age().total_seconds():.0f} s"}),
    }


Check = Callable[[], dict[str, Any]]
_registered: dict[str, Check] = {}


def readiness_check_register(name: str, check: Check) -> None:
    """An app above the core adds a readiness check from its `AppConfig.ready()`, so the core imports none of them.
    A check returns a dict with `ok` and never a secret; registering a name again replaces it."""
    _registered[name] = check


def readiness() -> dict[str, dict[str, Any]]:
    """Each check's result; a check that raises is not ready, with the error's kind (never its text: it may carry a
    connection string)."""
    results: dict[str, dict[str, Any]] = {}
    core: dict[str, Check] = {"database": _check_database, "broker": _check_broker, "worker": _check_worker}
    for name, check in {**core, **_registered}.items():
        try:
            results[name] = check()
        except DatabaseError as exc:
            logger.warning("readiness check %s: %s", name, type(exc).__name__)
            results[name] = {"ok": False, "error": f"database unavailable ({type(exc).__name__})"}
    return results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = readiness()
    ready = all(check["ok"] for check in checks.values())
    response = JsonResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
    if not ready:
        response["Retry-After"] = "10"
        # A probe's 503 is a state the body explains, not a server error: Django would log each one at ERROR while a
        # load balancer polls a warming-up instance. (A check that meets a database error logs a warning.)
        response._has_been_logged = True  # type: ignore[attr-defined]
    return response
