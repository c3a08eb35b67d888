"""Django's own error pages, as JSON under /api/: a URL the router cannot match (an id like `1.5`), a request Django
refuses before any view, or an unhandled error answer with the API's error body, never an HTML page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

API_PREFIX = "/api/"


def _json_or(page: Any, status: int, detail: str) -> Any:
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            return JsonResponse({"detail": detail}, status=status)
        return page(request, *args, **kwargs)  # type: ignore[no-any-return]

    return view


bad_request = _json_or(defaults.bad_request, 400, "Bad request.")
page_not_found = _json_or(defaults.page_not_found, 404, "Not found.")
server_error = _json_or(defaults.server_error, 500, "Server error.")
