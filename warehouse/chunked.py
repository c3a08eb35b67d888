"""Request bodies sent with `Transfer-Encoding: chunked` (no Content-Length) read whole.

gunicorn decodes the chunks, but Django wraps `wsgi.input` in a stream limited to CONTENT_LENGTH, which is absent, so
every view (and the webhook signature check) read an empty body. This WSGI wrapper reads the decoded body once,
bounded by DATA_UPLOAD_MAX_MEMORY_SIZE (past it: 413 with a JSON body), and hands Django a sized stream.
Django's development server (runserver, live_server) drops chunked bodies before any application code sees them."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def chunked_bodies_read_whole(app: WSGIApp) -> WSGIApp:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            limit = int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440)
            body = environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                answer = json.dumps({"detail": f"The request body is larger than {limit:,} bytes."}).encode()
                headers = [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))]
                start_response("413 Content Too Large", headers)
                return [answer]
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return app(environ, start_response)

    return application
