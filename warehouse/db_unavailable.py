"""The database down answers 503 everywhere, never a 500: a middleware turns a connection-level database error
(OperationalError, InterfaceError: the server is down, restarting or refusing connections) into 503 Service
Unavailable, JSON for the API, the webhook inbox and the probes, a plain page otherwise. Every 503 of the webhook
inbox carries `Retry-After`, so a platform retries later rather than counting a failure. Nothing here touches the
database, and the page uses no template that would (no user, no menu)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
JSON_PREFIXES = ("/api/", "/webhooks/", "/healthz", "/readyz")
RETRY_PREFIXES = ("/webhooks/",)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Temporarily unavailable</h1>
<p>The database cannot be reached right now. Nothing you did caused this; please try again in a minute.</p>
</body></html>
"""


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(JSON_PREFIXES) or "application/json" in request.headers.get("Accept", "")


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    response: HttpResponse
    if _wants_json(request):
        message = "The database cannot be reached; retry later."
        # The API's error shape (`detail` and `reasons`, warehouse/api/errors.py), with a code a machine can test.
        body = {"error": "database_unavailable", "detail": message,
                "reasons": [{"code": "database_unavailable", "message": message}]}  # fmt: skip
        response = JsonResponse(body, status=503)
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        except (OperationalError, InterfaceError):
            # Reached only when an inner layer lets the error out (DEBUG_PROPAGATE_EXCEPTIONS); views are below.
            logger.warning("database unavailable for %s %s", request.method, request.path)
            return database_unavailable_response(request)
        if (
            response.status_code == 503
            and request.path.startswith(RETRY_PREFIXES)
            and not response.has_header("Retry-After")
        ):
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            # The error's text may name the host or user of the connection string: logged by kind only.
            logger.warning("database unavailable for %s %s: %s", request.method, request.path, type(exception).__name__)
            return database_unavailable_response(request)
        return None
