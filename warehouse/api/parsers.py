"""The API's JSON parser, bounded in size and depth: a hostile body is a 400 or 413 with a JSON error body before any
view runs, never a 500 (Python's parser raises RecursionError near 1,000 levels) or Django's HTML 400."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from warehouse.jsonlimits import json_depth

MAX_JSON_DEPTH = 32  # our deepest request (a manual order's lines) nests 3 levels


def max_body_bytes() -> int:
    """The one size limit of an API body: Django's own, which `HttpRequest.body` enforces as it reads."""
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440)


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self) -> None:
        super().__init__(f"The request body is larger than {max_body_bytes():,} bytes.")


class TooDeep(ParseError):
    default_code = "too_deep"

    def __init__(self) -> None:
        super().__init__(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.")


class BoundedJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        # DRF hands JSONParser subclasses a BytesIO of `request.body`, already bounded by Django (RequestDataTooBig
        # becomes a 413 in warehouse.api.errors); any other stream is bounded here.
        raw = stream.read(max_body_bytes() + 1) if stream is not None else b""
        if len(raw) > max_body_bytes():
            raise PayloadTooLarge
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise TooDeep from None
        if json_depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
            raise TooDeep
        return data
